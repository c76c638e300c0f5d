"""`make run`'s supervisor: web and workers come up together and Ctrl-C stops every one of them."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest
import requests

from tests.site.processes import manage_popen, migrated_sqlite, process_env

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_using(marker: str) -> list[int]:
    """PIDs whose environment mentions marker (this test's private database path)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_stack_serves_login_and_ctrl_c_stops_everything(tmp_path):
    """The login page is served; SIGINT to the supervisor leaves no web or worker process behind."""
    database_url = migrated_sqlite(tmp_path)
    port = free_port()
    stack = manage_popen(
        process_env(database_url, Q_WORKERS="2"), "run_stack", "--port", str(port), log=tmp_path / "s.log"
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/login/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, (tmp_path / "s.log").read_text()
                time.sleep(0.2)
        assert response.status_code == 200
        assert len(processes_using(str(tmp_path))) >= 3  # supervisor, gunicorn master + workers, qcluster
        stack.send_signal(signal.SIGINT)
        assert stack.wait(timeout=20) == 0
        deadline = time.monotonic() + 5
        while processes_using(str(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_using(str(tmp_path)) == []
    finally:
        if stack.poll() is None:
            stack.kill()

"""Real processes on a private PostgreSQL database: qcluster workers to start and SIGKILL, an operator process to
act and read rows, and the simulator in the test process, which the workers reach over loopback."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from tests.conftest import require_service, tcp_reachable
from tests.site.processes import REPO, manage_popen, manage_run, process_env

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/fundarb")

# The executor's offsets for these tests (the same fast timeline as the in-process scenarios).
FAST_ENV = {
    "EXECUTOR_ARM_AHEAD": "60",
    "EXECUTOR_PREFLIGHT_BEFORE_SYNC": "1",
    "EXECUTOR_SYNC_BEFORE": "2.5",
    "EXECUTOR_SYNC_MIN_GAP": "1",
    "EXECUTOR_OPEN_CUTOFF": "0.3",
    # Longer than the 2 s window these tests need to SIGKILL a worker inside an order lookup.
    "EXECUTOR_UNKNOWN_ORDER_GRACE": "3",
    "EXECUTOR_PNL_FIRST_LOOK": "1",
    "EXECUTOR_PROOF_POLL": "0.2",
    "EXECUTOR_RECONCILE_GRACE": "2",
    # The venues' settlement rules on the suite's time scale (tests/settings.py), for the workers and the simulator.
    "EXECUTOR_TIME_SCALE": os.environ.get("EXECUTOR_TIME_SCALE", "0.016"),
    "Q_WORKERS": "2",
    "LOG_LEVEL": "INFO",
}


def require_postgres() -> str:
    if not tcp_reachable(POSTGRES_URL, 5432):
        require_service("PostgreSQL", f"nothing listens at {POSTGRES_URL} (set TEST_POSTGRES_URL)")
    return POSTGRES_URL


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(_with_database(POSTGRES_URL, "postgres"), autocommit=True) as connection:
        connection.execute(sql)


class Databases:
    """A migrated template (once per module) and a clone of it per test: CREATE DATABASE ... TEMPLATE is instant."""

    def __init__(self) -> None:
        self.prefix = f"fundarb_rel_{secrets.token_hex(4)}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []

    def migrate_template(self) -> None:
        _admin_sql(f'CREATE DATABASE "{self.template}"')
        self.created.append(self.template)
        env = process_env(_with_database(POSTGRES_URL, self.template))
        manage_run(env, "migrate", "--noinput", "-v", "0", timeout=300)
        # No periodic schedules: each test enqueues exactly the work it means (planner, driver, reconciler).
        manage_run(
            env, "shell", "-v", "0", "-c", "from django_q.models import Schedule; Schedule.objects.all().delete()"
        )

    def clone(self) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return _with_database(POSTGRES_URL, name)

    def drop(self, url: str) -> None:
        name = urlparse(url).path.lstrip("/")
        with suppress(Exception):
            _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        for name in reversed(self.created):
            with suppress(Exception):
                _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Operator:
    """``python -m tests.reliability.operator`` on the test's database: one JSON request, one JSON answer."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.operator"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,
        )
        ready = self._read()
        assert ready.get("ready"), ready

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the operator process died: see {self._log.name}")
        return json.loads(line)

    def __call__(self, op: str, **args: Any) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        if not answer["ok"]:
            raise RuntimeError(f"operator {op} failed: {answer['error']}\n{answer.get('trace', '')}")
        return answer["result"]

    def close(self) -> None:
        with suppress(Exception):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()


class Cluster:
    """A real ``manage.py qcluster`` in its own session, so SIGKILL can take its whole process tree at once."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = manage_popen(env, "qcluster", log=log)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_running(self, timeout: float = 45) -> None:
        wait_for(lambda: "running." in self.text(), timeout=timeout, what=f"qcluster up ({self.log})")

    def kill(self) -> None:
        """SIGKILL the process group: the cluster's master, sentinel, pusher, monitor and every worker, mid-step."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def processed(self, func: str) -> int:
        """How many tasks of ``func`` this cluster's workers picked up (from its log)."""
        return sum(1 for line in self.text().splitlines() if "processing" in line and func in line)


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {what}")
        time.sleep(every)


def cluster_env(database_url: str, **extra: str) -> dict[str, str]:
    return process_env(database_url, **{**FAST_ENV, **extra})


def simulator_env(simulator) -> dict[str, str]:
    """Demo mode at ``simulator``: simulator accounts exist only there, in every process that uses them."""
    return {"DEMO_SIMULATOR": "true", "SIMULATOR_URL": simulator.base_url}

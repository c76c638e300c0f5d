"""The server (threads, keep-alive), the HTTP control API and its client, and the management command."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests

from arbitrage.management.commands.run_simulator import build_simulator, parse_account
from exchanges.simulator import ControlError, Simulator, SimulatorControl

from .signing import BybitRaw

REPO = Path(__file__).resolve().parents[2]


def test_parallel_requests_really_run_in_parallel(sim: Simulator) -> None:
    """Two requests with latency L each finish together in well under 2 L."""
    latency = 0.4
    sim.faults("bybit").latency(int(latency * 1000))
    sim.faults("bingx").latency(int(latency * 1000))
    results: list[int] = []

    def call(path: str) -> None:
        results.append(requests.get(f"{sim.base_url}{path}", timeout=5).status_code)

    threads = [
        threading.Thread(target=call, args=("/v5/market/time",)),
        threading.Thread(target=call, args=("/openApi/swap/v2/server/time",)),
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert results == [200, 200]
    assert latency <= elapsed < 1.5 * latency


def test_keep_alive_reuses_the_connection(sim: Simulator) -> None:
    """HTTP/1.1 with Content-Length: several requests travel over one socket."""
    parsed = urlparse(sim.base_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
    connection.request("GET", "/v5/market/time")
    first = connection.getresponse()
    first.read()
    sock = connection.sock
    assert first.version == 11 and first.getheader("Content-Length")
    connection.request("GET", "/openApi/swap/v2/server/time")
    second = connection.getresponse()
    second.read()
    assert second.status == 200 and connection.sock is sock is not None
    connection.close()


def test_http_control_client(sim: Simulator) -> None:
    """``SimulatorControl`` drives a simulator through ``/_sim/...`` exactly like the in-process API."""
    control = SimulatorControl(sim.base_url)
    assert control.health()["venues"] == ["bybit", "bingx"]
    account = control.add_account("bybit", "remote", "secret", hedge=True, balance="2500")
    assert (account["balance"], account["hedge"]) == ("2500", True)
    control.faults("bybit").fail_next("/v5/position/list", code=10016)
    raw = BybitRaw(sim.base_url, "remote", "secret")
    assert raw.get("/v5/position/list", category="linear", symbol="BTCUSDT").json()["retCode"] == 10016
    assert control.set_next_funding("BTCUSDT", "bybit", in_seconds=30)["next_ms"] > time.time() * 1000
    assert control.set_mark_price("BTCUSDT", "70000")["index"] == "70000"
    assert control.positions("bybit", "remote") == [] and control.orders("bybit", "remote") == []
    with pytest.raises(ControlError):
        control.account("bybit", "nobody")
    answer = requests.get(f"{sim.base_url}/_sim/orders", params={"venue": "bybit", "api_key": "remote"}, timeout=5)
    assert answer.json() == {"ok": True, "result": []}
    assert requests.get(f"{sim.base_url}/_sim/reset", timeout=5).status_code == 400  # state changes need POST
    control.reset()
    with pytest.raises(ControlError):
        control.account("bybit", "remote")
    control.close()


def test_parse_account_flag() -> None:
    """The secret is everything after the second colon; a trailing ``:hedge`` selects hedge mode."""
    spec = parse_account("bingx:key:se:cr:et:hedge")
    assert (spec.venue, spec.api_key, spec.api_secret, spec.hedge) == ("bingx", "key", "se:cr:et", True)
    assert parse_account("bybit:key:se:cr:et").api_secret == "se:cr:et"
    for bad in ("kraken:k:s", "bybit:k", "bybit::s"):
        with pytest.raises(ValueError):
            parse_account(bad)


def test_build_simulator_from_flags() -> None:
    """Flags become accounts and faults on an unstarted simulator."""
    sim = build_simulator(
        port=0,
        funding_interval=120,
        accounts=["bybit:k:s", "bingx:k:s:hedge"],
        skew=["bybit:1500"],
        error_rate=["bingx:0.25"],
    )
    assert sim.account("bingx", "k")["hedge"] is True
    assert sim.faults("bybit").describe()["skew_ms"] == 1500
    assert sim.faults("bingx").describe()["error_rate"] == 0.25
    assert all(m["bybit"]["interval"] == 120 for m in sim.markets().values())


@pytest.mark.slow
def test_management_command_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    """``manage.py run_simulator`` prints its URL first, serves, and saves its state on SIGTERM."""
    state = tmp_path / "sim.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings")}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_simulator", "--port", "0", "--state", str(state),
         "--account", "bybit:demo:se:cret"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert SimulatorControl(url).account("bybit", "demo")["balance"] == "10000"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert state.exists()

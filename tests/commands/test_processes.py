"""The commands as scripts run them: real manage.py processes, stdout carrying only the result, exit codes 0/1.

The simulator runs in this test process (``venue_sim``); the subprocesses reach it over loopback and share a
migrated throw-away SQLite database.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.site.processes import REPO, migrated_sqlite, process_env

pytestmark = pytest.mark.slow

SETUP_USERS = (
    "from django.contrib.auth import get_user_model; U = get_user_model(); "
    "U.objects.create_user('alice', password='alice-password-1'); U.objects.create_user('bob', password='b-pass-1')"
)


def manage(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """manage.py with ``stdin``; unlike ``processes.manage_run`` a non-zero exit is returned, not raised."""
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def assert_ok(process: subprocess.CompletedProcess) -> str:
    assert process.returncode == 0, process.stderr
    return process.stdout


def assert_user_mistake(process: subprocess.CompletedProcess, expected: str) -> None:
    """Exit 1, nothing on stdout, and one CommandError line on stderr (no usage text, no traceback)."""
    assert process.returncode == 1, (process.stdout, process.stderr)
    assert process.stdout == ""
    assert "Traceback" not in process.stderr
    lines = process.stderr.splitlines()
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith("CommandError: ") and expected in lines[0], lines[0]


@pytest.fixture
def env(tmp_path, venue_sim):
    """A migrated database with alice and bob, demo mode at the test's simulator, market data read from it."""
    env = process_env(
        migrated_sqlite(tmp_path),
        DEMO_SIMULATOR="true",
        SIMULATOR_URL=venue_sim.base_url,
        MARKET_DATA_ENVIRONMENT="simulator",
    )
    assert_ok(manage(env, "shell", "-c", SETUP_USERS))
    return env


def add_sim_account(env, venue_sim, exchange: str) -> int:
    venue_sim.add_account(exchange, f"{exchange}-key", f"{exchange}-secret")
    out = assert_ok(
        manage(
            env, "add_account", "--user", "alice", "--exchange", exchange, "--label", f"{exchange} main",
            "--api-key", f"{exchange}-key", "--environment", "simulator",
            stdin=f"{exchange}-secret\n",
        )
    )  # fmt: skip
    assert out.strip().isdigit() and out == f"{out.strip()}\n"
    return int(out)


def test_process_account_commands(env, venue_sim):
    """add_account prints only the id; check_account prints the check; mistakes exit 1 with one stderr line."""
    bybit = add_sim_account(env, venue_sim, "bybit")
    assert_user_mistake(
        manage(env, "add_account", "--user", "alice", "--exchange", "bybit", "--label", "bybit main",
               "--api-key", "k", stdin="s\n"),
        "--label: You already have an account labelled 'bybit main'",
    )  # fmt: skip
    assert_user_mistake(
        manage(env, "add_account", "--user", "alice", "--exchange", "bybit", "--label", "x", "--api-key", "k"),
        "secret is empty",
    )
    assert_user_mistake(
        manage(env, "add_account", "--user", "alice", "--exchange", "kraken", "--label", "x", "--api-key", "k"),
        "argument --exchange: invalid choice: 'kraken'",
    )
    assert_user_mistake(manage(env, "add_account", "--user", "alice"), "the following arguments are required")
    assert_user_mistake(
        manage(env, "add_account", "--user", "nobody", "--exchange", "bybit", "--label", "x", "--api-key", "k"),
        "no user named 'nobody'",
    )

    out = assert_ok(manage(env, "check_account", "bybit main", "--user", "alice"))
    assert out.splitlines()[0] == f"account #{bybit} bybit main (Bybit, simulator)"
    assert "result: ok" in out
    assert_user_mistake(manage(env, "check_account", "bybit main", "--user", "bob"), "no account of user 'bob'")
    assert_user_mistake(manage(env, "check_account", "12345"), "no account with id or label '12345'")


def test_process_check_account_failure_exits_1(env, venue_sim):
    """A refused key: the FAILED report on stdout, the reason as the last stderr line, exit 1."""
    account = add_sim_account(env, venue_sim, "bingx")
    venue_sim.set_permissions("bingx", "bingx-key", can_trade=False)
    process = manage(env, "check_account", str(account))
    assert process.returncode == 1
    assert "result: FAILED" in process.stdout
    assert process.stderr.splitlines()[-1].startswith(f"CommandError: check of account #{account} failed: ")
    assert "Traceback" not in process.stderr


def test_process_subscription_commands(env, venue_sim):
    """subscribe prints only the id; sync_leverage prints each venue and exits 1 on a venue failure."""
    add_sim_account(env, venue_sim, "bybit")
    add_sim_account(env, venue_sim, "bingx")
    base = ("subscribe", "--user", "alice", "--symbol", "DOGEUSDT", "--primary", "bybit main", "--hedge", "bingx main")
    assert_user_mistake(manage(env, *base, "--quantity", "100", "--leverage", "abc"), "--leverage: 'abc'")
    assert_user_mistake(manage(env, *base, "--quantity", "100", "--leverage", "60"), "BingX allows at most 50x")
    assert_user_mistake(manage(env, *base, "--quantity", "NaN"), "--quantity: 'NaN' is not a number")
    out = assert_ok(manage(env, *base, "--quantity", "100"))
    subscription = int(out)
    assert out == f"{subscription}\n"

    lines = assert_ok(manage(env, "sync_leverage", str(subscription), "--leverage", "4")).splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["Bybit", "BingX"]
    assert lines[2].startswith("leverage 4x synced in ")

    venue_sim.faults("bingx").fail_next("POST /openApi/swap/v2/trade/leverage", code=109400)
    process = manage(env, "sync_leverage", str(subscription), "--leverage", "5")
    assert process.returncode == 1
    assert process.stdout.splitlines()[1].startswith("BingX: FAILED ")
    assert process.stderr.splitlines()[-1].startswith(f"CommandError: subscription #{subscription}: Leverage 5x")
    assert "Traceback" not in process.stderr
    assert_user_mistake(manage(env, "sync_leverage", str(subscription), "--leverage", "0"), "--leverage")
    assert_user_mistake(manage(env, "sync_leverage", "999"), "SUBSCRIPTION: no subscription with id 999")


CREATE_EXECUTION = """
from datetime import UTC, datetime, timedelta
from arbitrage.models import Execution, Subscription
s = Subscription.objects.get()
t = datetime(2026, 11, 24, 8, tzinfo=UTC)
Execution.objects.create(subscription=s, owner_id=s.owner_id, funding_time=t, status="skipped", status_changed_at=t,
    deadline_at=t, symbol=s.symbol, primary_venue="bybit", hedge_venue="bingx", leverage=3, lead_seconds=5,
    close_delay_seconds=10)
"""


def test_process_executions_json_is_the_whole_stdout(env, venue_sim):
    """executions --json: stdout parses as JSON as a whole; a bad --limit exits 1 with one line."""
    assert json.loads(assert_ok(manage(env, "executions", "--json"))) == []
    add_sim_account(env, venue_sim, "bybit")
    add_sim_account(env, venue_sim, "bingx")
    assert_ok(manage(env, "subscribe", "--user", "alice", "--symbol", "BTCUSDT", "--primary", "bybit main",
                     "--hedge", "bingx main", "--quantity", "0.01"))  # fmt: skip
    assert_ok(manage(env, "shell", "-c", CREATE_EXECUTION))
    [row] = json.loads(assert_ok(manage(env, "executions", "--json", "--user", "alice")))
    assert (row["status"], row["funding_time"], row["user"]) == ("skipped", "2026-11-24T08:00:00.000Z", "alice")
    assert "skipped" in assert_ok(manage(env, "executions"))
    assert_user_mistake(manage(env, "executions", "--limit", "0"), "--limit")
    assert_user_mistake(manage(env, "executions", "--user", "ghost"), "no user named 'ghost'")


def test_process_funding_rates(env, venue_sim):
    """funding_rates --json: stdout is exactly the JSON list; an unknown symbol exits 1 with one line."""
    rows = json.loads(assert_ok(manage(env, "funding_rates", "BTCUSDT", "ETHUSDT", "--json")))
    assert [row["symbol"] for row in rows] == ["BTCUSDT", "ETHUSDT"]
    assert assert_ok(manage(env, "funding_rates")).splitlines()[0].startswith("SYMBOL")
    assert_user_mistake(manage(env, "funding_rates", "FOOUSDT"), "FOOUSDT is not listed on Bybit nor BingX")
    assert_user_mistake(manage(env, "funding_rates", "BTC USDT"), "SYMBOL: 'BTC USDT'")

"""Suite-wide fixtures.

Services (PostgreSQL, Redis, Chromium) are optional on a laptop and required under CI: `require_service` skips
with the reason locally and fails the test when `CI=true`, so a missing service can never pass CI silently.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, reason: str) -> None:
    """Skip (laptop) or fail (CI) a test whose service is missing."""
    message = f"{name} unavailable: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: {name} tests must run, not skip)", pytrace=False)
    pytest.skip(message)


def tcp_reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not tcp_reachable(url, 6379):
        require_service("Redis", f"nothing listens at {url} (set TEST_REDIS_URL)")
    return url


# --- The executor's timeline, shrunk so a whole cycle (preflight, sync, open, hold, close, P&L) takes seconds ----

FAST_TIMELINE = {
    "ARM_AHEAD": 60,
    "PREFLIGHT_BEFORE_SYNC": 1.0,
    "SYNC_BEFORE": 2.5,
    "SYNC_MIN_GAP": 1.0,
    "OPEN_CUTOFF": 0.3,
    "UNKNOWN_ORDER_GRACE": 1.5,
    "PNL_FIRST_LOOK": 1.5,
    "PROOF_POLL": 0.2,
    "RECONCILE_GRACE": 3,
    "ORDER_SETTLE": 0.5,
    "OPEN_SETTLE_WAIT": 0.1,
    "CONVERGE_BUDGET": 8,
    "CONVERGE_PAUSE": 0.1,
    "CONVERGE_MAX_PAUSE": 1.0,
    "OPEN_RETRY_AFTER": 0.2,
    "LEASE": 3,
    "RECONCILE_BUDGET": 6,
    "RECONCILE_MAX_BACKOFF": 6,
}


@pytest.fixture
def fast_timeline(settings):
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, **FAST_TIMELINE}


# --- Users, the simulator and accounts on it: shared by executor, web and command tests -------------------------


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", email="alice@example.com", password="alice-password-1")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", email="bob@example.com", password="bob-password-1")


NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, so a venue call fails at once


@pytest.fixture
def simulator_nowhere(settings):
    """Demo mode with the simulator where nothing listens: simulator accounts only the database ever sees."""
    settings.DEMO_SIMULATOR = True
    settings.SIMULATOR_URL = NOWHERE


@pytest.fixture
def venue_sim(settings):
    """A fresh in-process simulator with frozen marks and rates (exact amounts), on an ephemeral port, as the demo
    mode's SIMULATOR_URL (simulator accounts exist only in demo mode, at that URL).

    Venue clients and limits cached during the test belong to it, and are dropped with it.
    """
    from django.core.cache import cache

    from arbitrage.services.clients import forget_clients
    from exchanges.simulator import Simulator

    with Simulator(seed=11, random_walk=False) as simulator:
        settings.DEMO_SIMULATOR = True
        settings.SIMULATOR_URL = simulator.base_url
        yield simulator
    forget_clients()
    cache.clear()


def make_sim_account(sim, owner, venue: str, *, label: str | None = None, hedge: bool = False, balance="10000"):
    """An account on the simulator (``venue_sim``'s) and the matching ExchangeAccount row."""
    from decimal import Decimal

    from django.conf import settings

    from arbitrage.services.accounts import account_create

    assert settings.DEMO_SIMULATOR and sim.base_url == settings.SIMULATOR_URL, "demo mode at this simulator first"
    key = f"{owner.username}-{venue}-{label or 'main'}-key".lower()
    secret = f"{owner.username}-{venue}-secret-{label or 'main'}"
    sim.add_account(venue, key, secret, hedge=hedge, balance=Decimal(balance))
    return account_create(
        owner=owner,
        exchange=venue,
        label=label or f"{venue} main",
        api_key=key,
        api_secret=secret,
        environment="simulator",
    )


@pytest.fixture
def sim_accounts(venue_sim, user):
    """alice's Bybit and BingX accounts on the simulator (one-way mode)."""
    return make_sim_account(venue_sim, user, "bybit"), make_sim_account(venue_sim, user, "bingx")


# --- A session-wide check: no final status while a simulator still holds that execution's position --------------

_STARTED_SIMULATORS: list = []


@pytest.fixture(autouse=True, scope="session")
def _track_simulators():
    """Every Simulator a test starts is watched by ``pytest_runtest_call`` below."""
    from exchanges.simulator import runtime

    original = runtime.Simulator.start

    def start(self):
        url = original(self)
        if self not in _STARTED_SIMULATORS:
            _STARTED_SIMULATORS.append(self)
        return url

    runtime.Simulator.start = start
    yield
    runtime.Simulator.start = original


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _STARTED_SIMULATORS.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After the test body (the database and the simulators still up): any execution in a final status whose own
    orders still net to a position on a simulator fails the test, whatever the test itself checked."""
    result = yield
    if _STARTED_SIMULATORS and item.get_closest_marker("django_db") is not None:
        from tests.invariants import positions_left_by_final_executions

        left = [problem for sim in _STARTED_SIMULATORS for problem in positions_left_by_final_executions(sim)]
        if left:
            pytest.fail("final status with a position still open: " + "; ".join(left), pytrace=False)
    return result

"""The fault matrix: one funding instant per scenario against the simulator, each fault on each venue.

Every scenario runs a whole cycle (plan, preflight, leverage sync, open, hold, close) on a fast timeline, with one
venue misbehaving, and ends with the same checks: orders and positions counted on the simulator (no duplicate, no
naked leg, nothing the database does not know), exactly one execution, a terminal status from the scenario's
allowed set and a message when it did not complete. Each scenario reports a row for RELIABILITY.md.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from arbitrage.models import Execution, ExecutionEvent, Order, Subscription
from arbitrage.services import clients as clients_module
from arbitrage.services import driver as driver_module
from arbitrage.services.driver import instant_drive
from arbitrage.services.planner import executions_plan
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create
from exchanges.factory import make_client
from exchanges.simulator import DEFAULT_MARKETS, Simulator
from exchanges.simulator.ratelimit import Verdict
from tests.conftest import FAST_TIMELINE as SHARED_FAST_TIMELINE
from tests.conftest import make_sim_account
from tests.reliability.conftest import Row
from tests.reliability.invariants import LABELS, counted_text, venue_count, violations

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SYMBOL = "ETHUSDT"
LEVERAGE = 5
QUANTITY = Decimal("0.5")
# The venues' (connect, read) timeouts, shrunk like the timeline so a held answer times out in seconds.
CLIENT_TIMEOUT = (2.0, 2.5)
HOLD_SECONDS = 4.0  # a "timeout" fault holds the answer longer than the read timeout

ENDPOINTS = {
    "bybit": {
        "order": "POST /v5/order/create",
        "leverage": "POST /v5/position/set-leverage",
        "positions": "GET /v5/position/list",
    },
    "bingx": {
        "order": "POST /openApi/swap/v2/trade/order",
        "leverage": "POST /openApi/swap/v2/trade/leverage",
        "positions": "GET /openApi/swap/v2/user/positions",
    },
}

# The suite's fast timeline; funding is looked up a little sooner so each scenario ends quicker.
FAST_TIMELINE = {**SHARED_FAST_TIMELINE, "PNL_FIRST_LOOK": 1.0}


@dataclass
class World:
    """One scenario's simulator, accounts and subscription; ``faulty`` is the venue that misbehaves."""

    sim: Simulator
    faulty: str
    role: str  # the faulty venue's role: primary or hedge
    accounts: dict[str, Any]  # venue -> ExchangeAccount
    user: Any

    @property
    def other(self) -> str:
        return "bingx" if self.faulty == "bybit" else "bybit"

    @property
    def primary_venue(self) -> str:
        return self.faulty if self.role == "primary" else self.other

    @property
    def faults(self):
        return self.sim.faults(self.faulty)

    def endpoint(self, name: str) -> str:
        return ENDPOINTS[self.faulty][name]

    @property
    def key(self) -> str:
        return self.accounts[self.faulty].api_key


Step = Callable[[World], None]


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    injected: str  # {venue} is the faulty venue's name, {role} its role
    must_hold: str
    allowed: tuple[str, ...]
    before: Step | None = None  # before the instant is armed
    after_sync: Step | None = None  # once leverage is synced on both venues, before the trigger
    roles: tuple[str, ...] = ("hedge",)
    timeline: dict[str, float] = field(default_factory=dict)
    in_seconds: float = 4.5
    hedge_mode: bool = False
    max_leverage: int | None = None  # the faulty venue's max leverage for the symbol
    message_has: str = ""  # a word the execution's message must contain


def _refuse_next(world: World, endpoint: str, *, count: int, reset_ms: int = 300) -> None:
    """The venue's own rate limiter refuses the next ``count`` calls of ``endpoint``, with its real reset headers."""
    method, path = endpoint.split(" ", 1)
    limiter = world.sim.limiter
    original = limiter.hit
    left = [count]

    def hit(key: tuple[str, ...], limit: int) -> Verdict:
        ours = key[0] == world.faulty and key[-1] == path and (world.faulty == "bybit" or key[2] == method)
        if ours and left[0] > 0:
            left[0] -= 1
            return Verdict(allowed=False, limit=limit, remaining=0, reset_in_ms=reset_ms)
        return original(key, limit)

    limiter.hit = hit  # type: ignore[method-assign]


def _rotate_key(world: World) -> None:
    """The secret is changed on the venue (a key rotation) but not in fundarb: every signature is now wrong."""
    world.sim.add_account(world.faulty, world.key, "rotated-secret-fundarb-does-not-know")


def _drain_margin(world: World) -> None:
    world.sim.set_balance(world.faulty, world.key, "40")


SCENARIOS = [
    Scenario(
        "latency",
        "Latency spike",
        "+250 ms on every {venue} call (half each way), from preflight to close",
        "completes on time; one open and one close per leg",
        ("completed",),
        before=lambda w: w.faults.latency(250),
    ),
    Scenario(
        "timeout_open",
        "Timeout on the open order",
        "{venue} applies the open order and holds the answer 4 s (read timeout 2.5 s)",
        "outcome resolved by client-id lookup, never resent; completes",
        ("completed",),
        before=lambda w: w.faults.timeout(w.endpoint("order"), seconds=HOLD_SECONDS),
        roles=("primary", "hedge"),
    ),
    Scenario(
        "timeout_leverage",
        "Timeout on set leverage",
        "{venue} applies set-leverage and holds the answer 4 s",
        "the idempotent write is retried; leverage verified before any order; completes",
        ("completed",),
        before=lambda w: w.faults.timeout(w.endpoint("leverage"), seconds=HOLD_SECONDS),
        timeline={"SYNC_BEFORE": 7.0},
        in_seconds=9.5,
    ),
    Scenario(
        "http_5xx_reads",
        "5xx on reads",
        "the next two {venue} calls answer HTTP 503 (gateway page)",
        "reads retried with backoff; completes",
        ("completed",),
        before=lambda w: w.faults.fail_next("*", count=2, http_status=503),
    ),
    Scenario(
        "http_5xx_order",
        "5xx on the open order",
        "{venue} answers the open order HTTP 502, not applied",
        "unknown outcome looked up, not resent; the other leg is unwound; both flat",
        ("unwound",),
        before=lambda w: w.faults.fail_next(w.endpoint("order"), http_status=502),
        roles=("primary", "hedge"),
        message_has="unwound",
    ),
    Scenario(
        "rate_limit_reads",
        "Rate limit on reads",
        "{venue} refuses the next 2 position reads (Bybit 10006 / BingX HTTP 429 + 100410) with reset headers",
        "reads wait for the advertised reset and retry; completes",
        ("completed",),
        before=lambda w: _refuse_next(w, w.endpoint("positions"), count=2),
    ),
    Scenario(
        "rate_limit_order",
        "Rate limit on the open order",
        "{venue} refuses the open order as rate limited (reset headers), not applied",
        "the order is not retried blindly; the other leg is unwound; both flat",
        ("unwound",),
        before=lambda w: _refuse_next(w, w.endpoint("order"), count=1),
        message_has="unwound",
    ),
    Scenario(
        "skew_ahead",
        "Clock skew +3 s",
        "{venue}'s clock runs 3 s ahead",
        "offset measured; signed requests accepted; trigger on the primary's clock; completes",
        ("completed",),
        before=lambda w: w.faults.skew(3000),
        roles=("primary", "hedge"),
    ),
    Scenario(
        "skew_behind",
        "Clock skew -3 s",
        "{venue}'s clock runs 3 s behind",
        "offset measured; signed requests accepted; trigger on the primary's clock; completes",
        ("completed",),
        before=lambda w: w.faults.skew(-3000),
        roles=("primary", "hedge"),
        in_seconds=7.5,  # armed on the venue's clock: a primary 3 s behind makes the instant 3 s nearer
    ),
    Scenario(
        "bad_signature_before",
        "Bad signature after a key change",
        "the API secret is rotated on {venue} before preflight",
        "preflight fails with the venue's reason; no order anywhere",
        ("failed",),
        before=_rotate_key,
        message_has="Preflight",
    ),
    Scenario(
        "bad_signature_after_sync",
        "Bad signature after a key change, mid-instant",
        "the API secret is rotated on {venue} after the leverage sync, before the trigger",
        "the {venue} order is refused; the other leg is unwound; both flat",
        ("unwound",),
        after_sync=_rotate_key,
        message_has="unwound",
    ),
    Scenario(
        "malformed_order",
        "Malformed body on the open order",
        "{venue} applies the open order and answers HTTP 200 with JSON cut off mid-body",
        "unreadable answer treated as unknown, looked up, not resent; completes",
        ("completed",),
        before=lambda w: w.faults._add("malformed", endpoint=w.endpoint("order")),
        roles=("primary", "hedge"),
    ),
    Scenario(
        "malformed_read",
        "Malformed body on a read",
        "{venue} answers a preflight position read with JSON cut off mid-body",
        "the read is retried (one bad body is transient); completes",
        ("completed",),
        before=lambda w: w.faults._add("malformed", endpoint=w.endpoint("positions")),
    ),
    Scenario(
        "leverage_above_max",
        "Leverage above the symbol's max on one venue",
        "{venue} allows at most 3x for ETHUSDT; the subscription asks 5x (the other venue allows it)",
        "preflight fails naming the venue and both numbers; no order, no leverage change",
        ("failed",),
        max_leverage=3,
        message_has="at most 3x",
    ),
    Scenario(
        "hedge_mode",
        "Account in hedge mode",
        "the {venue} account is in hedge (two-sided) position mode",
        "orders carry the right position side; closes reduce that side; completes",
        ("completed",),
        hedge_mode=True,
        roles=("primary", "hedge"),
    ),
    Scenario(
        "margin_preflight",
        "Insufficient margin",
        "the {venue} account holds 40 USDT; 0.5 ETH at 5x needs ~374",
        "preflight fails stating available and needed margin; no order",
        ("failed",),
        before=_drain_margin,
        message_has="USDT",
    ),
    Scenario(
        "margin_after_sync",
        "Insufficient margin at the trigger",
        "the {venue} balance drops to 40 USDT after the leverage sync",
        "the {venue} order is refused for margin; the other leg is unwound; both flat",
        ("unwound",),
        after_sync=_drain_margin,
        message_has="unwound",
    ),
    Scenario(
        "drop_response",
        "Order applied, response dropped",
        "{venue} applies the open order and closes the connection unanswered",
        "found by client id, never resent; completes",
        ("completed",),
        before=lambda w: w.faults.drop_response(w.endpoint("order")),
        roles=("primary", "hedge"),
    ),
    Scenario(
        "drop_request",
        "Order request lost",
        "{venue} closes the connection on the open order without applying it",
        "after the grace of normal 'not found' answers it counts as not placed; other leg unwound",
        ("unwound",),
        before=lambda w: w.faults.drop_request(w.endpoint("order")),
        message_has="unwound",
    ),
    Scenario(
        "partial_fill",
        "Partial fill",
        "{venue} fills half of the open order (IOC rest cancelled)",
        "the larger leg is trimmed to match; hedged pair held and closed; completes",
        ("completed",),
        before=lambda w: w.faults.partial_fill("0.5"),
    ),
    Scenario(
        "processing",
        "Order still processing",
        "{venue} fills the order but its queries answer 'processing' for 1.5 s",
        "fills are awaited, nothing resent; completes",
        ("completed",),
        before=lambda w: w.faults.processing(seconds=1.5),
    ),
]

CASES = [
    pytest.param(scenario, venue, role, id=f"{scenario.key}-{venue}-{role}")
    for scenario in SCENARIOS
    for role in scenario.roles
    for venue in ("bybit", "bingx")
]


@pytest.fixture
def short_client_timeouts(monkeypatch) -> None:
    """Venue clients with a short read timeout, so a held answer times out within the fast timeline."""
    monkeypatch.setattr(clients_module, "make_client", functools.partial(make_client, timeout=CLIENT_TIMEOUT))


def _markets(faulty: str, max_leverage: int | None) -> tuple:
    if max_leverage is None:
        return DEFAULT_MARKETS
    markets = []
    for spec in DEFAULT_MARKETS:
        if spec.symbol == SYMBOL:
            rules = dataclasses.replace(spec.rules(faulty), max_leverage=max_leverage)
            spec = dataclasses.replace(spec, **{faulty: rules})
        markets.append(spec)
    return tuple(markets)


@pytest.fixture
def sim_for(settings) -> Iterator[Callable[..., Simulator]]:
    """Start a simulator for the scenario (its markets may differ from the defaults), as the demo mode's simulator;
    stopped at teardown."""
    started: list[Simulator] = []

    def start(markets: tuple) -> Simulator:
        simulator = Simulator(seed=11, random_walk=False, symbols=markets)
        simulator.start()
        started.append(simulator)
        settings.DEMO_SIMULATOR, settings.SIMULATOR_URL = True, simulator.base_url
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


def _drive(world: World, scenario: Scenario, monkeypatch) -> Subscription:
    """Subscribe, inject, arm the instant a few seconds ahead and drive it to the end."""
    primary = world.accounts[world.primary_venue]
    hedge = world.accounts[world.other if world.role == "primary" else world.faulty]
    subscription = subscription_create(
        owner=world.user,
        data=SubscriptionInput(
            symbol=SYMBOL,
            primary_account=primary,
            hedge_account=hedge,
            quantity=QUANTITY,
            leverage=LEVERAGE,
            lead_seconds=1,
            close_delay_seconds=1,
            min_edge_bps=Decimal("-1000"),  # mechanics, not profitability
        ),
        check_live_limits=scenario.max_leverage is None,  # "the venue lowered its limit after the subscription"
    )
    world.sim.set_funding_rate(SYMBOL, world.primary_venue, "0.0030")
    if scenario.after_sync is not None:
        original_sync = driver_module.execution_sync

        def sync_then_inject(plan) -> bool:
            synced = original_sync(plan)
            if synced:
                scenario.after_sync(world)
            return synced

        monkeypatch.setattr(driver_module, "execution_sync", sync_then_inject)
    if scenario.before is not None:
        scenario.before(world)
    world.sim.set_next_funding(SYMBOL, world.primary_venue, in_seconds=scenario.in_seconds)
    instants = executions_plan()
    assert len(instants) == 1, "the instant was not armed"
    assert instant_drive(funding_time=instants[0]) == 1
    return subscription


@pytest.mark.parametrize(("scenario", "faulty", "role"), CASES)
def test_fault(
    scenario: Scenario,
    faulty: str,
    role: str,
    sim_for,
    user,
    settings,
    monkeypatch,
    reliability: Row,
    short_client_timeouts,
) -> None:
    """One fault on one venue: no duplicate order, no naked leg, one execution with a clear terminal status."""
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, **FAST_TIMELINE, **scenario.timeline}
    label = LABELS[faulty]
    reliability.group = "Fault matrix"
    reliability.order = next(i for i, case in enumerate(CASES) if case.values == (scenario, faulty, role))
    reliability.scenario = f"{scenario.title} — {label} as {role}"
    reliability.injected = scenario.injected.format(venue=label, role=role)
    reliability.must_hold = scenario.must_hold.format(venue=label, role=role)
    reliability.database = f"{connection.vendor} (in-process)"
    sim = sim_for(_markets(faulty, scenario.max_leverage))
    other = "bingx" if faulty == "bybit" else "bybit"
    accounts = {
        faulty: make_sim_account(sim, user, faulty, hedge=scenario.hedge_mode),
        other: make_sim_account(sim, user, other),
    }
    world = World(sim=sim, faulty=faulty, role=role, accounts=accounts, user=user)

    subscription = _drive(world, scenario, monkeypatch)

    sim.clear_faults()
    executions = list(Execution.objects.filter(subscription=subscription).values("pk", "status", "error"))
    db_orders = list(
        Order.objects.filter(execution__subscription=subscription).values(
            "client_order_id", "status", "filled_quantity"
        )
    )
    roles = {world.primary_venue: "primary", (other if role == "primary" else faulty): "hedge"}
    counts = [
        venue_count(sim, venue=venue, api_key=accounts[venue].api_key, role=roles[venue])
        for venue in ("bybit", "bingx")
    ]
    reliability.counted = counted_text(counts)
    reliability.status = ", ".join(e["status"] for e in executions)
    reliability.extra = {"message": executions[0]["error"] if executions else ""}

    problems = violations(counts, db_orders=db_orders, executions=executions, allowed=scenario.allowed)
    assert problems == [], problems
    execution = executions[0]
    if scenario.message_has:
        assert scenario.message_has in execution["error"], execution["error"]
    assert ExecutionEvent.objects.filter(execution_id=execution["pk"]).exists()
    if execution["status"] in ("failed", "skipped"):
        assert all(count.orders == [] for count in counts), "an order went out although the execution failed"
    if execution["status"] != "completed":
        subscription.refresh_from_db()
        assert subscription.status in ("error", "active"), subscription.status
        if subscription.status == "error":
            assert subscription.last_error.strip()
    if scenario.max_leverage is not None:
        for venue in (faulty, other):
            set_to = sim.account(venue, accounts[venue].api_key)["leverage"].get(SYMBOL)
            assert set_to != [str(LEVERAGE)] * 2, f"leverage set on {venue} although preflight refused"

"""The fault matrix: one funding instant per scenario against the simulator, each fault on each venue.

Every scenario runs a whole cycle (plan, preflight, leverage sync, open, hold, close) on a fast timeline, with one
venue misbehaving. Then the fault clears, and the reconciler runs until the execution reaches a final status within
the scenario's stated time. Two invariants are measured on the simulator for every scenario: at each venue's
settlement of T the two legs net to zero (hedged, or both flat), and after the final status both accounts are flat
on the symbol. The usual checks follow: no duplicate order, nothing on a venue the database does not know, exactly
one execution, a final status from the scenario's set and a message when it did not complete. Only scenarios
named so (``via_reconciler``) may leave the driver in RECONCILING.

The new faults run alone and in about ten pairs with the existing ones here; ``make reliability`` adds every pair
(``RELIABILITY_CROSS=1``). Each scenario reports a row for RELIABILITY.md.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from arbitrage.models import TERMINAL_STATUSES, Execution, ExecutionEvent, Order, Subscription
from arbitrage.services import clients as clients_module
from arbitrage.services import driver as driver_module
from arbitrage.services.driver import instant_drive
from arbitrage.services.planner import executions_plan
from arbitrage.services.reconcile import executions_reconcile
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create
from arbitrage.tasks import close_execution
from exchanges.factory import make_client
from exchanges.simulator import DEFAULT_MARKETS, Simulator, settlement_net
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
        "order_query": "GET /v5/order/realtime",
        "leverage": "POST /v5/position/set-leverage",
        "positions": "GET /v5/position/list",
    },
    "bingx": {
        "order": "POST /openApi/swap/v2/trade/order",
        "order_query": "GET /openApi/swap/v2/trade/order",
        "leverage": "POST /openApi/swap/v2/trade/leverage",
        "positions": "GET /openApi/swap/v2/user/positions",
    },
}
# "Processing" on an order the venue did place: BingX says 80019; Bybit's nearest is a server error (10016).
PROCESSING = {"bybit": 10016, "bingx": 80019}
# Longer than every budget the executor has for one order's record: ORDER_SETTLE, the unknown-order grace, the
# settle's first look and the converge budget of the fast timeline.
LONGER_THAN_EVERY_BUDGET = 12.0

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
    after_open: Step | None = None  # once the pair is open, before the close
    roles: tuple[str, ...] = ("hedge",)
    timeline: dict[str, float] = field(default_factory=dict)
    in_seconds: float = 4.5
    hedge_mode: bool = False
    max_leverage: int | None = None  # the faulty venue's max leverage for the symbol
    message_has: str = ""  # a word the execution's message must contain
    clear: Step | None = None  # how the fault clears (default: every simulator fault is cleared)
    settles_within: float = 15.0  # seconds after the fault clears to reach a final status
    via_reconciler: bool = False  # may the driver leave it in RECONCILING for the reconciler to finish
    new: bool = False  # one of the faults issue 13 added (crossed with every other fault in `make reliability`)

    def combined(
        self, other: Scenario, *, allowed: tuple[str, ...] | None = None, must_hold: str | None = None
    ) -> Scenario:
        """Both faults in one instant, on the same venue; ``allowed`` and ``must_hold`` where the pair's outcome is
        not either fault's own."""

        def both(a: Step | None, b: Step | None) -> Step | None:
            if a is None or b is None:
                return a or b
            return lambda world: (a(world), b(world))[-1]

        return dataclasses.replace(
            self,
            key=f"{self.key}+{other.key}",
            title=f"{self.title} + {other.title.lower()}",
            injected=f"{self.injected}; and {other.injected}",
            must_hold=must_hold or f"{self.must_hold}; {other.must_hold}",
            allowed=allowed or tuple(sorted(set(self.allowed) | set(other.allowed))),
            before=both(self.before, other.before),
            after_sync=both(self.after_sync, other.after_sync),
            after_open=both(self.after_open, other.after_open),
            roles=tuple(r for r in self.roles if r in other.roles) or ("hedge",),
            timeline={**self.timeline, **other.timeline},
            in_seconds=max(self.in_seconds, other.in_seconds),
            hedge_mode=self.hedge_mode or other.hedge_mode,
            max_leverage=self.max_leverage or other.max_leverage,
            message_has="",
            clear=both(self.clear, other.clear),
            settles_within=max(self.settles_within, other.settles_within),
            via_reconciler=self.via_reconciler or other.via_reconciler,
            new=False,
        )


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


def _restore_key(world: World) -> None:
    """The owner puts the venue's secret back (or fundarb's): signatures work again."""
    world.sim.add_account(world.faulty, world.key, world.accounts[world.faulty].api_secret)
    world.sim.clear_faults()


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
        "a definite refusal, so the open is sent again (new client id) before the cutoff; hedged at T; completes",
        ("completed",),
        before=lambda w: _refuse_next(w, w.endpoint("order"), count=1),
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
        "the API secret is rotated on {venue} after the leverage sync, before the trigger; restored afterwards",
        "the {venue} order is refused and the other leg unwound at once; {venue} refuses every read, so the execution "
        "waits in RECONCILING (owner told) until the key works; then UNWOUND",
        ("unwound",),
        after_sync=_rotate_key,
        clear=_restore_key,
        via_reconciler=True,
        message_has="one leg",
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
        "the larger leg is trimmed to the smaller fill (not closed); hedged at T at the smaller size; completes",
        ("completed",),
        before=lambda w: w.faults.partial_fill("0.5"),
        roles=("primary", "hedge"),
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

NEW_FAULTS = [
    Scenario(
        "slow_fill_read",
        "Fill unreadable for longer than every budget",
        "{venue} fills the open at once, but its order queries answer 'processing' for 12 s",
        "the leg's position shows it open, so the pair is held (never counted unfilled); completes",
        ("completed",),
        before=lambda w: w.faults.processing(seconds=LONGER_THAN_EVERY_BUDGET),
        roles=("primary", "hedge"),
        new=True,
    ),
    Scenario(
        "late_visible",
        "Lost answer, order invisible past the grace",
        "{venue} fills the open, drops the answer, and its queries say 'not found' for 12 s",
        "the position shows the leg filled: hedged, never unwound for 'not placed'; completes",
        ("completed",),
        before=lambda w: (
            w.faults.drop_response(w.endpoint("order")),
            w.faults.not_found(seconds=LONGER_THAN_EVERY_BUDGET),
        )[-1],
        new=True,
    ),
    Scenario(
        "lookup_outage",
        "Order lookups down, positions up",
        "every {venue} order query answers HTTP 503 for 12 s from before the trigger",
        "both legs read open from the positions; held through T; closed; completes",
        ("completed",),
        before=lambda w: w.faults.outage(w.endpoint("order_query"), seconds=LONGER_THAN_EVERY_BUDGET),
        new=True,
    ),
    Scenario(
        "processing_placed",
        "'Processing' on an order it placed",
        "{venue} places the open but answers it with its 'processing' / server-busy code (80019 / 10016)",
        "not a refusal: unknown, decided from the position, never resent; hedged; completes",
        ("completed",),
        before=lambda w: w.faults.fail_after_apply(w.endpoint("order"), code=PROCESSING[w.faulty]),
        roles=("primary", "hedge"),
        new=True,
    ),
    Scenario(
        "processing_not_placed",
        "'Processing' on an order it did not place",
        "{venue} answers the open with its 'processing' / server-busy code and does not place it",
        "unknown until the grace passes with the position flat; the other leg is unwound; both flat",
        ("unwound",),
        before=lambda w: w.faults.fail_next(w.endpoint("order"), code=PROCESSING[w.faulty]),
        message_has="unwound",
        new=True,
    ),
    Scenario(
        "rate_block_close",
        "Rate-limit block during the close",
        "from the open, {venue} refuses orders as rate limited for 2.5 s and bans the venue (403/418) for 2 s after "
        "3 refused calls",
        "the close backs off and is sent again when the block lifts; hedged at T; completes",
        ("completed",),
        after_open=lambda w: w.faults.rate_block(w.endpoint("order"), seconds=2.5, ban_after=3, ban_seconds=2),
        via_reconciler=True,
        new=True,
    ),
    Scenario(
        "positions_outage_close",
        "Positions endpoint down at the close",
        "from the open, every {venue} position read answers HTTP 503 for 3 s",
        "nothing is decided blind: the close waits for a reading, then converges; completes",
        ("completed",),
        after_open=lambda w: w.faults.outage(w.endpoint("positions"), seconds=3),
        new=True,
    ),
]
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS + NEW_FAULTS}
# About ten pairs of a new fault with an existing one (and with each other), with the status each must reach.
PAIRS = [
    ("partial_fill", "slow_fill_read", ("completed",)),
    ("partial_fill", "lookup_outage", ("completed",)),
    ("latency", "late_visible", ("completed",)),
    ("processing_placed", "lookup_outage", ("completed",)),
    ("partial_fill", "rate_block_close", ("completed",)),
    ("skew_ahead", "slow_fill_read", ("completed",)),
    ("drop_request", "lookup_outage", ("unwound",)),
    ("timeout_open", "late_visible", ("completed",)),
    ("hedge_mode", "partial_fill", ("completed",)),
    ("http_5xx_reads", "late_visible", ("completed",)),
    ("partial_fill", "positions_outage_close", ("completed",)),
]
COMBINED = [BY_KEY[a].combined(BY_KEY[b], allowed=allowed) for a, b, allowed in PAIRS]
# Pairs of the cross product whose status is not either fault's own. A rate-limited open whose answer is lost, then
# "not found": unlike a plain refusal it is not known to be unplaced, so it is never sent again; the position reads
# flat, and its partner is unwound before T.
CROSS_OUTCOMES: dict[tuple[str, str], dict[str, Any]] = {
    ("late_visible", "rate_limit_order"): {
        "allowed": ("unwound",),
        "must_hold": "the refusal's answer is lost, so the open is unknown and never sent again; {venue} reads "
        "flat, so the other leg is unwound before T; both flat",
    },
}
if os.environ.get("RELIABILITY_CROSS"):  # make reliability: every new fault with every other fault
    chosen = {(a, b) for a, b, _ in PAIRS}
    COMBINED += [
        new.combined(other, **CROSS_OUTCOMES.get((new.key, other.key), {}))
        for new in NEW_FAULTS
        for other in SCENARIOS + NEW_FAULTS
        if other.key != new.key
        and not (other.new and other.key < new.key)  # each pair of new faults once
        and (other.key, new.key) not in chosen
        and (new.key, other.key) not in chosen
    ]

CASES = [
    pytest.param(scenario, venue, role, id=f"{scenario.key}-{venue}-{role}")
    for scenario in SCENARIOS + NEW_FAULTS + COMBINED
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
    if scenario.after_open is not None:
        original_settle = driver_module.execution_open_settle

        def settle_then_inject(plan, results) -> bool:
            opened = original_settle(plan, results)
            scenario.after_open(world)
            return opened

        monkeypatch.setattr(driver_module, "execution_open_settle", settle_then_inject)
    if scenario.before is not None:
        scenario.before(world)
    world.sim.set_next_funding(SYMBOL, world.primary_venue, in_seconds=scenario.in_seconds)
    instants = executions_plan()
    assert len(instants) == 1, "the instant was not armed"
    assert instant_drive(funding_time=instants[0]) == 1
    return subscription


def _wait_for_settlement(sim: Simulator, venue: str, funding_time) -> None:
    """A scenario that ended before T (a preflight refusal) still measures the settlement of T."""
    wanted_ms = int(funding_time.timestamp() * 1000)
    deadline = time.monotonic() + max(0.0, funding_time.timestamp() - time.time()) + 5
    while not any(r["time_ms"] >= wanted_ms for r in sim.settlements(symbol=SYMBOL, venue=venue)):
        assert time.monotonic() < deadline, f"{venue} never settled T"
        time.sleep(0.05)


def _recover(execution: Execution, *, within: float) -> tuple[str, float]:
    """Run the reconciler (and the closes it schedules) until the execution is final or ``within`` seconds pass."""
    started = time.monotonic()
    while True:
        execution.refresh_from_db()
        elapsed = time.monotonic() - started
        if execution.status in TERMINAL_STATUSES or elapsed > within:
            return execution.status, elapsed
        for resumed in executions_reconcile().close_later:
            close_execution(resumed)
        time.sleep(0.2)


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
    """One fault on one venue: hedged or flat at every settlement, flat after the final status, no duplicate order,
    one execution with a clear final status reached within the stated time once the fault clears."""
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

    after_driver = Execution.objects.get(subscription=subscription)
    _wait_for_settlement(sim, world.primary_venue, after_driver.funding_time)
    (scenario.clear or (lambda w: w.sim.clear_faults()))(world)
    final, recovered_in = _recover(after_driver, within=scenario.settles_within)
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
    nets = settlement_net(
        sim.settlements(symbol=SYMBOL), SYMBOL, accounts=[(venue, accounts[venue].api_key) for venue in accounts]
    )
    reliability.counted = counted_text(counts)
    reliability.status = ", ".join(e["status"] for e in executions)
    reliability.at_settlement = (
        "; ".join(f"{LABELS[n.venue]} net {n.net.normalize():f}" for n in nets) or "no settlement"
    )
    reliability.recovery = (
        f"final when the driver ended ({after_driver.status})"
        if after_driver.status in TERMINAL_STATUSES
        else f"{after_driver.status} → {final} {recovered_in:.1f} s after the fault cleared"
    )
    reliability.extra = {"message": executions[0]["error"] if executions else ""}

    assert nets, "the primary venue did not settle T during the scenario"
    unhedged = [n for n in nets if n.net != 0]
    assert unhedged == [], f"legs did not net to zero at a settlement: {unhedged}"
    if not scenario.via_reconciler:
        assert after_driver.status in TERMINAL_STATUSES, f"the driver left {after_driver.status}: {after_driver.error}"
    assert final in TERMINAL_STATUSES, f"still {final} {scenario.settles_within:.0f} s after the fault cleared"
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

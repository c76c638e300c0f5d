"""fundarb's real exchange clients against the simulator: every operation, both position modes, both venues,
signing verified by the simulator, and each fault kind surfacing as the right typed error."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from arbitrage.services import plan
from exchanges.base import Credentials, OrderStatus, PositionMode, PositionSide, Side
from exchanges.bingx import BingXClient
from exchanges.bybit import BybitClient
from exchanges.errors import (
    AuthenticationError,
    ClockSkewError,
    DuplicateOrder,
    ExchangeUnavailable,
    InsufficientMargin,
    InvalidLeverage,
    OrderNotFound,
    OrderProcessing,
    RateLimited,
    ReduceOnlyRejected,
    UnknownOutcome,
)
from exchanges.simulator import Simulator

CLIENTS = {"bybit": BybitClient, "bingx": BingXClient}
ORDER_ENDPOINT = {"bybit": "/v5/order/create", "bingx": "POST /openApi/swap/v2/trade/order"}
READ_ENDPOINT = {"bybit": "/v5/account/wallet-balance", "bingx": "/openApi/swap/v3/user/balance"}
INTERNAL_CODE = {"bybit": 10016, "bingx": 100500}
BAD_SECRET_CODE = {"bybit": "10004", "bingx": "100001"}
EXPECTED_RULES = {"bybit": (Decimal("0.001"), 100), "bingx": (Decimal("0.0001"), 125)}
MODES = [PositionMode.ONE_WAY, PositionMode.HEDGE]
VENUES = ["bybit", "bingx"]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=11, random_walk=False) as simulator:
        yield simulator


def connect(
    sim: Simulator, venue: str, *, hedge: bool = False, secret: str | None = None, read_timeout: float = 5
) -> BybitClient | BingXClient:
    key = f"{venue}-{'hedge' if hedge else 'oneway'}"
    sim.add_account(venue, key, "the-secret", hedge=hedge)
    credentials = Credentials(key, secret or "the-secret")
    return CLIENTS[venue](credentials, base_url=sim.base_url, timeout=(2, read_timeout))


def wait_until(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("venue", VENUES)
def test_every_operation(sim: Simulator, venue: str, mode: PositionMode) -> None:
    """Time, rules, funding, mode, leverage, balance, open, look up, funding credit, close, permissions."""
    client = connect(sim, venue, hedge=mode is PositionMode.HEDGE)
    started = datetime.now(UTC) - timedelta(seconds=1)
    assert abs(client.server_time().timestamp() - time.time()) < 2
    assert abs(client.sync_clock(samples=2).offset) < 0.5
    assert abs(client.exchange_now().timestamp() - time.time()) < 1

    rules = client.symbol_rules("BTCUSDT")
    assert (rules.qty_step, rules.max_leverage) == EXPECTED_RULES[venue]
    assert set(client.all_symbol_rules()) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"}
    info = client.funding_info("BTCUSDT")
    market = sim.markets()["BTCUSDT"][venue]
    assert int(info.next_funding_time.timestamp() * 1000) == market["next_ms"]
    assert (info.rate, info.interval_hours) == (Decimal(market["rate"]), 8)
    assert set(client.all_funding_info()) == set(client.all_symbol_rules())

    assert client.position_mode("BTCUSDT") is mode
    client.set_leverage("BTCUSDT", 7, position_mode=mode)
    client.set_leverage("BTCUSDT", 7, position_mode=mode)  # "not modified" counts as success
    leverage = client.leverage("BTCUSDT")
    assert (leverage.long, leverage.short) == (7, 7)
    assert client.balance().available_margin == Decimal("10000")

    ack = client.place_market_order(
        symbol="BTCUSDT", side=Side.SELL, quantity=Decimal("0.010"), client_order_id="e2e-open-1", position_mode=mode
    )
    order = client.get_order(symbol="BTCUSDT", client_order_id="e2e-open-1")
    assert order.exchange_order_id == ack.exchange_order_id
    again = client.get_order(symbol="BTCUSDT", client_order_id="e2e-open-1", exchange_order_id=ack.exchange_order_id)
    assert again == order
    assert (order.status, order.filled_quantity, order.side) == (OrderStatus.FILLED, Decimal("0.01"), Side.SELL)
    assert order.fee is not None and order.fee > 0 and order.avg_price is not None
    (position,) = client.positions("BTCUSDT")
    assert (position.side, position.size, position.leverage) == (PositionSide.SHORT, Decimal("0.01"), 7)
    assert client.balance().available_margin < Decimal("10000")

    # Past BingX's counting cutoff (0.48 s on the test time scale): a position opened later is not paid there.
    instant = sim.set_next_funding("BTCUSDT", venue, in_seconds=0.7, rate="0.0004")["next_ms"]
    payments = wait_until(lambda: client.funding_payments(since=started))
    (payment,) = payments
    assert payment.amount > 0 and payment.symbol == "BTCUSDT"  # a short receives a positive rate
    assert int(payment.time.timestamp() * 1000) == instant + sim.state.settlement[venue].settle_delay_ms

    client.place_market_order(
        symbol="BTCUSDT",
        side=Side.BUY,
        quantity=Decimal("0.010"),
        client_order_id="e2e-close-1",
        position_mode=mode,
        reduce_only=True,
    )
    closed = client.get_order(symbol="BTCUSDT", client_order_id="e2e-close-1")
    assert closed.reduce_only is True
    assert client.positions("BTCUSDT") == []
    permissions = client.key_permissions()
    assert permissions.can_trade_perpetuals and not permissions.can_withdraw and permissions.warnings == []
    client.close()


@pytest.mark.parametrize("venue", VENUES)
def test_executor_client_order_ids_are_accepted(sim: Simulator, venue: str, monkeypatch) -> None:
    """The longest id the executor writes is accepted, echoed unchanged and found again on both venues."""
    monkeypatch.setattr(plan, "_order_prefix", lambda: "k3x9q0")
    client = connect(sim, venue)
    client_id = plan.client_order_id(execution_id=2**63 - 1, role="hedge", action="unwind", attempt=32767)
    ack = client.place_market_order(
        symbol="BTCUSDT",
        side=Side.BUY,
        quantity=Decimal("0.010"),
        client_order_id=client_id,
        position_mode=PositionMode.ONE_WAY,
    )
    assert ack.client_order_id == client_id
    order = client.get_order(symbol="BTCUSDT", client_order_id=client_id, exchange_order_id=ack.exchange_order_id)
    assert (order.client_order_id, order.status) == (client_id, OrderStatus.FILLED)
    assert client.get_order(symbol="BTCUSDT", client_order_id=client_id).exchange_order_id == ack.exchange_order_id
    client.close()


@pytest.mark.parametrize("venue", VENUES)
def test_account_id_is_the_venue_uid(sim: Simulator, venue: str) -> None:
    """One account answers one stable id whichever client asks; another account answers another."""
    first = connect(sim, venue)
    again = CLIENTS[venue](Credentials(f"{venue}-oneway", "the-secret"), base_url=sim.base_url)
    other = connect(sim, venue, hedge=True)
    assert first.account_id() == again.account_id() == str(sim.account(venue, f"{venue}-oneway")["uid"])
    assert other.account_id() != first.account_id()


@pytest.mark.parametrize("venue", VENUES)
def test_wrong_secret_is_an_authentication_error(sim: Simulator, venue: str) -> None:
    """The simulator verifies signatures: a wrong secret comes back with the venue's code."""
    client = connect(sim, venue, secret="wrong-secret")
    with pytest.raises(AuthenticationError) as caught:
        client.balance()
    assert caught.value.code == BAD_SECRET_CODE[venue]


@pytest.mark.parametrize("venue", VENUES)
def test_server_errors_on_orders_are_unknown_outcomes(sim: Simulator, venue: str) -> None:
    """A 5xx or an internal-error code on an order is UnknownOutcome; on a read (after retries) unavailable."""
    client = connect(sim, venue)
    faults = sim.faults(venue)
    faults.fail_next(ORDER_ENDPOINT[venue], http_status=503)
    with pytest.raises(UnknownOutcome):
        client.place_market_order(
            symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("0.001"), client_order_id="x-1",
            position_mode=PositionMode.ONE_WAY,
        )  # fmt: skip
    faults.fail_next(ORDER_ENDPOINT[venue], code=INTERNAL_CODE[venue])
    with pytest.raises(UnknownOutcome):
        client.place_market_order(
            symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("0.001"), client_order_id="x-2",
            position_mode=PositionMode.ONE_WAY,
        )  # fmt: skip
    faults.fail_next(READ_ENDPOINT[venue], http_status=502, count=3)
    with pytest.raises(ExchangeUnavailable):
        client.balance()
    faults.error_rate(1.0)
    with pytest.raises(ExchangeUnavailable):
        client.balance()
    faults.error_rate(0.0)
    assert client.balance().equity == Decimal("10000")


@pytest.mark.parametrize("venue", VENUES)
def test_lost_answers_are_unknown_outcomes_resolved_by_lookup(sim: Simulator, venue: str) -> None:
    """Timeout and dropped response: placed; dropped request: not placed. All three are UnknownOutcome."""
    client = connect(sim, venue, read_timeout=0.5)
    faults = sim.faults(venue)
    cases = [("timeout", "lost-timeout", True), ("drop_response", "lost-answer", True), ("drop_request", "lost", False)]
    for kind, client_id, placed in cases:
        if kind == "timeout":
            faults.timeout(ORDER_ENDPOINT[venue], seconds=1.0)
        else:
            getattr(faults, kind)(ORDER_ENDPOINT[venue])
        with pytest.raises(UnknownOutcome):
            client.place_market_order(
                symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("0.001"), client_order_id=client_id,
                position_mode=PositionMode.ONE_WAY,
            )  # fmt: skip
        if placed:
            assert client.get_order(symbol="BTCUSDT", client_order_id=client_id).status is OrderStatus.FILLED
        else:
            with pytest.raises(OrderNotFound):
                client.get_order(symbol="BTCUSDT", client_order_id=client_id)


@pytest.mark.parametrize("venue", VENUES)
def test_order_rate_limit(sim: Simulator, venue: str) -> None:
    """Past the per-account order limit (Bybit 10/s, BingX 5/s) an order is RateLimited, never retried."""
    client = connect(sim, venue)
    limit = {"bybit": 10, "bingx": 5}[venue]
    with pytest.raises(RateLimited) as caught:
        for n in range(limit + 1):
            client.place_market_order(
                symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("0.001"), client_order_id=f"burst-{n}",
                position_mode=PositionMode.ONE_WAY,
            )  # fmt: skip
    assert caught.value.retry_after is None or 0 <= caught.value.retry_after <= 2
    assert len(sim.orders(venue, f"{venue}-oneway")) == limit


@pytest.mark.parametrize("venue", VENUES)
def test_clock_skew_is_resynced_until_it_cannot_be(sim: Simulator, venue: str) -> None:
    """A venue clock 30 s off is fixed by the client's resync; a rejection that persists is ClockSkewError."""
    client = connect(sim, venue)
    sim.faults(venue).skew(30_000)
    assert client.balance().equity == Decimal("10000")
    code = {"bybit": 10002, "bingx": 100421}[venue]
    sim.faults(venue).fail_next(READ_ENDPOINT[venue], code=code, count=2)
    with pytest.raises(ClockSkewError):
        client.balance()


@pytest.mark.parametrize("venue", VENUES)
def test_business_rejections(sim: Simulator, venue: str) -> None:
    """Insufficient margin, duplicate client id, reduce-only when flat, leverage above the maximum."""
    client = connect(sim, venue)
    one_way = PositionMode.ONE_WAY
    with pytest.raises(InsufficientMargin):
        client.place_market_order(
            symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("50"), client_order_id="too-big", position_mode=one_way
        )
    client.place_market_order(
        symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("0.001"), client_order_id="twice", position_mode=one_way
    )
    with pytest.raises(DuplicateOrder):
        client.place_market_order(
            symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("0.001"), client_order_id="twice", position_mode=one_way
        )
    with pytest.raises(ReduceOnlyRejected):
        client.place_market_order(
            symbol="ETHUSDT", side=Side.SELL, quantity=Decimal("0.01"), client_order_id="flat", position_mode=one_way,
            reduce_only=True,
        )  # fmt: skip
    with pytest.raises(InvalidLeverage):
        client.set_leverage("DOGEUSDT", 80, position_mode=one_way)


@pytest.mark.parametrize("venue", VENUES)
def test_processing_and_partial_fill(sim: Simulator, venue: str) -> None:
    """A processing order is OrderProcessing (BingX 80019) or not yet visible (Bybit), then found; a partial fill
    is reported as such."""
    client = connect(sim, venue)
    sim.faults(venue).processing(calls=1 if venue == "bingx" else 2)
    client.place_market_order(
        symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("0.002"), client_order_id="slow",
        position_mode=PositionMode.ONE_WAY,
    )  # fmt: skip
    with pytest.raises(OrderProcessing if venue == "bingx" else OrderNotFound):
        client.get_order(symbol="BTCUSDT", client_order_id="slow")
    assert client.get_order(symbol="BTCUSDT", client_order_id="slow").status is OrderStatus.FILLED
    sim.faults(venue).partial_fill("0.5")
    client.place_market_order(
        symbol="BTCUSDT", side=Side.BUY, quantity=Decimal("0.004"), client_order_id="half",
        position_mode=PositionMode.ONE_WAY,
    )  # fmt: skip
    order = client.get_order(symbol="BTCUSDT", client_order_id="half")
    assert (order.status, order.quantity, order.filled_quantity) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.004"),
        Decimal("0.002"),
    )


def _buy(client: BybitClient | BingXClient, client_order_id: str, quantity: str = "0.002"):
    return client.place_market_order(
        symbol="BTCUSDT",
        side=Side.BUY,
        quantity=Decimal(quantity),
        client_order_id=client_order_id,
        position_mode=PositionMode.ONE_WAY,
    )


@pytest.mark.parametrize("venue", VENUES)
def test_late_visible_order(sim: Simulator, venue: str) -> None:
    """not_found: the position shows the order at once; get_order by either id is OrderNotFound until it shows."""
    client = connect(sim, venue)
    sim.faults(venue).not_found(0.6)
    ack = _buy(client, "late")
    assert [p.size for p in client.positions("BTCUSDT")] == [Decimal("0.002")]
    for ids in ({}, {"exchange_order_id": ack.exchange_order_id}):
        with pytest.raises(OrderNotFound):
            client.get_order(symbol="BTCUSDT", client_order_id="late", **ids)
    time.sleep(0.65)
    order = client.get_order(symbol="BTCUSDT", client_order_id="late", exchange_order_id=ack.exchange_order_id)
    assert order.status is OrderStatus.FILLED


@pytest.mark.parametrize(("venue", "code"), [("bybit", 10016), ("bingx", 80019)])
def test_order_applied_then_answered_an_error_is_an_unknown_outcome(sim: Simulator, venue: str, code: int) -> None:
    """An order the venue placed but answered with an error (BingX "being processed", Bybit server error) is
    UnknownOutcome, and the lookup finds it."""
    client = connect(sim, venue)
    sim.faults(venue).fail_after_apply(ORDER_ENDPOINT[venue], code=code)
    with pytest.raises(UnknownOutcome) as caught:
        _buy(client, "answered-badly")
    assert caught.value.code == str(code)
    assert client.get_order(symbol="BTCUSDT", client_order_id="answered-badly").status is OrderStatus.FILLED


@pytest.mark.parametrize("venue", VENUES)
def test_outage_on_orders_is_an_unknown_outcome_while_reads_work(sim: Simulator, venue: str) -> None:
    """A timed outage of the order endpoint: orders are UnknownOutcome (not placed), positions still readable."""
    client = connect(sim, venue)
    sim.faults(venue).outage(ORDER_ENDPOINT[venue], seconds=30, http_status=503)
    with pytest.raises(UnknownOutcome):
        _buy(client, "in-outage")
    assert client.positions("BTCUSDT") == []
    with pytest.raises(OrderNotFound):
        client.get_order(symbol="BTCUSDT", client_order_id="in-outage")


@pytest.mark.parametrize(("venue", "ban_status"), [("bybit", 403), ("bingx", 418)])
def test_rate_block_then_ban(sim: Simulator, venue: str, ban_status: int) -> None:
    """A blocked order is RateLimited; one more call and the venue bans: RateLimited with the ban status, reads
    included, and never retried."""
    client = connect(sim, venue)
    sim.faults(venue).rate_block(ORDER_ENDPOINT[venue], seconds=30, ban_after=1, ban_seconds=30)
    with pytest.raises(RateLimited) as caught:
        _buy(client, "blocked")
    assert caught.value.http_status != ban_status
    with pytest.raises(RateLimited) as caught:
        _buy(client, "banned")
    assert caught.value.http_status == ban_status
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        client.balance()
    assert caught.value.http_status == ban_status and time.monotonic() - started < 0.5
    sim.clear_faults(venue)
    assert sim.orders(venue, f"{venue}-oneway") == [] and client.positions("BTCUSDT") == []

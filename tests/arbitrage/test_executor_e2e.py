"""The sync-then-open executor against the simulator, a whole funding cycle in seconds.

Orders and positions are counted on the simulator, not only in the database.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from arbitrage.models import (
    Execution,
    ExecutionEvent,
    Order,
    OrderAction,
    OrderState,
    Subscription,
    SubscriptionStatus,
)
from arbitrage.services.driver import instant_drive
from arbitrage.services.planner import executions_plan
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create
from arbitrage.services.timing import pair_timing
from tests.conftest import make_sim_account

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_timeline")]

SYMBOL = "ETHUSDT"
LEAD = 1


def subscribe(user, primary, hedge, **overrides) -> Subscription:
    data = {
        "symbol": SYMBOL,
        "primary_account": primary,
        "hedge_account": hedge,
        "quantity": Decimal("0.5"),
        "leverage": 5,
        "lead_seconds": LEAD,
        "close_delay_seconds": 1,
        "min_edge_bps": Decimal("-1000"),  # these tests prove mechanics, not profitability
        **overrides,
    }
    return subscription_create(owner=user, data=SubscriptionInput(**data))


def run_instant(sim, subscription: Subscription, *, in_seconds: float = 5.0) -> Execution:
    """Put the primary's next funding a few seconds ahead, arm it, and drive it to the end."""
    sim.set_next_funding(subscription.symbol, subscription.primary_account.exchange, in_seconds=in_seconds)
    instants = executions_plan()
    assert len(instants) == 1
    assert instant_drive(funding_time=instants[0]) == 1
    return Execution.objects.get(subscription=subscription)


def sim_orders(sim, account) -> list[dict]:
    return sim.orders(account.exchange, account.api_key)


def sim_positions(sim, account) -> list[dict]:
    return sim.positions(account.exchange, account.api_key)


def steps(execution) -> list[str]:
    return list(ExecutionEvent.objects.filter(execution=execution).values_list("step", flat=True))


def test_happy_path_with_skewed_venue_clocks(venue_sim, user, sim_accounts):
    """Leverage set and verified on both venues before any order, both orders at T-lead on the venue clock,
    held through T (funding credited), closed after T, P&L stored, every step on the timeline."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bybit").skew(-1500)
    venue_sim.faults("bingx").skew(6000)
    venue_sim.set_funding_rate(SYMBOL, "bybit", "0.0030")
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert execution.primary_side == "sell"  # positive funding: shorts receive
    events = list(ExecutionEvent.objects.filter(execution=execution))
    first_order = min(e.at for e in events if e.step.endswith("open_sent"))
    verified = [e for e in events if e.step == "leverage_verified" and e.outcome == "ok"]
    assert {e.venue for e in verified} == {"bybit", "bingx"}
    assert all(e.at < first_order for e in verified)

    trigger_ms = (execution.funding_time.timestamp() - LEAD) * 1000
    bybit_open = next(o for o in sim_orders(venue_sim, bybit) if not o["reduce_only"])
    bingx_open = next(o for o in sim_orders(venue_sim, bingx) if not o["reduce_only"])
    assert abs(bybit_open["created_ms"] - trigger_ms) < 250, "primary not at T-lead on its venue's clock"
    # The hedge leg goes out at the same real moment; its venue clock runs 7.5 s ahead of the primary's.
    assert abs((bingx_open["created_ms"] - 7500) - bybit_open["created_ms"]) < 250

    for account in (bybit, bingx):
        orders = sim_orders(venue_sim, account)
        assert [o["reduce_only"] for o in orders] == [False, True]  # one open, one close: no duplicates
        assert sim_positions(venue_sim, account) == []
    primary_funding = venue_sim.funding_ledger("bybit", bybit.api_key)
    assert len(primary_funding) == 1 and Decimal(primary_funding[0]["amount"]) > 0

    execution.refresh_from_db()
    assert execution.pnl_final is True
    assert execution.pnl_funding == Decimal(primary_funding[0]["amount"])
    assert execution.pnl_fees < 0
    assert execution.pnl_price is not None
    assert {"preflight", "leverage_synced", "primary_open_sent", "hedge_open_sent", "pnl_final"} <= set(
        steps(execution)
    )
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE  # recurring: armed again next instant


@pytest.mark.parametrize(
    ("primary_venue", "primary_hedge_mode", "hedge_hedge_mode"),
    [("bybit", True, False), ("bybit", False, True), ("bingx", True, True), ("bingx", False, False)],
)
def test_both_position_modes_on_each_venue(venue_sim, user, primary_venue, primary_hedge_mode, hedge_hedge_mode):
    """One-way and hedge mode work on either venue, as primary or hedge: opened, held, closed flat."""
    other = "bingx" if primary_venue == "bybit" else "bybit"
    primary = make_sim_account(venue_sim, user, primary_venue, hedge=primary_hedge_mode)
    hedge = make_sim_account(venue_sim, user, other, hedge=hedge_hedge_mode)
    venue_sim.set_funding_rate(SYMBOL, primary_venue, "-0.0020")  # negative: longs receive
    subscription = subscribe(user, primary, hedge)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert execution.primary_side == "buy"
    for account in (primary, hedge):
        assert len(sim_orders(venue_sim, account)) == 2
        assert sim_positions(venue_sim, account) == []


def test_leverage_sync_failure_sends_no_order(venue_sim, user, sim_accounts):
    """A leverage rejection on one venue: zero orders on either venue, FAILED, subscription ERROR with the reason."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").fail_next("POST /openApi/swap/v2/trade/leverage", code=109400, count=5)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "failed"
    assert "no order was sent" in execution.error and "BingX" in execution.error
    assert sim_orders(venue_sim, bybit) == [] and sim_orders(venue_sim, bingx) == []
    assert Order.objects.filter(execution=execution).count() == 0
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ERROR
    assert "BingX" in subscription.last_error
    assert user.notices.filter(execution=execution).exists()


def test_hedge_rejection_unwinds_primary(venue_sim, user, sim_accounts):
    """The hedge order is rejected: the filled primary is closed at once, both venues end flat, ERROR."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").fail_next("POST /openApi/swap/v2/trade/order", code=101204)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "unwound", execution.error
    assert sim_positions(venue_sim, bybit) == [] and sim_positions(venue_sim, bingx) == []
    assert [o["reduce_only"] for o in sim_orders(venue_sim, bybit)] == [False, True]
    assert sim_orders(venue_sim, bingx) == []
    assert Order.objects.get(execution=execution, role="primary", action=OrderAction.UNWIND).status == "filled"
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ERROR
    assert "unwound" in subscription.last_error


def test_dropped_response_is_resolved_by_lookup_without_duplicate(venue_sim, user, sim_accounts):
    """The hedge order is applied but its response is lost: it is found by client id, never resent; completed."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").drop_response("POST /openApi/swap/v2/trade/order")
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert [o["reduce_only"] for o in sim_orders(venue_sim, bingx)] == [False, True]
    assert sim_positions(venue_sim, bingx) == [] and sim_positions(venue_sim, bybit) == []


def test_dropped_request_counts_as_not_placed_and_unwinds(venue_sim, user, sim_accounts):
    """The hedge request never arrives: after the grace period of normal "not found" answers it is not placed,
    and the primary is unwound. Nothing is resent."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").drop_request("POST /openApi/swap/v2/trade/order")
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "unwound", execution.error
    assert sim_orders(venue_sim, bingx) == []
    assert sim_positions(venue_sim, bybit) == []
    hedge_open = Order.objects.get(execution=execution, role="hedge", action="open")
    assert hedge_open.status == "not_placed"


def test_slow_lookups_on_one_leg_never_hold_back_the_unwind_of_the_other(venue_sim, user, sim_accounts):
    """The hedge open never arrives and every BingX order query takes 2 s: the primary is unwound from the
    positions before T (not after the lookups answer), and the lookups still complete the record."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").drop_request("POST /openApi/swap/v2/trade/order")
    venue_sim.faults("bingx").timeout("GET /openApi/swap/v2/trade/order", seconds=2.0, count=50)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "unwound", execution.error
    assert sim_positions(venue_sim, bybit) == []
    unwind = Order.objects.get(execution=execution, role="primary", action=OrderAction.UNWIND)
    assert unwind.sent_at < execution.funding_time, "the primary was left naked through T"
    hedge_open = Order.objects.get(execution=execution, role="hedge", action="open")
    assert hedge_open.status == "not_placed"


def test_an_open_and_its_close_both_unseen_are_never_called_not_placed(venue_sim, user, sim_accounts):
    """BingX fills the hedge's open and its close, loses both answers and says "not found" about both: the flat
    position shows what the two did together, not that either was never placed."""
    bybit, bingx = sim_accounts
    faults = venue_sim.faults("bingx")
    faults.drop_response("POST /openApi/swap/v2/trade/order", count=2)
    faults.not_found(seconds=60, count=2)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert [o["reduce_only"] for o in sim_orders(venue_sim, bingx)] == [False, True]
    hedge = Order.objects.filter(execution=execution, role="hedge")
    assert OrderState.NOT_PLACED not in set(hedge.values_list("status", flat=True))


def test_a_bingx_primary_on_the_pairs_default_timing_is_paid_by_bingx(venue_sim, user, sim_accounts):
    """BingX counts only positions opened well before T and settles late: on the pair's default lead and hold the
    simulator's BingX pays the primary, the close leaves after BingX's ledger row, and the amount is recorded."""
    bybit, bingx = sim_accounts
    venue_sim.set_funding_rate(SYMBOL, "bingx", "0.0030")
    subscription = subscribe(user, bingx, bybit, lead_seconds=None, close_delay_seconds=None)
    timing = pair_timing(primary=bingx, hedge=bybit)
    assert (subscription.lead_seconds, subscription.close_delay_seconds) == (timing.min_lead, timing.min_hold)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    rows = [r for r in venue_sim.funding_ledger("bingx", bingx.api_key) if r["symbol"] == SYMBOL]
    (row,) = rows
    assert Decimal(row["amount"]) > 0  # the short receives a positive rate
    bingx_close = Order.objects.get(execution=execution, role="primary", action=OrderAction.CLOSE)
    assert bingx_close.created_at.timestamp() * 1000 > row["time_ms"]
    execution.refresh_from_db()
    assert execution.pnl_funding == Decimal(row["amount"])  # the hedge venue did not settle in this window


def test_same_instant_driven_twice_at_once_opens_once(venue_sim, user, sim_accounts):
    """Two drivers for the same instant (a task delivered twice, or two clusters): one execution, one order per
    leg and action."""
    bybit, bingx = sim_accounts
    subscription = subscribe(user, bybit, bingx)
    venue_sim.set_next_funding(SYMBOL, "bybit", in_seconds=5)
    instants = executions_plan() + executions_plan()
    assert len(instants) == 1  # the second planner run armed nothing new

    counts = []
    drivers = [
        threading.Thread(target=lambda: counts.append(instant_drive(funding_time=instants[0]))) for _ in range(2)
    ]
    for driver in drivers:
        driver.start()
    for driver in drivers:
        driver.join(timeout=60)

    assert sorted(counts) == [0, 1]
    execution = Execution.objects.get(subscription=subscription)
    assert execution.status == "completed", execution.error
    for account in (bybit, bingx):
        assert [o["reduce_only"] for o in sim_orders(venue_sim, account)] == [False, True]


def test_paused_before_trigger_opens_nothing(venue_sim, user, sim_accounts):
    """Pausing after the leverage sync but before the trigger: the trigger's compare-and-set refuses; no order."""
    from arbitrage.services.subscriptions import subscription_pause

    bybit, bingx = sim_accounts
    subscription = subscribe(user, bybit, bingx)
    venue_sim.set_next_funding(SYMBOL, "bybit", in_seconds=5)
    (instant,) = executions_plan()
    pause_at = instant.timestamp() - LEAD - 0.6  # after the sync (T-2.5 s), before the trigger (T-1 s)

    def pause_later():
        import time

        time.sleep(max(0.0, pause_at - datetime.now(tz=UTC).timestamp()))
        subscription_pause(subscription=Subscription.objects.get(pk=subscription.pk))

    pauser = threading.Thread(target=pause_later)
    pauser.start()
    instant_drive(funding_time=instant)
    pauser.join()

    execution = Execution.objects.get(subscription=subscription)
    assert execution.status == "skipped"
    assert "paused" in execution.error
    assert "leverage_synced" in steps(execution)
    assert sim_orders(venue_sim, bybit) == [] and sim_orders(venue_sim, bingx) == []

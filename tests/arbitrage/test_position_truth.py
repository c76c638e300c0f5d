"""Position truth: what is open is read from the venues, so no fault leaves a leg open (issue 13, defects 1-7).

Each test states the safe behaviour for one defect found under a venue's behaviour at a funding instant (slow order
queries, partial fills, lookups down while positions work, orders that show up late, "processing" answers, too
many legs for one account's order budget). Every test ends with both accounts flat on the venues, and checks that
the pair was hedged (or flat) at the primary's settlement, from the simulator's own books.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from arbitrage.models import Execution, ExecutionEvent, Order
from arbitrage.services import driver as driver_module
from arbitrage.services.clock import now
from arbitrage.services.driver import instant_drive
from arbitrage.services.planner import executions_plan
from arbitrage.services.pnl import execution_pnl_collect
from arbitrage.services.reconcile import executions_reconcile
from arbitrage.tasks import close_execution
from exchanges.bingx import BingXClient
from exchanges.errors import OrderProcessing
from exchanges.simulator import settlement_net
from tests.arbitrage.test_executor_e2e import SYMBOL, run_instant, sim_orders, sim_positions, subscribe

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_timeline")]

QUANTITY = Decimal("0.5")
BINGX_ORDER = "/openApi/swap/v2/trade/order"
BYBIT_ORDER = "POST /v5/order/create"


def assert_flat(sim, *accounts) -> None:
    for account in accounts:
        assert sim_positions(sim, account) == [], f"{account.exchange} left open: {sim_positions(sim, account)}"


def primary_settled_size(sim, account, execution) -> Decimal:
    """The position the primary venue charged or credited funding on at T (0 when it held nothing)."""
    rows = sim.funding_ledger(account.exchange, account.api_key)
    # A venue that settles late (BingX) stamps the row when it settles.
    stamped = int(execution.funding_time.timestamp() * 1000) + sim.state.settlement[account.exchange].settle_delay_ms
    at_t = [r for r in rows if r["time_ms"] == stamped]
    return sum((Decimal(r["size"]) for r in at_t), Decimal(0))


def _crash_stage(monkeypatch, name: str) -> None:
    monkeypatch.setattr(driver_module.InstantDriver, name, lambda self, *args: None)


def _expire(execution: Execution) -> None:
    Execution.objects.filter(pk=execution.pk).update(deadline_at=now() - timedelta(seconds=1))


# --- 1. An accepted order whose fill cannot be read in time ----------------------------------------------------


def test_slow_fill_read_on_one_leg_still_holds_the_hedged_pair(venue_sim, user, sim_accounts):
    """The hedge fills at once but its order queries answer 'processing' for 8 s, longer than any fill-read budget:
    its position says it is open, so the pair is held through T and closed; nothing is left open."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").processing(seconds=8)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert primary_settled_size(venue_sim, bybit, execution) == QUANTITY
    assert_flat(venue_sim, bybit, bingx)


def test_slow_fill_reads_on_both_legs_still_hold_the_hedged_pair(venue_sim, user, sim_accounts):
    """Both legs' order queries lag for 8 s: the positions show both open, so the instant completes."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").processing(seconds=8)
    venue_sim.faults("bybit").processing(seconds=8)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert primary_settled_size(venue_sim, bybit, execution) == QUANTITY
    assert_flat(venue_sim, bybit, bingx)


# --- 2. Trimming after a partial fill ----------------------------------------------------------------------------


def test_partial_fill_trims_the_larger_leg_to_the_smaller_fill(venue_sim, user, sim_accounts):
    """The hedge fills 0.25 of 0.5: the primary is trimmed to 0.25 (not closed), both are held through T at 0.25,
    then both are closed."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").partial_fill("0.5")
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert execution.quantity == Decimal("0.25")
    assert primary_settled_size(venue_sim, bybit, execution) == Decimal("0.25")
    assert_flat(venue_sim, bybit, bingx)


# --- 3. The reconciler and a leg whose lookup fails --------------------------------------------------------------


def test_reconciler_reads_positions_when_order_lookups_are_down(venue_sim, user, sim_accounts, monkeypatch):
    """A crash with both legs open, then BingX order queries fail while its positions endpoint works: the
    reconciler sees both legs open from the positions and closes both (COMPLETED), never unwinding one alone."""
    bybit, bingx = sim_accounts
    _crash_stage(monkeypatch, "_settle")
    subscription = subscribe(user, bybit, bingx)
    execution = run_instant(venue_sim, subscription)
    assert execution.status == "opening"
    venue_sim.faults("bingx").fail_next(f"GET {BINGX_ORDER}", http_status=503, count=1000)
    _expire(execution)

    for resumed in executions_reconcile().close_later:  # as the reconcile task does: closed at the planned time
        close_execution(resumed)

    execution.refresh_from_db()
    assert execution.status == "completed", execution.error
    assert_flat(venue_sim, bybit, bingx)


# --- 4. "Not placed" after the grace window, never checked against positions ----------------------------------


def test_lost_response_with_lagging_queries_is_decided_by_positions(venue_sim, user, sim_accounts):
    """The Bybit hedge order fills but its response is lost and its queries say 'not found' for longer than the
    grace: the position shows it filled, so the pair is hedged and completes instead of unwinding its partner."""
    bybit, bingx = sim_accounts
    venue_sim.set_funding_rate(SYMBOL, "bingx", "0.0030")
    venue_sim.faults("bybit").drop_response(BYBIT_ORDER)
    venue_sim.faults("bybit").processing(seconds=6)  # Bybit answers an unknown order with an empty list
    subscription = subscribe(user, bingx, bybit)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert primary_settled_size(venue_sim, bingx, execution) == QUANTITY
    assert_flat(venue_sim, bybit, bingx)


def test_a_lost_answer_then_a_refused_key_unwinds_the_partner_before_t(venue_sim, user, sim_accounts, monkeypatch):
    """The BingX secret is rotated on the venue after the leverage sync and the hedge open's answer is lost: BingX
    then refuses the key on every read, so the open (signed with that key) was refused too. The primary is unwound
    before T instead of being held naked while the key is fixed; the execution waits in RECONCILING until BingX
    reads flat, then ends UNWOUND."""
    bybit, bingx = sim_accounts
    original_sync = driver_module.execution_sync

    def sync_then_rotate(plan) -> bool:
        synced = original_sync(plan)
        venue_sim.add_account("bingx", bingx.api_key, "a-secret-fundarb-does-not-know")
        venue_sim.faults("bingx").drop_response(f"POST {BINGX_ORDER}")
        return synced

    monkeypatch.setattr(driver_module, "execution_sync", sync_then_rotate)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "reconciling", execution.error
    unwind = Order.objects.get(execution=execution, role="primary", action="unwind")
    assert unwind.sent_at < execution.funding_time, "the primary was held naked through T"
    assert primary_settled_size(venue_sim, bybit, execution) == 0
    assert ExecutionEvent.objects.filter(execution=execution, step="hedge_key_refused").exists()
    hedge_open = Order.objects.get(execution=execution, role="hedge", action="open")
    assert hedge_open.status == "sent", "presumed refused, but still looked up once the key works"
    venue_sim.add_account("bingx", bingx.api_key, bingx.api_secret)
    _expire(execution)
    executions_reconcile()
    execution.refresh_from_db()
    assert execution.status == "unwound", execution.error
    assert "one leg was open and has been closed" in execution.error
    hedge_open.refresh_from_db()
    assert hedge_open.status == "not_placed"
    nets = settlement_net(
        venue_sim.settlements(symbol=SYMBOL), SYMBOL, [("bybit", bybit.api_key), ("bingx", bingx.api_key)]
    )
    assert nets and all(n.net == 0 for n in nets), f"the legs did not net to zero at a settlement: {nets}"
    assert_flat(venue_sim, bybit, bingx)


# --- 5. P&L of an execution the reconciler finished --------------------------------------------------------------


def test_pnl_counts_the_funding_of_an_execution_the_reconciler_finished(venue_sim, user, sim_accounts, monkeypatch):
    """A crash before the settle; the reconciler takes the pair back, it is closed after T: the P&L holds the
    funding the venue paid."""
    bybit, bingx = sim_accounts
    venue_sim.set_funding_rate(SYMBOL, "bybit", "0.0030")
    _crash_stage(monkeypatch, "_settle")
    subscription = subscribe(user, bybit, bingx, close_delay_seconds=4)
    execution = run_instant(venue_sim, subscription)
    _expire(execution)
    executions_reconcile()
    close_execution(execution.pk)
    execution.refresh_from_db()
    assert execution.status == "completed", execution.error
    ledger = venue_sim.funding_ledger("bybit", bybit.api_key)
    assert len(ledger) == 1

    assert execution_pnl_collect(execution_id=execution.pk) is True

    execution.refresh_from_db()
    assert execution.pnl_funding == Decimal(ledger[0]["amount"]) != 0
    assert_flat(venue_sim, bybit, bingx)


# --- 6. Timing: a lead that can never trade, and pacing after the cutoff check ----------------------------------


def test_a_lead_that_cannot_beat_the_open_cutoff_is_refused(venue_sim, user, sim_accounts, settings):
    """With the default 1 s open cutoff a 1 s lead could never trade: the subscription is refused, naming the
    field and the least lead that works."""
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "OPEN_CUTOFF": 1.0}
    bybit, bingx = sim_accounts

    with pytest.raises(ValidationError) as refused:
        subscribe(user, bybit, bingx, lead_seconds=1)

    (message,) = refused.value.message_dict["lead_seconds"]
    assert "lead must be at least 2 s" in message  # the 1 s cutoff plus room to send both opens


def test_paced_legs_never_leave_after_the_cutoff_nor_without_their_partner(venue_sim, user, sim_accounts, settings):
    """Three pairs share one BingX account at one instant and BingX allows one order a second: the third pair cannot
    leave before T - cutoff, so neither of its legs leaves; no open reaches a venue after the cutoff, and no leg
    leaves without its partner."""
    bybit, bingx = sim_accounts
    pairs = [("ETHUSDT", "0.5"), ("BTCUSDT", "0.01"), ("SOLUSDT", "1")]
    subscriptions = [
        subscribe(user, bybit, bingx, symbol=symbol, quantity=Decimal(quantity), lead_seconds=2)
        for symbol, quantity in pairs
    ]
    # The venue tightened its limit after the subscriptions were made.
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "BINGX_ORDERS_PER_SECOND": 1}
    for subscription in subscriptions:
        venue_sim.set_next_funding(subscription.symbol, "bybit", in_seconds=6)
    instants = executions_plan()
    drivers = [threading.Thread(target=instant_drive, kwargs={"funding_time": t}) for t in instants]
    for thread in drivers:
        thread.start()
    for thread in drivers:
        thread.join(timeout=60)

    cutoff = 0.3  # FAST_TIMELINE's OPEN_CUTOFF
    traded = 0
    for subscription in subscriptions:
        execution = Execution.objects.get(subscription=subscription)
        opens = {
            account.exchange: [
                o for o in sim_orders(venue_sim, account) if not o["reduce_only"] and o["symbol"] == subscription.symbol
            ]
            for account in (bybit, bingx)
        }
        assert len(opens["bybit"]) == len(opens["bingx"]), f"#{execution.pk}: one leg left without its partner"
        latest_ms = (execution.funding_time.timestamp() - cutoff) * 1000
        for venue_orders in opens.values():
            for order in venue_orders:
                assert order["created_ms"] <= latest_ms, f"#{execution.pk}: an open arrived after T - cutoff"
        traded += bool(opens["bybit"])
    assert traded == 2, "the budget fits two pairs before the cutoff"
    assert_flat(venue_sim, bybit, bingx)


# --- 7. Ambiguous placement errors ------------------------------------------------------------------------------


def test_processing_answer_on_placement_is_unknown_not_refused(venue_sim, user, sim_accounts, monkeypatch):
    """BingX places the hedge but answers 80019 ('processing'): that is not a refusal, so its partner is not
    unwound; the positions show both legs open and the instant completes."""
    bybit, bingx = sim_accounts
    original = BingXClient.order_send
    answered = []

    def placed_then_processing(self, ready):
        ack = original(self, ready)
        if ready.request.call.reduce_only or answered:
            return ack
        answered.append(ack)
        raise OrderProcessing("the order is being processed", venue="bingx", operation="place order", code="80019")

    monkeypatch.setattr(BingXClient, "order_send", placed_then_processing)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert answered, "the fault was not injected"
    assert execution.status == "completed", execution.error
    assert primary_settled_size(venue_sim, bybit, execution) == QUANTITY
    assert_flat(venue_sim, bybit, bingx)


# --- The suite-wide check itself -----------------------------------------------------------------------------


def test_the_session_check_sees_a_final_status_with_a_position_left(venue_sim, user, sim_accounts):
    """The check every scenario test runs after its body: an execution marked final while its own order still
    holds a position on the simulator is reported (here one is forged); flat ones are not."""
    from exchanges.base import Credentials, PositionMode, Side
    from exchanges.factory import make_client
    from tests.invariants import positions_left_by_final_executions

    bybit, bingx = sim_accounts
    execution = run_instant(venue_sim, subscribe(user, bybit, bingx))
    assert positions_left_by_final_executions(venue_sim) == []
    trader = make_client(
        "bybit", Credentials(bybit.api_key, bybit.api_secret), environment="simulator", base_url=venue_sim.base_url
    )
    forged_id = next(o["client_id"] for o in sim_orders(venue_sim, bybit)).rsplit("-", 1)[0] + "-pu9"
    trader.place_market_order(
        symbol=SYMBOL,
        side=Side.SELL,
        quantity=Decimal("0.1"),
        client_order_id=forged_id,
        position_mode=PositionMode.ONE_WAY,
    )

    problems = positions_left_by_final_executions(venue_sim)

    assert len(problems) == 1 and f"#{execution.pk}" in problems[0]
    trader.place_market_order(
        symbol=SYMBOL,
        side=Side.BUY,
        quantity=Decimal("0.1"),
        client_order_id=forged_id[:-1] + "8",
        position_mode=PositionMode.ONE_WAY,
        reduce_only=True,
    )

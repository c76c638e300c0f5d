"""The executor's rules around the happy path: skips, refusals, one-off subscriptions, kill switches, duplicates,
notifications, and crash recovery by the reconciler. Against the simulator; orders counted there."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from arbitrage.models import Execution, Order, SubscriptionStatus
from arbitrage.services import driver as driver_module
from arbitrage.services.clock import now
from arbitrage.services.driver import instant_drive
from arbitrage.services.planner import executions_plan
from arbitrage.services.reconcile import RESUMED_OPEN, execution_reconcile, executions_reconcile
from arbitrage.services.subscriptions import kill_switch_set, trading_halt_set
from arbitrage.tasks import close_execution
from tests.arbitrage.test_executor_e2e import SYMBOL, run_instant, sim_orders, sim_positions, subscribe

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_timeline")]


def test_edge_below_minimum_is_skipped_with_the_numbers(venue_sim, user, sim_accounts):
    """Funding that does not beat the fees: SKIPPED, the rates, fees and edge stated; nothing sent, still active."""
    bybit, bingx = sim_accounts
    venue_sim.set_funding_rate(SYMBOL, "bybit", "0.0001")
    subscription = subscribe(user, bybit, bingx, min_edge_bps=Decimal("5"))

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "skipped"
    assert "Edge too small" in execution.error and "bps" in execution.error and "fees" in execution.error
    assert execution.expected_edge_bps < 5
    assert sim_orders(venue_sim, bybit) == [] and sim_orders(venue_sim, bingx) == []
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_existing_position_is_a_conflict_and_nothing_is_sent(venue_sim, user, sim_accounts):
    """A position already open on the hedge account: FAILED with a clear message, no order, subscription ERROR."""
    from exchanges.base import Credentials, PositionMode, Side
    from exchanges.factory import make_client

    bybit, bingx = sim_accounts
    trader = make_client(
        "bingx", Credentials(bingx.api_key, bingx.api_secret), environment="simulator", base_url=venue_sim.base_url
    )
    trader.place_market_order(
        symbol=SYMBOL,
        side=Side.BUY,
        quantity=Decimal("0.1"),
        client_order_id="manual-1",
        position_mode=PositionMode.ONE_WAY,
    )
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "failed"
    assert "already has a ETHUSDT position" in execution.error
    assert sim_orders(venue_sim, bybit) == []
    assert len(sim_orders(venue_sim, bingx)) == 1  # only the user's own order
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ERROR


def test_once_subscription_completes_after_its_single_attempt(venue_sim, user, sim_accounts):
    """A one-off subscription executes once, becomes COMPLETED and is never armed again."""
    bybit, bingx = sim_accounts
    subscription = subscribe(user, bybit, bingx, recurring=False)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.COMPLETED
    venue_sim.set_next_funding(SYMBOL, "bybit", in_seconds=5)
    assert executions_plan() == []


@pytest.mark.parametrize("scope", ["user", "everyone"])
def test_kill_switch_before_the_trigger_opens_nothing(venue_sim, user, sim_accounts, monkeypatch, scope):
    """The kill switch pulled after the sync: the trigger refuses, nothing is sent, the execution says why."""
    bybit, bingx = sim_accounts
    subscription = subscribe(user, bybit, bingx)
    original_sync = driver_module.execution_sync

    def sync_then_pull(plan):
        synced = original_sync(plan)
        (kill_switch_set(user=user, engaged=True) if scope == "user" else trading_halt_set(engaged=True))
        return synced

    monkeypatch.setattr(driver_module, "execution_sync", sync_then_pull)
    execution = run_instant(venue_sim, subscription)

    assert execution.status == "skipped"
    assert "Kill switch" in execution.error
    assert sim_orders(venue_sim, bybit) == [] and sim_orders(venue_sim, bingx) == []
    assert set(Order.objects.filter(execution=execution).values_list("status", flat=True)) == {"not_placed"}


def test_a_late_duplicate_delivery_does_nothing(venue_sim, user, sim_accounts):
    """The driver task delivered again after the instant is done finds nothing to claim and sends nothing."""
    bybit, bingx = sim_accounts
    subscription = subscribe(user, bybit, bingx)
    execution = run_instant(venue_sim, subscription)
    orders_before = len(sim_orders(venue_sim, bybit)) + len(sim_orders(venue_sim, bingx))

    assert instant_drive(funding_time=execution.funding_time) == 0

    assert len(sim_orders(venue_sim, bybit)) + len(sim_orders(venue_sim, bingx)) == orders_before


def test_owner_is_emailed_and_noticed_on_error(venue_sim, user, sim_accounts):
    """A subscription going to ERROR sends the owner an email and leaves a dashboard notice."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bybit").fail_next("POST /v5/position/set-leverage", code=110013, count=5)
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "failed"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@example.com"]
    assert "Bybit" in mail.outbox[0].body
    assert user.notices.get().execution_id == execution.pk


# --- Crash recovery (the reconciler) ------------------------------------------------------------------------------


def _crash_stage(monkeypatch, name: str) -> None:
    """Make one driver stage do nothing, as if the worker died right there."""
    monkeypatch.setattr(driver_module.InstantDriver, name, lambda self, *args: None)


def _expire(execution: Execution) -> Execution:
    Execution.objects.filter(pk=execution.pk).update(deadline_at=now() - timedelta(seconds=1))
    return Execution.objects.select_related(
        "subscription__owner", "subscription__primary_account", "subscription__hedge_account"
    ).get(pk=execution.pk)


def test_reconciler_fails_an_execution_stuck_before_the_trigger(venue_sim, user, sim_accounts, monkeypatch):
    """A worker that died after the sync: nothing can have been sent, so FAILED; the subscription stays active."""
    bybit, bingx = sim_accounts
    _crash_stage(monkeypatch, "_schedule_trigger")
    subscription = subscribe(user, bybit, bingx)
    execution = run_instant(venue_sim, subscription)
    assert execution.status == "synced"

    expired = _expire(execution)

    assert executions_reconcile().handled == [expired.pk]

    execution.refresh_from_db()
    assert execution.status == "failed"
    assert "nothing was sent" in execution.error
    assert sim_orders(venue_sim, bybit) == [] and sim_orders(venue_sim, bingx) == []


def test_reconciler_unwinds_a_naked_leg_left_by_a_crash(venue_sim, user, sim_accounts, monkeypatch):
    """A crash after sending, with the hedge request lost: the reconciler finds the primary by client id, sees the
    hedge was never placed, closes the primary: both venues flat, UNWOUND."""
    bybit, bingx = sim_accounts
    venue_sim.faults("bingx").drop_request("POST /openApi/swap/v2/trade/order")
    _crash_stage(monkeypatch, "_settle")
    subscription = subscribe(user, bybit, bingx)
    execution = run_instant(venue_sim, subscription)
    assert execution.status == "opening"
    assert len(sim_positions(venue_sim, bybit)) == 1  # naked until the reconciler comes

    expired = _expire(execution)

    assert executions_reconcile().handled == [expired.pk]

    execution.refresh_from_db()
    assert execution.status == "unwound"
    assert sim_positions(venue_sim, bybit) == [] and sim_positions(venue_sim, bingx) == []
    assert [o["reduce_only"] for o in sim_orders(venue_sim, bybit)] == [False, True]
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ERROR


def test_reconciler_keeps_a_hedged_pair_open_until_its_close_time(venue_sim, user, sim_accounts, monkeypatch):
    """A crash with both legs open before the close time: OPEN again, closed at the planned time, completed."""
    bybit, bingx = sim_accounts
    _crash_stage(monkeypatch, "_settle")
    subscription = subscribe(user, bybit, bingx, close_delay_seconds=4)
    execution = run_instant(venue_sim, subscription)
    assert execution.status == "opening"

    assert execution_reconcile(_expire(execution)) == RESUMED_OPEN
    execution.refresh_from_db()
    assert execution.status == "open"
    assert len(sim_positions(venue_sim, bybit)) == 1 and len(sim_positions(venue_sim, bingx)) == 1

    close_execution(execution.pk)

    execution.refresh_from_db()
    assert execution.status == "completed", execution.error
    assert execution.closed_at >= execution.funding_time + timedelta(seconds=4)
    assert sim_positions(venue_sim, bybit) == [] and sim_positions(venue_sim, bingx) == []


@pytest.mark.parametrize("bound_passed", [False, True], ids=["before-the-proof-bound", "after-the-proof-bound"])
def test_reconciler_closes_a_pair_whose_close_time_passed(
    venue_sim, user, sim_accounts, monkeypatch, settings, bound_passed
):
    """A crash before the close. Past the close time but before the proof's bound, the reconciler takes the pair
    back as OPEN and its close (a task) waits for the funding proof; past the bound it closes both legs at once.
    Either way: completed, flat."""
    if bound_passed:  # the bound is never below the hold: it then ends at the close time, which has passed
        settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "PROOF_BOUND": 0}
    bybit, bingx = sim_accounts
    _crash_stage(monkeypatch, "_close")
    subscription = subscribe(user, bybit, bingx)
    execution = run_instant(venue_sim, subscription)
    assert execution.status == "open"
    expired = _expire(execution)

    report = executions_reconcile()

    assert report.handled == [expired.pk]
    assert report.close_later == ([] if bound_passed else [expired.pk])
    for resumed in report.close_later:
        close_execution(resumed)
    execution.refresh_from_db()
    assert execution.status == "completed", execution.error
    assert sim_positions(venue_sim, bybit) == [] and sim_positions(venue_sim, bingx) == []
    assert Order.objects.filter(execution=execution, action="close", status="filled").count() == 2

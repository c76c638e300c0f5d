"""The smaller findings of issue 13, each stated as the safe behaviour: one owner at a time, backoff between close
attempts, positions that are not ours, marks that disagree, account identity and changes while in flight."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connections

from arbitrage.models import Execution, ExecutionStatus, Order, Subscription, SubscriptionStatus
from arbitrage.services import driver as driver_module
from arbitrage.services.accounts import account_check, account_update
from arbitrage.services.clock import now
from arbitrage.services.reconcile import RESUMED_OPEN, execution_reconcile, executions_reconcile
from arbitrage.services.subscriptions import subscription_update
from arbitrage.tasks import close_execution
from exchanges.base import Credentials, FundingInfo, PositionMode, Side
from exchanges.bingx import BingXClient
from exchanges.bybit import BybitClient
from exchanges.factory import make_client
from tests.arbitrage.test_executor_e2e import SYMBOL, run_instant, sim_orders, sim_positions, subscribe
from tests.conftest import make_sim_account

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_timeline")]


def _crash_stage(monkeypatch, name: str) -> None:
    monkeypatch.setattr(driver_module.InstantDriver, name, lambda self, *args: None)


def _expire(execution: Execution) -> Execution:
    Execution.objects.filter(pk=execution.pk).update(deadline_at=now() - timedelta(seconds=1))
    return Execution.objects.select_related(
        "subscription__owner", "subscription__primary_account", "subscription__hedge_account"
    ).get(pk=execution.pk)


def _trader(sim, account):
    return make_client(
        account.exchange,
        Credentials(account.api_key, account.api_secret),
        environment="simulator",
        base_url=sim.base_url,
    )


def test_two_reconciler_sweeps_never_work_one_execution_at_once(venue_sim, user, sim_accounts, monkeypatch):
    """Two sweeps race for an expired execution: one takes it over, the other finds the lease held and does
    nothing; the close is sent once per leg (no colliding attempt numbers) and it completes."""
    bybit, bingx = sim_accounts
    _crash_stage(monkeypatch, "_close")
    execution = run_instant(venue_sim, subscribe(user, bybit, bingx))
    assert execution.status == "open"
    snapshot = _expire(execution)
    outcomes = []

    def sweep() -> None:
        try:
            outcomes.append(
                execution_reconcile(
                    Execution.objects.select_related(
                        "subscription__owner", "subscription__primary_account", "subscription__hedge_account"
                    ).get(pk=snapshot.pk)
                )
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(map(bool, outcomes)) == [False, True]
    assert RESUMED_OPEN in outcomes  # before the proof's bound: OPEN again, its close waits for the proof
    close_execution(snapshot.pk)
    execution.refresh_from_db()
    assert execution.status == "completed", execution.error
    for account in (bybit, bingx):
        assert [o["reduce_only"] for o in sim_orders(venue_sim, account)] == [False, True]
    assert Execution.objects.get(pk=execution.pk).reconcile_runs == 1


def test_a_reconciling_execution_is_not_taken_twice_before_its_lease_lapses(venue_sim, user, sim_accounts, monkeypatch):
    """RECONCILING -> RECONCILING honours the lease: a second sweep within it takes nothing."""
    bybit, bingx = sim_accounts
    _crash_stage(monkeypatch, "_settle")
    execution = run_instant(venue_sim, subscribe(user, bybit, bingx))
    venue_sim.faults("bingx").outage("GET /openApi/swap/v2/user/positions", seconds=30)
    assert execution_reconcile(_expire(execution)) is True
    held = Execution.objects.get(pk=execution.pk)
    assert held.status == "reconciling" and held.deadline_at > now()

    assert executions_reconcile().handled == []
    venue_sim.clear_faults()
    _expire(execution)
    for resumed in executions_reconcile().close_later:
        close_execution(resumed)
    execution.refresh_from_db()
    assert execution.status == "completed", execution.error


def test_close_attempts_back_off(venue_sim, user, sim_accounts):
    """The close refused as rate limited three times: each new attempt waits longer than the one before, and the
    pair still closes flat."""
    bybit, bingx = sim_accounts
    subscription = subscribe(user, bybit, bingx)
    original = driver_module.execution_close

    def refuse_then_close(plan):
        venue_sim.faults("bingx").fail_next("POST /openApi/swap/v2/trade/order", code=100410, count=3)
        return original(plan)

    driver_module.execution_close = refuse_then_close
    try:
        execution = run_instant(venue_sim, subscription)
    finally:
        driver_module.execution_close = original

    assert execution.status == "completed", execution.error
    sends = list(
        Order.objects.filter(execution=execution, role="hedge", action="close")
        .order_by("attempt")
        .values_list("sent_at", flat=True)
    )
    assert len(sends) == 4
    gaps = [(b - a).total_seconds() for a, b in zip(sends, sends[1:], strict=False)]
    assert all(later >= earlier * 1.2 for earlier, later in zip(gaps, gaps[1:], strict=False)), gaps
    assert sim_positions(venue_sim, bingx) == [] and sim_positions(venue_sim, bybit) == []


def test_a_users_own_trade_in_one_way_mode_is_never_traded_away(venue_sim, user, sim_accounts, monkeypatch):
    """While the pair is open the owner sells 1 ETH on the hedge account (one-way: the position nets to short):
    fundarb trades none of it, goes to RECONCILING, stops the subscription and says why; once the owner has
    bought their 1 ETH back, the reconciler closes the pair (completed)."""
    bybit, bingx = sim_accounts
    original_settle = driver_module.execution_open_settle
    trader = _trader(venue_sim, bingx)

    def settle_then_trade(plan, results):
        opened = original_settle(plan, results)
        trader.place_market_order(
            symbol=SYMBOL, side=Side.SELL, quantity=Decimal("1"), client_order_id="mine-1",
            position_mode=PositionMode.ONE_WAY,
        )  # fmt: skip
        return opened

    monkeypatch.setattr(driver_module, "execution_open_settle", settle_then_trade)
    subscription = subscribe(user, bybit, bingx)
    execution = run_instant(venue_sim, subscription)

    assert execution.status == "reconciling"
    assert "not fundarb's" in execution.error
    assert [o["client_id"] for o in sim_orders(venue_sim, bingx) if o["client_id"].startswith("fa")] == [
        o.client_order_id for o in Order.objects.filter(execution=execution, role="hedge", action="open")
    ]
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ERROR
    assert user.notices.filter(execution=execution).exists()

    trader.place_market_order(
        symbol=SYMBOL,
        side=Side.BUY,
        quantity=Decimal("1"),
        client_order_id="mine-2",
        position_mode=PositionMode.ONE_WAY,
    )
    _expire(execution)
    for resumed in executions_reconcile().close_later:
        close_execution(resumed)
    execution.refresh_from_db()
    assert execution.status == "completed", execution.error
    assert sim_positions(venue_sim, bybit) == [] and sim_positions(venue_sim, bingx) == []


def _hedge_marks_times(monkeypatch, factor: str) -> None:
    original = BingXClient.funding_info

    def scaled(self, symbol):
        info = original(self, symbol)
        return FundingInfo(
            info.venue, info.symbol, info.rate, info.next_funding_time, info.interval_hours,
            info.mark_price * Decimal(factor),
        )  # fmt: skip

    monkeypatch.setattr(BingXClient, "funding_info", scaled)


def test_marks_more_than_two_percent_apart_skip_the_instant_naming_both(venue_sim, user, sim_accounts, monkeypatch):
    """BingX marks ETH 3% above Bybit: SKIPPED with both prices; nothing sent; the subscription stays active."""
    bybit, bingx = sim_accounts
    _hedge_marks_times(monkeypatch, "1.03")
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "skipped"
    assert "Bybit marks ETHUSDT at" in execution.error and "BingX at" in execution.error
    assert sim_orders(venue_sim, bybit) == [] and sim_orders(venue_sim, bingx) == []
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_marks_a_multiple_apart_are_different_contracts_and_stop_the_subscription(
    venue_sim, user, sim_accounts, monkeypatch
):
    """A 1000x price gap (a multiplier contract on one venue): FAILED, the subscription stops, nothing sent."""
    bybit, bingx = sim_accounts
    _hedge_marks_times(monkeypatch, "1000")
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "failed"
    assert "not the same contract" in execution.error
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ERROR
    assert sim_orders(venue_sim, bybit) == [] and sim_orders(venue_sim, bingx) == []


def test_leverage_changed_after_the_sync_leaves_no_pending_order(venue_sim, user, sim_accounts, monkeypatch):
    """The leverage edited between the sync and the trigger: FAILED, and the stored opens say never sent."""
    bybit, bingx = sim_accounts
    subscription = subscribe(user, bybit, bingx)
    original_sync = driver_module.execution_sync

    def sync_then_edit(plan):
        synced = original_sync(plan)
        Subscription.objects.filter(pk=plan.subscription.pk).update(leverage=3)
        return synced

    monkeypatch.setattr(driver_module, "execution_sync", sync_then_edit)
    execution = run_instant(venue_sim, subscription)

    assert execution.status == "failed" and "Leverage changed" in execution.error
    assert set(Order.objects.filter(execution=execution).values_list("status", flat=True)) == {"not_placed"}


def test_a_second_entry_on_one_venue_account_fails_its_check(venue_sim, user, other_user, sim_accounts, monkeypatch):
    """Two keys of one Bybit account (the venue reports one account id): the second entry's check fails, saying
    why, and does not claim the id; the first entry keeps it."""
    bybit, _ = sim_accounts
    second = make_sim_account(venue_sim, other_user, "bybit")
    monkeypatch.setattr(BybitClient, "account_id", lambda self: "shared-uid-1")

    assert account_check(account=bybit).ok
    result = account_check(account=second)

    assert not result.ok and "already registered" in result.message
    bybit.refresh_from_db()
    second.refresh_from_db()
    assert (bybit.venue_account_id, second.venue_account_id) == ("shared-uid-1", "")


def test_an_account_in_flight_keeps_its_environment_and_venue_account(venue_sim, user, sim_accounts, monkeypatch):
    """With an execution open on the account: the environment cannot change, and a key of another venue account is
    refused; nothing is stored. A new key of the same venue account is accepted."""
    bybit, bingx = sim_accounts
    _crash_stage(monkeypatch, "_close")
    execution = run_instant(venue_sim, subscribe(user, bybit, bingx))
    assert execution.status == ExecutionStatus.OPEN
    other_key = "alice-bingx-other-key"
    venue_sim.add_account("bingx", other_key, "other-secret")

    with pytest.raises(ValidationError) as moved:
        account_update(account=bingx, label=bingx.label, environment="demo", base_url="")
    assert "while execution" in " ".join(moved.value.message_dict["environment"])
    with pytest.raises(ValidationError) as swapped:
        account_update(
            account=bingx, label=bingx.label, environment=bingx.environment, base_url=bingx.base_url,
            api_key=other_key, api_secret="other-secret",
        )  # fmt: skip
    assert "same BingX account" in " ".join(swapped.value.message_dict["api_key"])
    bingx.refresh_from_db()
    assert bingx.api_key != other_key

    monkeypatch.setattr(BingXClient, "account_id", lambda self: "one-account")
    account_update(
        account=bingx, label=bingx.label, environment=bingx.environment, base_url=bingx.base_url,
        api_key=other_key, api_secret="other-secret",
    )  # fmt: skip
    bingx.refresh_from_db()
    assert bingx.api_key == other_key
    # Back to the key that holds the position (the simulator keeps one account per key), then close as planned.
    account_update(
        account=bingx, label=bingx.label, environment=bingx.environment, base_url=bingx.base_url,
        api_key="alice-bingx-main-key", api_secret="alice-bingx-secret-main",
    )  # fmt: skip
    close_execution(execution.pk)
    execution.refresh_from_db()
    assert execution.status == "completed", execution.error


def test_a_subscription_edit_keeps_the_lead_rule(venue_sim, user, sim_accounts, settings):
    """Editing a subscription checks the lead against the cutoff too (its own row is not counted twice)."""
    bybit, bingx = sim_accounts
    subscription = subscribe(user, bybit, bingx, lead_seconds=2)
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "OPEN_CUTOFF": 1.0}
    from arbitrage.services.subscriptions import SubscriptionInput

    data = SubscriptionInput(
        symbol=SYMBOL, primary_account=bybit, hedge_account=bingx, quantity=Decimal("0.5"), leverage=5, lead_seconds=2
    )
    subscription_update(subscription=subscription, data=data)  # 1.0 + 0 pacing + 0.5 <= 2
    with pytest.raises(ValidationError) as short:
        subscription_update(subscription=subscription, data=SubscriptionInput(**{**data.__dict__, "lead_seconds": 1}))
    assert "lead_seconds" in short.value.message_dict

"""Close on proof (issue 14): after T both legs stay open until the venue's ledger shows the funding, or the bound.

The simulator's BingX settles late (its own constant, set per test); its ledger row is the proof. Every test checks,
on the simulator's clock, when the close orders were created against when the row was stamped, and ends flat.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest

from arbitrage.models import Execution, ExecutionEvent, FundingPayment, Order, OrderAction
from arbitrage.services import driver as driver_module
from arbitrage.services.clock import now
from arbitrage.services.pnl import execution_pnl_collect
from arbitrage.services.reconcile import executions_reconcile
from arbitrage.services.timing import pair_timing
from arbitrage.tasks import close_execution
from exchanges.simulator import settlement_net
from tests.arbitrage.test_executor_e2e import SYMBOL, run_instant, sim_orders, sim_positions, subscribe

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_timeline")]

SETTLES_AFTER_THE_HOLD = 2.0  # seconds after T: later than the pair's 1 s hold, sooner than the ~2.9 s bound


def bingx_row(sim, account) -> dict:
    (row,) = [r for r in sim.funding_ledger("bingx", account.api_key) if r["symbol"] == SYMBOL]
    return row


def close_orders_ms(sim, *accounts) -> list[int]:
    return [o["created_ms"] for account in accounts for o in sim_orders(sim, account) if o["reduce_only"]]


def steps(execution) -> list[ExecutionEvent]:
    return list(ExecutionEvent.objects.filter(execution=execution))


def assert_hedged_at_t_and_flat(sim, *accounts, settled: bool = True) -> None:
    """From the simulator's books: the legs netted to zero at every settlement it recorded (``settled``: at least
    one), and nothing is left open."""
    nets = settlement_net(sim.settlements(symbol=SYMBOL), SYMBOL, accounts=[(a.exchange, a.api_key) for a in accounts])
    assert nets or not settled, "no venue settled T during the test"
    assert [n for n in nets if n.net != 0] == [], f"the legs did not net to zero at a settlement: {nets}"
    for account in accounts:
        assert sim_positions(sim, account) == [], f"{account.exchange} left open"


def test_the_close_waits_for_the_bingx_ledger_row(venue_sim, user, sim_accounts):
    """BingX settles 2 s after T, after the pair's 1 s hold: both legs stay open until its FUNDING_FEE row is in,
    then close together; the row is stored with its ledger id and amount, and the timeline says when BingX paid."""
    bybit, bingx = sim_accounts
    venue_sim.set_funding_rate(SYMBOL, "bingx", "0.0030")
    venue_sim.set_settle_delay("bingx", seconds=SETTLES_AFTER_THE_HOLD)
    subscription = subscribe(user, bingx, bybit, lead_seconds=None, close_delay_seconds=None)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert execution.funding_confirmed is True
    row = bingx_row(venue_sim, bingx)
    assert Decimal(row["amount"]) > 0
    closes = close_orders_ms(venue_sim, bingx, bybit)
    assert len(closes) == 2 and min(closes) > row["time_ms"], "a leg was closed before BingX paid"
    (payment,) = FundingPayment.objects.filter(execution=execution)
    assert (payment.venue, payment.leg, payment.ledger_id) == ("bingx", "primary", row["row_id"])
    assert payment.amount == Decimal(row["amount"]) and payment.funding_time == execution.funding_time
    (confirmed,) = [e for e in steps(execution) if e.step == "funding_confirmed"]
    assert f"funding confirmed by BingX at T+{SETTLES_AFTER_THE_HOLD:.1f} s: +" in confirmed.detail
    assert execution_pnl_collect(execution_id=execution.pk) is True
    execution.refresh_from_db()
    assert execution.pnl_funding == payment.amount
    assert_hedged_at_t_and_flat(venue_sim, bybit, bingx)


def test_no_row_by_the_bound_closes_both_legs_and_marks_the_funding_unconfirmed(venue_sim, user, sim_accounts):
    """BingX has not settled by the bound: both legs close anyway at the bound (never one alone), the funding is
    marked unconfirmed, and the timeline says so."""
    bybit, bingx = sim_accounts
    venue_sim.set_funding_rate(SYMBOL, "bingx", "0.0030")
    venue_sim.set_settle_delay("bingx", seconds=30)
    subscription = subscribe(user, bingx, bybit, lead_seconds=None, close_delay_seconds=None)
    bound = pair_timing(primary=bingx, hedge=bybit).proof_bound

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert execution.funding_confirmed is False
    closes = close_orders_ms(venue_sim, bingx, bybit)
    funding_ms = execution.funding_time.timestamp() * 1000
    assert len(closes) == 2 and min(closes) >= funding_ms + bound * 1000
    (unconfirmed,) = [e for e in steps(execution) if e.step == "funding_unconfirmed"]
    assert "no funding row from BingX" in unconfirmed.detail and "unconfirmed" in unconfirmed.detail
    assert not FundingPayment.objects.filter(execution=execution).exists()
    assert execution_pnl_collect(execution_id=execution.pk) is False  # still awaiting BingX's row
    assert_hedged_at_t_and_flat(venue_sim, bybit, bingx, settled=False)  # BingX settles after the test


@pytest.mark.parametrize("settles_after", [SETTLES_AFTER_THE_HOLD, 30.0], ids=["row-in-time", "no-row-by-the-bound"])
def test_a_reconciler_takeover_during_the_wait_closes_only_on_proof_or_at_the_bound(
    venue_sim, user, sim_accounts, monkeypatch, settles_after
):
    """The driver dies at the close time while BingX has not settled yet; the reconciler takes the pair back: it is
    OPEN again and its close waits for BingX's row too (or the bound, when no row comes), never closing at once."""
    bybit, bingx = sim_accounts
    venue_sim.set_funding_rate(SYMBOL, "bingx", "0.0030")
    venue_sim.set_settle_delay("bingx", seconds=settles_after)
    monkeypatch.setattr(driver_module.InstantDriver, "_close", lambda self, plan: None)
    subscription = subscribe(user, bingx, bybit, lead_seconds=None, close_delay_seconds=None)
    bound = pair_timing(primary=bingx, hedge=bybit).proof_bound

    execution = run_instant(venue_sim, subscription)
    assert execution.status == "open", execution.error
    close_at = execution.funding_time + timedelta(seconds=execution.close_delay_seconds)
    time.sleep(max(0.0, (close_at - now()).total_seconds()) + 0.2)  # past the hold, before BingX settles
    Execution.objects.filter(pk=execution.pk).update(deadline_at=now() - timedelta(seconds=1))

    resumed = executions_reconcile().close_later
    assert resumed == [execution.pk]
    execution.refresh_from_db()
    assert execution.status == "open"
    assert execution.deadline_at > execution.funding_time + timedelta(seconds=bound), "taken over again mid-wait"
    close_execution(execution.pk)

    execution.refresh_from_db()
    assert execution.status == "completed", execution.error
    assert Order.objects.filter(execution=execution, action=OrderAction.CLOSE).count() == 2
    closes = close_orders_ms(venue_sim, bingx, bybit)
    assert len(closes) == 2
    if settles_after < bound:
        assert execution.funding_confirmed is True
        row = bingx_row(venue_sim, bingx)
        assert min(closes) > row["time_ms"], "the reconciler closed before BingX paid"
        assert FundingPayment.objects.filter(execution=execution, ledger_id=row["row_id"]).exists()
    else:
        assert execution.funding_confirmed is False
        assert min(closes) >= execution.funding_time.timestamp() * 1000 + bound * 1000, "closed before the bound"
    assert_hedged_at_t_and_flat(venue_sim, bybit, bingx, settled=settles_after < bound)


@pytest.mark.parametrize(
    ("bingx_rate", "edge_bps", "note"),
    [
        ("0.0010", Decimal("-1"), "the hedge pays, counted"),  # 30 bps received, 10 paid, 21 of fees
        ("-0.0010", Decimal("9"), "the hedge would receive, not counted"),  # 30 received, 21 of fees
    ],
)
def test_the_edge_counts_a_hedge_payment_only_when_it_pays(venue_sim, user, sim_accounts, bingx_rate, edge_bps, note):
    """Both venues settle at T. The Bybit primary is short and receives 30 bps; the BingX hedge is long. When BingX
    would charge the long, the estimate counts it; when it would pay the long, the estimate leaves it out. Either
    way the close waits for both ledgers' rows (BingX's comes after the hold), and the P&L holds both."""
    bybit, bingx = sim_accounts
    venue_sim.set_funding_rate(SYMBOL, "bybit", "0.0030")
    venue_sim.set_funding_rate(SYMBOL, "bingx", bingx_rate)
    venue_sim.set_next_funding(SYMBOL, "bingx", in_seconds=5)
    venue_sim.set_settle_delay("bingx", seconds=SETTLES_AFTER_THE_HOLD)  # the hedge's row comes after the hold
    subscription = subscribe(user, bybit, bingx)

    execution = run_instant(venue_sim, subscription)

    assert execution.status == "completed", execution.error
    assert execution.hedge_settles and execution.expected_edge_bps == edge_bps
    preflight = next(e for e in steps(execution) if e.step == "preflight")
    assert note in preflight.detail
    payments = {p.leg: p for p in FundingPayment.objects.filter(execution=execution)}
    assert set(payments) == {"primary", "hedge"}
    assert (payments["hedge"].amount < 0) is (bingx_rate == "0.0010")
    closes = close_orders_ms(venue_sim, bingx, bybit)
    latest_row = max(int(p.paid_at.timestamp() * 1000) for p in payments.values())
    assert min(closes) > latest_row, "a leg was closed before both venues paid"
    assert_hedged_at_t_and_flat(venue_sim, bybit, bingx)

"""P&L of an execution from the venues' own records: fills for price and fees, funding ledgers for funding.

Venues report funding some seconds after the instant (BingX stamps its income row ~15 s later), so the first look
may find nothing; the periodic sweep looks again until both venues have reported (or we give up and say so).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from arbitrage.models import Execution, ExecutionStatus, LegRole, Order, OrderAction
from arbitrage.services import clock
from arbitrage.services.clients import client_for_account
from arbitrage.services.events import event_record
from arbitrage.services.parallel import run_parallel
from arbitrage.services.plan import plan_for
from arbitrage.services.records import orders_refresh
from exchanges.base import Side

logger = logging.getLogger(__name__)
S = ExecutionStatus
# Funding rows carry the venue's clock (which may differ from ours by seconds) and BingX stamps them ~15 s after
# the instant: the open window widened by these margins catches them, and still excludes the next instant.
LEDGER_BEFORE = timedelta(seconds=30)
LEDGER_AFTER = timedelta(seconds=60)


def _cash_flow(order: Order) -> Decimal:
    """Selling brings quote currency in, buying pays it out: summed over a flat round trip, that is price P&L."""
    if not order.filled_quantity or order.avg_price is None:
        return Decimal(0)
    amount = order.filled_quantity * order.avg_price
    return amount if order.side == Side.SELL.value else -amount


def _held_at_instant(execution: Execution, orders: list[Order]) -> dict[str, bool]:
    """Per leg: did it hold a position at T? It did if its open filled and the legs were not flat before T."""
    flat_before = execution.closed_at is not None and execution.closed_at <= execution.funding_time
    return {
        role: not flat_before
        and any(o.role == role and o.action == OrderAction.OPEN and o.filled_quantity > 0 for o in orders)
        for role in (LegRole.PRIMARY, LegRole.HEDGE)
    }


def execution_pnl_collect(*, execution_id: int) -> bool:
    """Compute and store P&L; returns True once it is final.

    Final means: each leg that held a position at T (and, for the hedge, whose venue settled while the legs were
    open) shows its funding payment in its venue's ledger, and every fill has the venue's own price and fee. Until
    then the figures are provisional; after ``PNL_GIVE_UP`` they are final with what was found, and the timeline
    says what is missing.
    """
    execution = Execution.objects.select_related(
        "subscription__owner", "subscription__primary_account", "subscription__hedge_account"
    ).get(pk=execution_id)
    if execution.pnl_final or execution.status not in (S.COMPLETED, S.UNWOUND):
        return execution.pnl_final
    orders = list(execution.orders.all())
    unconfirmed = [o for o in orders if o.filled_quantity > 0 and not o.fill_confirmed]
    if unconfirmed:
        orders_refresh(plan_for(execution), unconfirmed)
        orders = list(execution.orders.all())
    price = sum((_cash_flow(o) for o in orders), Decimal(0))
    fees = -sum((o.fee or Decimal(0) for o in orders), Decimal(0))
    fills_known = all(o.fill_confirmed for o in orders if o.filled_quantity > 0)

    held = _held_at_instant(execution, orders)
    expected = {LegRole.PRIMARY: held[LegRole.PRIMARY], LegRole.HEDGE: held[LegRole.HEDGE] and execution.hedge_settles}
    funding = Decimal(0)
    reported = {LegRole.PRIMARY: False, LegRole.HEDGE: False}
    if any(held.values()):
        accounts = {
            LegRole.PRIMARY: execution.subscription.primary_account,
            LegRole.HEDGE: execution.subscription.hedge_account,
        }
        trigger = execution.funding_time - timedelta(seconds=execution.lead_seconds)
        since = min(execution.opened_at or trigger, trigger) - LEDGER_BEFORE
        until = max(execution.closed_at or clock.now(), execution.funding_time) + LEDGER_AFTER
        outcomes = run_parallel(
            *[
                (lambda a=a: client_for_account(a).funding_payments(since=since, until=until, symbol=execution.symbol))
                for a in accounts.values()
            ]
        )
        for (role, account), outcome in zip(accounts.items(), outcomes, strict=True):
            if outcome.error:
                logger.warning("funding ledger of account %s unavailable: %s", account.pk, outcome.error)
                continue
            payments = [p for p in outcome.value if since <= p.time <= until]
            funding += sum((p.amount for p in payments), Decimal(0))
            reported[role] = bool(payments)
    missing = [role for role, wanted in expected.items() if wanted and not reported[role]]
    final = not missing and fills_known
    gave_up = clock.now() - execution.funding_time > timedelta(seconds=settings.FUNDARB_EXECUTOR["PNL_GIVE_UP"])
    if not final and gave_up:
        final = True
        gaps = [f"the {role} venue never reported its funding payment" for role in missing]
        if not fills_known:
            gaps.append("some fills have no price or fee from the venue")
        event_record(
            execution_id=execution.pk,
            step="pnl_final",
            outcome="failed",
            detail=f"P&L is final without what is missing: {'; '.join(gaps)}",
        )
    Execution.objects.filter(pk=execution.pk).update(
        pnl_price=price, pnl_fees=fees, pnl_funding=funding, pnl_final=final
    )
    if final:
        event_record(
            execution_id=execution.pk,
            step="pnl_final",
            outcome="ok",
            detail=f"funding {funding:+.4f}, fees {fees:+.4f}, price {price:+.4f}, "
            f"net {funding + fees + price:+.4f} USDT",
        )
    return final


def executions_pnl_sweep() -> int:
    """Look again at every finished execution whose P&L is not final yet. Returns how many became final."""
    ready_before = clock.now() - timedelta(seconds=settings.FUNDARB_EXECUTOR["PNL_FIRST_LOOK"])
    pending = Execution.objects.filter(
        status__in=(S.COMPLETED, S.UNWOUND), pnl_final=False, funding_time__lte=ready_before
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(pending[:200]) if execution_pnl_collect(execution_id=pk))

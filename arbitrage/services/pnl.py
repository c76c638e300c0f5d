"""P&L of an execution from the venues' own records: fills for price and fees, the funding rows the venues' ledgers
showed (``services/funding.py``) for funding.

Venues report funding some seconds after the instant (BingX stamps its income row ~15 s later); the close usually
waits for the rows, but when it closed at the bound the first look may find nothing: the periodic sweep looks again
until both venues have reported (or we give up and say so).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from arbitrage.models import Execution, ExecutionStatus, LegRole, Order, OrderAction
from arbitrage.services import clock
from arbitrage.services.events import event_record
from arbitrage.services.funding import funding_payments_read
from arbitrage.services.plan import plan_for
from arbitrage.services.records import orders_refresh
from exchanges.base import Side

S = ExecutionStatus


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
    held_legs = [role for role, was_held in held.items() if was_held]
    rows = funding_payments_read(execution=execution, roles=held_legs).rows if held_legs else {}
    funding = sum((row.amount for role_rows in rows.values() for row in role_rows), Decimal(0))
    reported = {role: bool(rows.get(role)) for role in (LegRole.PRIMARY, LegRole.HEDGE)}
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

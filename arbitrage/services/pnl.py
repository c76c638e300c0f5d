"""P&L of an execution from the venues' own records: fills for price and fees, the funding rows the venues' ledgers
showed (``services/funding.py``) for funding.

Venues report funding some seconds after the instant (BingX stamps its income row ~15 s later); the close usually
waits for the rows, but when it closed at the bound the first look may find nothing: the periodic sweep looks again
until both venues have reported (or we give up and say so).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from arbitrage.models import Execution, ExecutionStatus, LegRole, Order, OrderAction, PnlTotal
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
    written = execution_pnl_record(execution_id=execution.pk, funding=funding, fees=fees, price=price, final=final)
    if final and written:
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


# --- Running totals (PnlTotal) ------------------------------------------------------------------------------------

PNL_FIELDS = ("pnl_funding", "pnl_fees", "pnl_price")


def _amount(value: Decimal | None) -> Decimal:
    return Decimal(0) if value is None else value


def pnl_day(funding_time: datetime) -> date:
    """The day whose running total counts an instant's money."""
    return funding_time.astimezone(UTC).date()


def pnl_totals_add(
    *,
    owner_id: int,
    day: date,
    executions: int = 0,
    funding: Decimal = Decimal(0),
    fees: Decimal = Decimal(0),
    price: Decimal = Decimal(0),
    create: bool = True,
) -> None:
    """Move one owner's running totals for one day by these increments.

    Call it inside the transaction that writes the amounts it counts, so the totals never disagree with the rows.
    The row is locked, added to in Python and written back: in SQL (``F() + x``) SQLite would add its DECIMAL
    columns as floats and the totals would drift from the executions' own figures. ``create=False`` only adjusts an
    existing row (a delete must not recreate the totals of an owner who is being deleted with them)."""
    if not (executions or funding or fees or price):
        return
    with transaction.atomic():
        rows = PnlTotal.objects.select_for_update().filter(owner_id=owner_id, day=day)
        row = rows.first()
        if row is None:
            if not create:
                return
            # First money of this owner on this day. ON CONFLICT DO NOTHING: a concurrent first writer's row wins,
            # and this one adds to it.
            PnlTotal.objects.bulk_create([PnlTotal(owner_id=owner_id, day=day)], ignore_conflicts=True)
            row = rows.get()
        row.executions += executions
        row.funding += funding
        row.fees += fees
        row.price += price
        row.save(update_fields=["executions", "funding", "fees", "price"])


def execution_pnl_record(
    *, execution_id: int, funding: Decimal | None, fees: Decimal | None, price: Decimal | None, final: bool
) -> bool:
    """Store an execution's P&L and move its owner's running totals by the difference from what was stored before.

    Returns False, writing nothing, when the stored P&L is already final: figures that are final are not revised,
    so a second collector that raced the first cannot count them twice. The row is locked for the read-and-write
    (``select_for_update``; on SQLite the immediate transaction takes the database's write lock)."""
    with transaction.atomic():
        before = (
            Execution.objects.select_for_update()
            .values("owner_id", "funding_time", "pnl_final", *PNL_FIELDS)
            .get(pk=execution_id)
        )
        if before["pnl_final"]:
            return False
        Execution.objects.filter(pk=execution_id).update(
            pnl_funding=funding, pnl_fees=fees, pnl_price=price, pnl_final=final
        )
        had = any(before[name] is not None for name in PNL_FIELDS)
        has = any(value is not None for value in (funding, fees, price))
        pnl_totals_add(
            owner_id=before["owner_id"],
            day=pnl_day(before["funding_time"]),
            executions=int(has) - int(had),
            funding=_amount(funding) - _amount(before["pnl_funding"]),
            fees=_amount(fees) - _amount(before["pnl_fees"]),
            price=_amount(price) - _amount(before["pnl_price"]),
        )
    return True


def pnl_totals_forget_subscription(*, subscription_id: int) -> None:
    """Take a subscription's executions out of their owner's running totals (it is being deleted with them).

    One grouped read and one update per day, however many executions; call it in the deleting transaction."""
    # Executions first, then totals: the order ``execution_pnl_record`` takes its locks in, so a P&L being recorded
    # for one of them while it is deleted waits instead of deadlocking.
    list(Execution.objects.select_for_update().filter(subscription_id=subscription_id).values_list("pk", flat=True))
    rows = (
        Execution.objects.filter(subscription_id=subscription_id)
        .exclude(pnl_funding=None, pnl_fees=None, pnl_price=None)
        .annotate(day=TruncDate("funding_time", tzinfo=UTC))
        .values("owner_id", "day")
        .annotate(count=Count("pk"), funding=Sum("pnl_funding"), fees=Sum("pnl_fees"), price=Sum("pnl_price"))
        .order_by()
    )
    for row in rows:
        pnl_totals_add(
            owner_id=row["owner_id"],
            day=row["day"],
            executions=-row["count"],
            funding=-_amount(row["funding"]),
            fees=-_amount(row["fees"]),
            price=-_amount(row["price"]),
            create=False,
        )

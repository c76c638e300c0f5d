"""P&L of an execution from the venues' own records: fills for price and fees, funding ledgers for funding.

Venues report funding some seconds after the instant (BingX stamps its income row ~15 s later), so the first look
may find nothing; the periodic sweep looks again until both venues have reported (or we give up and say so).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from arbitrage.models import Execution, ExecutionStatus, Order
from arbitrage.services import clock
from arbitrage.services.clients import client_for_account
from arbitrage.services.events import event_record
from arbitrage.services.parallel import run_parallel
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


def execution_pnl_collect(*, execution_id: int) -> bool:
    """Compute and store P&L; returns True once it is final."""
    execution = Execution.objects.select_related("subscription__primary_account", "subscription__hedge_account").get(
        pk=execution_id
    )
    if execution.pnl_final or execution.status not in (S.COMPLETED, S.UNWOUND):
        return execution.pnl_final
    orders = list(execution.orders.all())
    price = sum((_cash_flow(o) for o in orders), Decimal(0))
    fees = -sum((o.fee or Decimal(0) for o in orders), Decimal(0))

    held_through_instant = execution.opened_at is not None and (
        execution.closed_at is None or execution.closed_at > execution.funding_time
    )
    funding = Decimal(0)
    final = True
    if held_through_instant:
        accounts = [execution.subscription.primary_account, execution.subscription.hedge_account]
        since = execution.opened_at - LEDGER_BEFORE
        until = (execution.closed_at or clock.now()) + LEDGER_AFTER
        outcomes = run_parallel(
            *[
                (lambda a=a: client_for_account(a).funding_payments(since=since, until=until, symbol=execution.symbol))
                for a in accounts
            ]
        )
        reported = []
        for account, outcome in zip(accounts, outcomes, strict=True):
            if outcome.error:
                reported.append(False)
                logger.warning("funding ledger of account %s unavailable: %s", account.pk, outcome.error)
                continue
            payments = [p for p in outcome.value if since <= p.time <= until]
            funding += sum((p.amount for p in payments), Decimal(0))
            reported.append(bool(payments))
        primary_reported, hedge_reported = reported
        final = primary_reported and (hedge_reported or not execution.hedge_settles)
        gave_up = clock.now() - execution.funding_time > timedelta(seconds=settings.FUNDARB_EXECUTOR["PNL_GIVE_UP"])
        if not final and gave_up:
            final = True
            event_record(
                execution_id=execution.pk,
                step="pnl_final",
                outcome="failed",
                detail="a venue never reported the funding payment; P&L is final without it",
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

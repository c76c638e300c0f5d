"""Crash recovery: finish or unwind whatever a dead or stuck worker left behind.

An execution whose deadline passed while it was still in flight is taken over (compare-and-set to RECONCILING),
its orders are looked up at the venues by client order id, the positions are read, and then:
nothing open -> FAILED or COMPLETED; both legs open before the close time -> OPEN again, closed on time;
otherwise whatever is open is closed (COMPLETED when both legs were held, UNWOUND when one leg was naked).
Nothing is left open that the database does not know about.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings

from arbitrage.models import Execution, ExecutionStatus, Order, OrderAction, OrderState
from arbitrage.services import clock
from arbitrage.services.events import event_record
from arbitrage.services.execution import (
    Plan,
    execution_transition,
    open_position_size,
    order_fill_fields,
    plan_for,
    positions_flatten,
    subscription_after_instant,
    subscription_fail,
)
from arbitrage.services.orders import order_lookup
from arbitrage.services.parallel import run_parallel
from exchanges.errors import ExchangeError

logger = logging.getLogger(__name__)
S = ExecutionStatus
BEFORE_TRIGGER = (S.PLANNED, S.PREFLIGHT, S.SYNCED)
IN_FLIGHT = (S.OPENING, S.OPEN, S.CLOSING, S.UNWINDING, S.RECONCILING)


def _grace() -> timedelta:
    return timedelta(seconds=settings.FUNDARB_EXECUTOR["RECONCILE_GRACE"])


RESUMED_OPEN = "resumed_open"


@dataclass(frozen=True)
class ReconcileReport:
    handled: list[int]
    close_later: list[int]  # resumed as OPEN: the caller runs their close at the planned time


def executions_reconcile() -> ReconcileReport:
    """Take over every execution past its deadline."""
    stuck = Execution.objects.filter(status__in=BEFORE_TRIGGER + IN_FLIGHT, deadline_at__lt=clock.now())
    report = ReconcileReport(handled=[], close_later=[])
    for execution in stuck.select_related(
        "subscription__owner", "subscription__primary_account", "subscription__hedge_account"
    )[:100]:
        try:
            outcome = execution_reconcile(execution)
        except Exception:
            logger.exception("reconciling execution %s failed; retrying on the next sweep", execution.pk)
            continue
        if outcome:
            report.handled.append(execution.pk)
        if outcome == RESUMED_OPEN:
            report.close_later.append(execution.pk)
    return report


def execution_reconcile(execution: Execution) -> str | bool:
    """False if another process holds the execution; RESUMED_OPEN when it must be closed later; else True."""
    previous = execution.status
    if not execution_transition(execution.pk, source=previous, target=S.RECONCILING, deadline=clock.now() + _grace()):
        return False
    plan = plan_for(execution)
    plan.record(step="reconcile", outcome="info", detail=f"taken over from status {previous}")
    if previous in BEFORE_TRIGGER:
        # No order leaves before the SYNCED -> OPENING compare-and-set, so nothing can be open.
        Order.objects.filter(execution_id=plan.pk, status=OrderState.PENDING).update(
            status=OrderState.NOT_PLACED, error="never sent"
        )
        message = f"The worker stopped before the trigger (status {previous}); nothing was sent"
        execution_transition(plan.pk, source=S.RECONCILING, target=S.FAILED, error=message)
        plan.record(step="failed", outcome="failed", detail=message)
        return True
    _orders_resolve(plan)
    opens = list(Order.objects.filter(execution_id=plan.pk, action=OrderAction.OPEN, attempt=1).order_by("role"))
    held = [o for o in opens if o.filled_quantity > 0]
    reads = run_parallel(*[(lambda o=o: open_position_size(plan, o)) for o in held])
    if any(r.error for r in reads):
        plan.record(step="reconcile", outcome="failed", detail="positions unreadable; retrying on the next sweep")
        return True
    open_now = {o.role: (o, r.value) for o, r in zip(held, reads, strict=True) if r.value > 0}
    both_held = len(held) == 2
    if not open_now:
        closed = Order.objects.filter(execution_id=plan.pk, action=OrderAction.CLOSE, filled_quantity__gt=0).exists()
        target = S.COMPLETED if both_held and closed else S.UNWOUND if held else S.FAILED
        return _finish(plan, target, "positions are flat")
    sizes = {size for _, size in open_now.values()}
    if both_held and len(open_now) == 2 and len(sizes) == 1 and clock.now() < plan.close_at:
        execution_transition(plan.pk, source=S.RECONCILING, target=S.OPEN, deadline=plan.close_at + _grace())
        plan.record(step="reconcile", outcome="ok", detail="both legs open and hedged: closing at the planned time")
        return RESUMED_OPEN
    action = OrderAction.CLOSE if both_held else OrderAction.UNWIND
    if not positions_flatten(plan, legs=list(open_now.values()), action=action):
        message = "Positions could not be closed yet; retrying on the next sweep. Check the venue."
        subscription_fail(plan.subscription, message, execution=plan.execution)
        return True
    return _finish(plan, S.COMPLETED if both_held else S.UNWOUND, "closed what was open")


def _finish(plan: Plan, target: S, how: str) -> bool:
    message = "" if target == S.COMPLETED else f"Recovered after a worker failure: {how}"
    execution_transition(plan.pk, source=S.RECONCILING, target=target, error=message, closed_at=clock.now())
    plan.record(step="reconcile", outcome="ok", detail=f"{how}: {target}")
    if target in (S.UNWOUND, S.FAILED):
        subscription_fail(plan.subscription, message, execution=plan.execution)
    else:
        subscription_after_instant(plan.subscription, outcome=target)
    return True


def _orders_resolve(plan: Plan) -> None:
    """Ask the venue about every order whose outcome the database does not know for certain."""
    unsure = list(
        Order.objects.filter(execution_id=plan.pk, status__in=(OrderState.PENDING, OrderState.SENT, OrderState.ACKED))
    )
    outcomes = run_parallel(
        *[
            (lambda o=o: order_lookup(plan.client_of(o), symbol=o.symbol, client_order_id=o.client_order_id))
            for o in unsure
        ]
    )
    for order, outcome in zip(unsure, outcomes, strict=True):
        if outcome.error:
            detail = str(outcome.error) if isinstance(outcome.error, ExchangeError) else type(outcome.error).__name__
            event_record(execution_id=plan.pk, step="order_lookup", outcome="failed", venue=order.venue, detail=detail)
            continue
        if outcome.value is None:
            Order.objects.filter(pk=order.pk).update(status=OrderState.NOT_PLACED, error="the venue has no such order")
            order.filled_quantity = Decimal(0)
        else:
            Order.objects.filter(pk=order.pk).update(**order_fill_fields(outcome.value))
        event_record(
            execution_id=plan.pk,
            step="order_lookup",
            outcome="ok",
            venue=order.venue,
            detail=f"{order.client_order_id}: {'not placed' if outcome.value is None else outcome.value.status}",
        )

"""Every status change of an execution, as a compare-and-set, and what the owner is told.

``execution_transition`` moves a row only from the expected status, so a duplicate, late or concurrent task finds
it already moved and does nothing. The row's ``driver_token`` and ``deadline_at`` form a lease: whoever owns the
next step renews the deadline while it works (``execution_lease_renew``), and only once it lapses may the
reconciler take the row over under a new token (``execution_take_over``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.db.models import F, Value
from django.db.models.functions import Greatest

from arbitrage.models import Execution, ExecutionStatus, Order, OrderState, Subscription, SubscriptionStatus
from arbitrage.services import clock
from arbitrage.services.events import event_record
from arbitrage.services.notifications import notify_owner
from arbitrage.services.plan import Plan, cfg

S = ExecutionStatus


def new_token() -> str:
    return uuid.uuid4().hex


def execution_transition(
    execution_id: int,
    *,
    source: S | tuple[S, ...],
    target: S,
    deadline: datetime | None = None,
    token: str | None = None,
    **fields,
) -> bool:
    """Compare-and-set: move to ``target`` only from ``source`` (and, given ``token``, only while that owner still
    holds the row). True if this caller made the move."""
    sources = (source,) if isinstance(source, str) else source
    now = clock.now()
    values = {"status": target, "status_changed_at": now, **fields}
    if deadline is not None:
        values["deadline_at"] = deadline
    rows = Execution.objects.filter(pk=execution_id, status__in=sources)
    if token is not None:
        rows = rows.filter(driver_token=token)
    moved = rows.update(**values)
    if moved:
        event_record(execution_id=execution_id, step=f"status_{target}", outcome="ok", at=now)
    return bool(moved)


def execution_lease_renew(plan: Plan, *, seconds: float | None = None) -> bool:
    """Keep the row ours for a while longer; False when another owner has taken it over (stop working on it)."""
    until = clock.now() + timedelta(seconds=seconds if seconds is not None else cfg("LEASE"))
    # Greatest: a stage's planned deadline (the close time plus grace) is never shortened by a renewal.
    renewed = Execution.objects.filter(pk=plan.pk, driver_token=plan.token).update(
        deadline_at=Greatest(F("deadline_at"), Value(until))
    )
    return bool(renewed)


def execution_take_over(execution: Execution, *, source: S) -> str | None:
    """The reconciler's claim: RECONCILING under a new token, only if the current lease has lapsed."""
    token = new_token()
    now = clock.now()
    moved = Execution.objects.filter(pk=execution.pk, status=source, deadline_at__lt=now).update(
        status=S.RECONCILING,
        status_changed_at=now,
        driver_token=token,
        deadline_at=now + timedelta(seconds=cfg("LEASE")),
        reconcile_runs=execution.reconcile_runs + 1,
    )
    if not moved:
        return None
    if source != S.RECONCILING:
        event_record(execution_id=execution.pk, step=f"status_{S.RECONCILING}", outcome="ok", at=now)
    return token


def subscription_fail(subscription: Subscription, message: str, *, execution: Execution | None = None) -> None:
    """The subscription stops (ERROR) with a message a trader understands, and its owner is told."""
    Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.ERROR, last_error=message)
    notify_owner(subscription=subscription, message=message, execution=execution)


def subscription_after_instant(subscription: Subscription, *, outcome: S) -> None:
    """A one-off subscription is done after its single attempt (completed or skipped)."""
    if subscription.recurring or outcome not in (S.COMPLETED, S.SKIPPED):
        return
    Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.ACTIVE).update(
        status=SubscriptionStatus.COMPLETED
    )


def orders_never_sent(plan: Plan) -> None:
    """Orders stored for a trigger that did not happen are marked so: they never left."""
    Order.objects.filter(execution_id=plan.pk, status=OrderState.PENDING).update(
        status=OrderState.NOT_PLACED, error="never sent"
    )


def execution_fail(plan: Plan, message: str, *, source: tuple[S, ...], stop_subscription: bool = True) -> None:
    """Nothing was sent, so nothing can be open: FAILED with the reason; the subscription stops unless the failure
    was ours (a late worker). Once any order request has left, use ``execution_finish_flat`` instead."""
    orders_never_sent(plan)
    if not execution_transition(plan.pk, source=source, target=S.FAILED, error=message):
        return
    plan.record(step="failed", outcome="failed", detail=message)
    if stop_subscription:
        subscription_fail(plan.subscription, message, execution=plan.execution)
    else:
        notify_owner(subscription=plan.subscription, message=message, execution=plan.execution)


def execution_skip(plan: Plan, message: str, *, source: tuple[S, ...]) -> None:
    orders_never_sent(plan)
    if execution_transition(plan.pk, source=source, target=S.SKIPPED, error=message):
        plan.record(step="skipped", outcome="skipped", detail=message)
        subscription_after_instant(plan.subscription, outcome=S.SKIPPED)


def execution_missed(plan: Plan, why: str) -> None:
    """The worker got to this execution too late to act safely: nothing was sent; try again next instant."""
    execution_fail(plan, why, source=(S.PLANNED, S.PREFLIGHT, S.SYNCED, S.OPENING), stop_subscription=False)


def execution_reconcile_later(plan: Plan, message: str, *, source: S | tuple[S, ...], stop: bool = False) -> None:
    """Something may still be open and is not settled yet: RECONCILING, for the reconciler to keep converging from
    the venues' positions; the owner is told once, when the execution enters it."""
    sources = (source,) if isinstance(source, str) else source
    entering = S.RECONCILING not in sources
    if not execution_transition(plan.pk, source=sources, target=S.RECONCILING, deadline=clock.now(), error=message):
        return
    plan.record(step="reconcile_later", outcome="failed", detail=message)
    if stop:
        subscription_fail(plan.subscription, message, execution=plan.execution)
    elif entering:
        notify_owner(subscription=plan.subscription, message=message, execution=plan.execution)

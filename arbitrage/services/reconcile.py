"""The reconciler: take over whatever is past its deadline and bring it to a final status from the venues' positions.

An execution whose lease (``deadline_at``) lapsed is taken over under a new owner token, one owner at a time. Before
the trigger nothing can have been sent: FAILED. After it, both legs' positions are read: a hedged pair before the
proof's bound is OPEN again, and its close waits for the ledgers' proof of payment (or the bound) as the driver's
would; otherwise both legs converge to flat, and the final status says what happened (COMPLETED when the pair was
held, UNWOUND when one leg was, FAILED when none was). What cannot be settled now stays RECONCILING with a growing
backoff, and the owner is told. Order records are completed for the timeline and the P&L, never for the decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from arbitrage.models import Execution, ExecutionStatus, Order, OrderAction, Subscription, SubscriptionStatus
from arbitrage.services import clock
from arbitrage.services.converge import (
    ConvergeResult,
    LegState,
    Verdict,
    leg_refused_everything,
    legs_converge,
    legs_read,
)
from arbitrage.services.notifications import notify_owner
from arbitrage.services.plan import Plan, cfg, deadline_after, plan_for
from arbitrage.services.transitions import (
    execution_take_over,
    execution_transition,
    orders_never_sent,
    subscription_after_instant,
    subscription_fail,
)

logger = logging.getLogger(__name__)
S = ExecutionStatus
BEFORE_TRIGGER = (S.PLANNED, S.PREFLIGHT, S.SYNCED)
IN_FLIGHT = (S.OPENING, S.OPEN, S.CLOSING, S.UNWINDING, S.RECONCILING)
RESUMED_OPEN = "resumed_open"


@dataclass(frozen=True)
class ReconcileReport:
    handled: list[int]
    close_later: list[int]  # resumed as OPEN: the caller runs their close at the planned time


def executions_reconcile() -> ReconcileReport:
    """Take over every execution whose lease has lapsed."""
    stuck = Execution.objects.filter(status__in=BEFORE_TRIGGER + IN_FLIGHT, deadline_at__lt=clock.now())
    report = ReconcileReport(handled=[], close_later=[])
    for execution in stuck.select_related(
        "subscription__owner", "subscription__primary_account", "subscription__hedge_account"
    ).order_by("deadline_at")[:100]:
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
    """False if the execution is not ours to take; RESUMED_OPEN when it must be closed later; else True."""
    previous = execution.status
    token = execution_take_over(execution, source=previous)
    if token is None:
        return False
    execution.refresh_from_db()
    plan = plan_for(execution, token=token)
    detail = f"taken over from status {previous} (pass {execution.reconcile_runs})"
    plan.record(step="reconcile", outcome="info", detail=detail)
    if previous in BEFORE_TRIGGER or plan.side is None:
        # No order leaves before the SYNCED -> OPENING compare-and-set, so nothing can be open.
        orders_never_sent(plan)
        message = f"The worker stopped before the trigger (status {previous}); nothing was sent"
        execution_transition(plan.pk, source=S.RECONCILING, target=S.FAILED, token=token, error=message)
        plan.record(step="failed", outcome="failed", detail=message)
        return True
    states = {leg.role: LegState(leg=leg) for leg in plan.legs()}
    legs_read(plan, states)
    conflict = "; ".join(s.conflict for s in states.values() if s.conflict)
    if conflict:
        return _later(
            plan, f"{conflict}. fundarb never trades a position it did not open: close it yourself", stop=True
        )
    unread = [s for s in states.values() if s.error]
    if any(not leg_refused_everything(plan, s.role) for s in unread):
        # Which way to go depends on the unreadable leg: closing its partner could leave it naked.
        reasons = "; ".join(f"{s.leg.label}: {s.error}" for s in unread)
        return _later(plan, f"positions unreadable ({reasons})")
    sizes = [s.size for s in states.values() if not s.error]
    if not unread and all(size > 0 for size in sizes) and clock.now() < plan.proof_bound_at:
        return _resume_open(plan, states, min(sizes))
    flat = {role: Decimal(0) for role in states}
    outcome = legs_converge(
        plan, targets=flat, action=_action(plan, states), seconds=cfg("RECONCILE_BUDGET"), states=states
    )
    if outcome.verdict is not Verdict.CONVERGED:
        return _unfinished(plan, outcome)
    return _finish(plan, states, handed_over=previous == S.RECONCILING)


def _resume_open(plan: Plan, states: dict[str, LegState], quantity: Decimal) -> str | bool:
    """Both legs open before the proof's bound: trim to the smaller if needed, then OPEN again, closed on proof."""
    targets = {role: quantity for role in states}
    outcome = legs_converge(
        plan, targets=targets, action=OrderAction.UNWIND, seconds=cfg("RECONCILE_BUDGET"), states=states
    )
    if outcome.verdict is not Verdict.CONVERGED:
        return _unfinished(plan, outcome)
    opened = plan.execution.opened_at or clock.now()
    if not execution_transition(
        plan.pk,
        source=S.RECONCILING,
        target=S.OPEN,
        token=plan.token,
        deadline=deadline_after(plan.proof_bound_at),  # the close may wait for the proof until then
        opened_at=opened,
        quantity=quantity,
    ):
        return False
    plan.record(step="reconcile", outcome="ok", detail="both legs open and hedged: closing at the planned time")
    return RESUMED_OPEN


def _action(plan: Plan, states: dict[str, LegState]) -> str:
    """Closing a held pair, or unwinding a naked leg (what the orders will be called)."""
    return OrderAction.CLOSE if _was_hedged(plan, states) else OrderAction.UNWIND


def _was_hedged(plan: Plan, states: dict[str, LegState]) -> bool:
    if plan.execution.opened_at is not None:
        return True
    return all(_leg_was_open(plan, state) for state in states.values())


def _leg_was_open(plan: Plan, state: LegState) -> bool:
    if state.seen > 0:
        return True
    return Order.objects.filter(
        execution_id=plan.pk, role=state.role, action=OrderAction.OPEN, filled_quantity__gt=0
    ).exists()


def _finish(plan: Plan, states: dict[str, LegState], *, handed_over: bool) -> bool:
    """Both venues read flat and every order is settled: the final status says what happened. ``handed_over``: the
    execution was already RECONCILING (a leg that could not be settled at once), not left behind by a worker."""
    how = "Finished once both venues could be read" if handed_over else "Recovered after a worker failure"
    if _was_hedged(plan, states):
        target, message = S.COMPLETED, ""
    elif any(_leg_was_open(plan, state) for state in states.values()):
        target, message = S.UNWOUND, f"{how}: one leg was open and has been closed (unwound)"
    else:
        target, message = S.FAILED, f"{how}: neither leg was opened"
    if not execution_transition(
        plan.pk, source=S.RECONCILING, target=target, token=plan.token, error=message, closed_at=clock.now()
    ):
        return False
    plan.record(step="reconcile", outcome="ok", detail=f"both venues flat: {target}")
    if target in (S.UNWOUND, S.FAILED):
        subscription_fail(plan.subscription, message, execution=plan.execution)
    else:
        subscription_after_instant(plan.subscription, outcome=target)
    return True


def _unfinished(plan: Plan, outcome: ConvergeResult) -> bool:
    if outcome.verdict is Verdict.LOST:
        return False
    return _later(plan, outcome.message, stop=outcome.verdict is Verdict.CONFLICT)


def _later(plan: Plan, reason: str, *, stop: bool = False) -> bool:
    """Not settled this pass: stay RECONCILING, try again after a growing backoff; the owner is told once."""
    runs = Execution.objects.values_list("reconcile_runs", flat=True).get(pk=plan.pk)
    backoff = min(cfg("RECONCILE_GRACE") * 2 ** max(runs - 1, 0), cfg("RECONCILE_MAX_BACKOFF"))
    message = f"Still reconciling: {reason}. fundarb keeps reading the venues and converging both legs to flat"
    Execution.objects.filter(pk=plan.pk, driver_token=plan.token).update(
        error=message, deadline_at=clock.now() + timedelta(seconds=backoff)
    )
    plan.record(step="reconcile", outcome="failed", detail=f"{reason}; next attempt in {backoff:.0f} s")
    stopped = Subscription.objects.filter(pk=plan.subscription.pk, status=SubscriptionStatus.ERROR).exists()
    if stop and not stopped:
        subscription_fail(plan.subscription, message, execution=plan.execution)
    elif runs == 1:
        notify_owner(subscription=plan.subscription, message=message, execution=plan.execution)
    return True

"""The close, on proof: after T both legs stay open until the venues' ledgers show the funding was paid, then both
converge to flat together; COMPLETED once both venues read flat.

The close starts at T + close delay (at least each venue's minimum hold). The primary venue's ledger row is
awaited, and the hedge venue's too when it settles between the open and the bound; a leg whose rate was zero needs
no row. No row by the bound (``PROOF_BOUND`` after T): both legs close anyway and the funding is marked unconfirmed
(the P&L sweep keeps looking). Each look keeps the execution's deadline at the bound plus the reconciler's grace;
the driver schedules the next look on its timeline rather than holding a thread. A reconciler that takes the pair
back runs this same step, so it too closes only on proof or at the bound.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import F, Value
from django.db.models.functions import Greatest

from arbitrage.models import Execution, ExecutionStatus, FundingPayment, LegRole, OrderAction
from arbitrage.services import clock
from arbitrage.services.converge import Verdict, legs_converge
from arbitrage.services.funding import funding_payments_read
from arbitrage.services.opening import settle_failed
from arbitrage.services.plan import Plan, cfg, deadline_after
from arbitrage.services.transitions import execution_transition, subscription_after_instant
from exchanges.base import Venue

S = ExecutionStatus


class Proof(enum.StrEnum):
    READY = "ready"  # every awaited row is in, or the bound passed: close now
    WAIT = "wait"  # look again at ``ProofLook.again_at``
    LOST = "lost"  # the execution is no longer OPEN under this owner: do not close


@dataclass(frozen=True)
class ProofLook:
    verdict: Proof
    again_at: float = 0.0  # local clock, when WAIT


def execution_close(plan: Plan) -> bool:
    """Close both legs in parallel and confirm both flat (the proof is in, or the bound passed). True when
    COMPLETED."""
    # The wait's long deadline ends here: from now on the converge's lease renewals keep the row.
    deadline = deadline_after(clock.now())
    if not execution_transition(plan.pk, source=S.OPEN, target=S.CLOSING, token=plan.token, deadline=deadline):
        return False
    flat = {leg.role: Decimal(0) for leg in plan.legs()}
    outcome = legs_converge(plan, targets=flat, action=OrderAction.CLOSE, seconds=cfg("CONVERGE_BUDGET"))
    if outcome.verdict is not Verdict.CONVERGED:
        return settle_failed(plan, outcome, source=S.CLOSING)
    if not execution_transition(plan.pk, source=S.CLOSING, target=S.COMPLETED, token=plan.token, closed_at=clock.now()):
        return False
    subscription_after_instant(plan.subscription, outcome=S.COMPLETED)
    return True


def execution_close_on_proof(plan: Plan) -> bool:
    """Wait here for the proof (or the bound), then close: for a worker that owns nothing else (a queued task)."""
    while True:
        look = funding_proof_look(plan)
        if look.verdict is Proof.LOST:
            return False
        if look.verdict is Proof.READY:
            return execution_close(plan)
        clock.sleep_until(datetime.fromtimestamp(look.again_at, tz=UTC))


def awaited_legs(execution: Execution) -> set[str]:
    """The legs whose funding row the close waits for."""
    legs = set()
    if execution.primary_rate != 0:
        legs.add(LegRole.PRIMARY)
    if execution.hedge_settles and execution.hedge_rate != 0:
        legs.add(LegRole.HEDGE)
    return legs


def funding_proof_look(plan: Plan) -> ProofLook:
    """One look at the awaited ledgers. Keeps the execution's deadline at the bound plus grace while it waits; the
    rows it finds are stored and put on the timeline."""
    bound_at = plan.proof_bound_at
    held = Execution.objects.filter(pk=plan.pk, driver_token=plan.token, status=S.OPEN).update(
        deadline_at=Greatest(F("deadline_at"), Value(deadline_after(bound_at)))
    )
    if not held:
        return ProofLook(Proof.LOST)
    # Preflight stored the rates and whether the hedge settles after this plan was loaded.
    execution = Execution.objects.select_related("subscription__primary_account", "subscription__hedge_account").get(
        pk=plan.pk
    )
    awaited = awaited_legs(execution)
    if not awaited:
        return ProofLook(Proof.READY)
    look = funding_payments_read(execution=execution, roles=awaited)
    for row in look.new:
        if row.leg in awaited:
            _record_confirmed(plan, row)
    missing = {role for role in awaited if not look.rows[role]}
    if not missing:
        _mark(plan, confirmed=True)
        return ProofLook(Proof.READY)
    now, bound_local = clock.clock.time(), plan.local(bound_at)
    if now >= bound_local:
        _record_unconfirmed(plan, missing, look.unavailable)
        _mark(plan, confirmed=False)
        return ProofLook(Proof.READY)
    return ProofLook(Proof.WAIT, again_at=min(now + cfg("PROOF_POLL"), bound_local))


def _mark(plan: Plan, *, confirmed: bool) -> None:
    Execution.objects.filter(pk=plan.pk, driver_token=plan.token, status=S.OPEN).update(funding_confirmed=confirmed)


def _record_confirmed(plan: Plan, row: FundingPayment) -> None:
    offset = (row.paid_at - plan.funding_time).total_seconds()
    plan.record(
        step="funding_confirmed",
        outcome="ok",
        venue=row.venue,
        detail=f"funding confirmed by {Venue(row.venue).label} at T{offset:+.1f} s: {row.amount:+.2f} USDT "
        f"({row.leg} leg, ledger id {row.ledger_id})",
    )


def _record_unconfirmed(plan: Plan, missing: set[str], unavailable: dict[str, str]) -> None:
    venues = {LegRole.PRIMARY: plan.primary.venue, LegRole.HEDGE: plan.hedge.venue}
    waited = (plan.proof_bound_at - plan.funding_time).total_seconds()
    for role in sorted(missing):
        reason = f" (its ledger could not be read: {unavailable[role]})" if role in unavailable else ""
        plan.record(
            step="funding_unconfirmed",
            outcome="failed",
            venue=venues[role].value,
            detail=f"no funding row from {venues[role].label} for the {role} leg within {waited:.0f} s of T{reason}: "
            "closing both legs anyway; the funding is unconfirmed and the P&L keeps looking",
        )

"""The close: at T + close delay both legs converge to flat; COMPLETED once both venues read flat."""

from __future__ import annotations

from decimal import Decimal

from arbitrage.models import ExecutionStatus, OrderAction
from arbitrage.services import clock
from arbitrage.services.converge import Verdict, legs_converge
from arbitrage.services.opening import settle_failed
from arbitrage.services.plan import Plan, cfg
from arbitrage.services.transitions import execution_transition, subscription_after_instant

S = ExecutionStatus


def execution_close(plan: Plan) -> bool:
    """Close both legs in parallel and confirm both flat. True when COMPLETED."""
    if not execution_transition(plan.pk, source=S.OPEN, target=S.CLOSING, token=plan.token):
        return False
    flat = {leg.role: Decimal(0) for leg in plan.legs()}
    outcome = legs_converge(plan, targets=flat, action=OrderAction.CLOSE, seconds=cfg("CONVERGE_BUDGET"))
    if outcome.verdict is not Verdict.CONVERGED:
        return settle_failed(plan, outcome, source=S.CLOSING)
    if not execution_transition(plan.pk, source=S.CLOSING, target=S.COMPLETED, token=plan.token, closed_at=clock.now()):
        return False
    subscription_after_instant(plan.subscription, outcome=S.COMPLETED)
    return True

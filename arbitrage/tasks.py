"""django-q2 entry points: a few lines each; the work lives in services. Every task is safe to run twice."""

from __future__ import annotations

from datetime import datetime

from django_q.tasks import async_task

from arbitrage.models import Execution
from arbitrage.services import clock
from arbitrage.services.closing import execution_close_on_proof
from arbitrage.services.driver import instant_drive
from arbitrage.services.plan import plan_for
from arbitrage.services.planner import executions_plan
from arbitrage.services.pnl import executions_pnl_sweep
from arbitrage.services.reconcile import executions_reconcile
from arbitrage.services.snapshot import market_snapshot_refresh


def ping() -> str:
    """Health check: proves a worker picked a task from the broker and ran it."""
    return "pong"


def plan_instants() -> int:
    """Periodic: arm executions and start one driver per instant that got new ones."""
    instants = executions_plan()
    for instant in instants:
        async_task("arbitrage.tasks.drive_instant", instant.isoformat(), task_name=f"drive {instant.isoformat()}")
    return len(instants)


def drive_instant(funding_time: str) -> int:
    return instant_drive(funding_time=datetime.fromisoformat(funding_time))


def refresh_market_snapshot() -> int:
    return market_snapshot_refresh()


def reconcile() -> int:
    report = executions_reconcile()
    for execution_id in report.close_later:
        close_later(execution_id=execution_id)
    return len(report.handled)


def pnl_sweep() -> int:
    return executions_pnl_sweep()


def close_execution(execution_id: int) -> None:
    execution = Execution.objects.select_related(
        "subscription__owner", "subscription__primary_account", "subscription__hedge_account"
    ).get(pk=execution_id)
    plan = plan_for(execution)
    clock.sleep_until(plan.close_at)
    execution_close_on_proof(plan)


def close_later(*, execution_id: int) -> None:
    """Close a recovered execution at its planned time: the task waits precisely itself (the scheduler only ticks
    every ~30 s)."""
    async_task("arbitrage.tasks.close_execution", execution_id, task_name=f"close execution {execution_id}")

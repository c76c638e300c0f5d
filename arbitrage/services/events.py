"""The execution timeline: every step recorded as it happens, and logged."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from arbitrage.models import ExecutionEvent
from arbitrage.services import clock
from fundarb_site.logging import redact

logger = logging.getLogger("arbitrage.execution")


def event_record(
    *,
    execution_id: int,
    step: str,
    outcome: str,
    venue: str = "",
    duration: float | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> ExecutionEvent:
    """Write one timeline row. ``duration`` is seconds; ``detail`` is redacted before it is stored or logged."""
    detail = redact(detail)
    event = ExecutionEvent.objects.create(
        execution_id=execution_id,
        at=at or clock.now(),
        step=step,
        outcome=outcome,
        venue=venue,
        duration_ms=None if duration is None else Decimal(f"{duration * 1000:.3f}"),
        detail=detail[:4000],
    )
    level = logging.WARNING if outcome in {"failed", "error"} else logging.INFO
    logger.log(
        level,
        "execution %s %s %s%s%s",
        execution_id,
        step,
        outcome,
        f" on {venue}" if venue else "",
        f": {detail}" if detail else "",
        extra={"execution_id": execution_id, "step": step, "venue": venue},
    )
    return event

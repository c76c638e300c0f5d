"""Venue calls in parallel on one shared pool.

Functions run here never touch the database: results (or exceptions) come back to the calling thread, which records
them. That keeps database connections to the few stage threads that own them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from arbitrage.services import clock

_pool = ThreadPoolExecutor(max_workers=256, thread_name_prefix="venue-io")


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    error: BaseException | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def duration(self) -> float:
        return self.finished - self.started


def _timed(call: Callable[[], Any]) -> Outcome:
    started = clock.clock.time()
    try:
        value = call()
    except Exception as exc:  # the caller decides what each failure means
        return Outcome(error=exc, started=started, finished=clock.clock.time())
    return Outcome(value=value, started=started, finished=clock.clock.time())


def run_parallel(*calls: Callable[[], Any]) -> list[Outcome]:
    """Run every call at once; return their outcomes in order, each timed on the service clock."""
    futures: list[Future] = [_pool.submit(_timed, call) for call in calls]
    return [future.result() for future in futures]


def submit(call: Callable[[], Any]) -> Future:
    """Start one call on the pool; its future yields an ``Outcome``."""
    return _pool.submit(_timed, call)

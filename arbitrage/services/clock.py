"""The one clock seam: every service asks this module for the time and for precise waits.

Tests replace ``clock`` (``use_clock``) to control time; exchange clients get ``clock.time`` so that their request
timestamps follow the same clock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

# The last stretch of a wait is spun in short sleeps: time.sleep alone can overshoot by a scheduler tick, and the
# trigger's precision budget is a few milliseconds.
_FINE_WAIT_SECONDS = 0.02
_FINE_STEP_SECONDS = 0.0005


class SystemClock:
    def time(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def sleep_until(self, target: datetime, *, cancel: threading.Event | None = None) -> bool:
        """Sleep until ``target`` (UTC); returns False if ``cancel`` was set first."""
        deadline = target.timestamp()
        while True:
            remaining = deadline - self.time()
            if remaining <= 0:
                return True
            if cancel is not None and cancel.is_set():
                return False
            if remaining > _FINE_WAIT_SECONDS:
                pause = min(remaining - _FINE_WAIT_SECONDS, 0.5)
                if cancel is not None:
                    if cancel.wait(pause):
                        return False
                else:
                    time.sleep(pause)
            else:
                time.sleep(min(remaining, _FINE_STEP_SECONDS))


clock = SystemClock()


def now() -> datetime:
    return clock.now()


def sleep_until(target: datetime, *, cancel: threading.Event | None = None) -> bool:
    return clock.sleep_until(target, cancel=cancel)


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


@contextlib.contextmanager
def use_clock(replacement) -> Iterator[None]:
    """Swap the process clock (tests)."""
    global clock
    previous, clock = clock, replacement
    try:
        yield
    finally:
        clock = previous

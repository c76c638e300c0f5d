"""Per-account, per-endpoint request limits over a rolling one-second window, like both venues apply them."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 1.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_in_ms: int


class RateLimiter:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, ...], deque[float]] = {}
        self._monotonic = monotonic

    def hit(self, key: tuple[str, ...], limit: int) -> Verdict:
        """Count one call unless it is over the limit (refused calls are not counted, so a client that backs off
        for the advertised time always gets through)."""
        now = self._monotonic()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - WINDOW_S:
                calls.popleft()
            allowed = len(calls) < limit
            if allowed:
                calls.append(now)
            reset_in = (calls[0] + WINDOW_S - now) if calls else WINDOW_S
            return Verdict(allowed, limit, max(0, limit - len(calls)), max(1, int(reset_in * 1000)))

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

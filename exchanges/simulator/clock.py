"""Venue time: the local clock plus a per-venue skew, the one seam every timestamp in the simulator goes through."""

from __future__ import annotations

import time
from collections.abc import Callable


class VenueClock:
    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self.skew_ms: dict[str, int] = {"bybit": 0, "bingx": 0}

    def now_ms(self, venue: str) -> int:
        return int(self._now() * 1000) + self.skew_ms.get(venue, 0)

    def local_s(self) -> float:
        return self._now()

    def seconds_until(self, venue: str, venue_ms: int) -> float:
        """Local seconds until the venue's clock reads ``venue_ms``."""
        return (venue_ms - self.now_ms(venue)) / 1000

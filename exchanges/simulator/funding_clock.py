"""The background thread that makes time pass on the venues: funding settlements and the price random walk.

It sleeps (on an event, never holding the state lock) until the earliest due funding instant or the next walk
tick, whichever comes first; ``wake()`` cuts the sleep short when the control API moves an instant.
"""

from __future__ import annotations

import logging
import threading
import time

from . import trading
from .markets import VENUES
from .state import SimState

logger = logging.getLogger(__name__)
WALK_EVERY_S = 1.0
MAX_SLEEP_S = 1.0


class FundingClock:
    def __init__(self, state: SimState, *, random_walk: bool = True) -> None:
        self.state = state
        self.random_walk = random_walk
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="simulator-funding", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        next_walk = time.monotonic() + WALK_EVERY_S
        while not self._stop.is_set():
            try:
                sleep_for = self.tick(walk=self.random_walk and time.monotonic() >= next_walk)
            except Exception:  # a bug here must not silently stop funding for the rest of the run
                logger.exception("simulator funding clock failed; retrying")
                sleep_for = MAX_SLEEP_S
            if time.monotonic() >= next_walk:
                next_walk = time.monotonic() + WALK_EVERY_S
            self._wake.wait(max(0.0, min(sleep_for, next_walk - time.monotonic(), MAX_SLEEP_S)))
            self._wake.clear()

    def tick(self, *, walk: bool = False) -> float:
        """Settle every due instant (and take a walk step); return seconds until the next instant is due."""
        state = self.state
        with state.lock:
            settled = False
            for venue in VENUES:
                for symbol, market in state.markets.items():
                    if market.funding[venue].next_ms <= state.clock.now_ms(venue):
                        trading.funding_due(state, venue, symbol)
                        settled = True
            waiting = len(state.pending_settlements)
            trading.settle_due(state)
            settled = settled or len(state.pending_settlements) != waiting
            if walk:
                state.walk()
            if settled:
                state.save()
            due = [state.clock.seconds_until(p.venue, p.due_ms) for p in state.pending_settlements]
            return min(
                [
                    *due,
                    *(
                        state.clock.seconds_until(venue, market.funding[venue].next_ms)
                        for venue in VENUES
                        for market in state.markets.values()
                    ),
                ]
            )

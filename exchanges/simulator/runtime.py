"""``Simulator``: build the state, the venues, the funding clock and the server, and run them in-process."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from .app import SimulatorApp
from .bingx_api import BingxApi
from .bybit_api import BybitApi
from .clock import VenueClock
from .control import Controller, ControlMethods
from .faults import VenueFaults
from .funding_clock import FundingClock
from .markets import DEFAULT_MARKETS, VENUES, MarketSpec
from .ratelimit import RateLimiter
from .server import SimulatorServer
from .settlement_rules import default_rules
from .state import SimState

EIGHT_HOURS = 8 * 3600


class Simulator(ControlMethods):
    """Both venues behind one base URL. See the package docstring for the API and the control operations."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        latency_ms: int = 0,
        funding_interval: int = EIGHT_HOURS,
        symbols: Iterable[MarketSpec] | None = None,
        state_file: str | Path | None = None,
        random_walk: bool = True,
        time_scale: float | None = None,
        bingx_settle_delay: float | None = None,
    ) -> None:
        if funding_interval < 1:
            raise ValueError("funding_interval must be at least one second")
        # One time scale for the venues' rules here and fundarb's policy (EXECUTOR_TIME_SCALE), so tests shrink both.
        if time_scale is None:
            time_scale = float(os.environ.get("EXECUTOR_TIME_SCALE") or 1.0)
        if not 0 < time_scale <= 1:
            raise ValueError("time_scale must be above 0 and at most 1")
        self.time_scale = time_scale
        self.host = host
        self.port = port
        self.clock = VenueClock()
        self.state = SimState(
            seed=seed,
            funding_interval=funding_interval,
            markets=tuple(symbols) if symbols is not None else DEFAULT_MARKETS,
            clock=self.clock,
            state_file=state_file,
            settlement=default_rules(time_scale=time_scale, bingx_settle_delay=bingx_settle_delay),
        )
        self.limiter = RateLimiter()
        self.venue_faults = {venue: VenueFaults(venue, self.clock, seed, latency_ms) for venue in VENUES}
        self.funding_clock = FundingClock(self.state, random_walk=random_walk)
        self.controller = Controller(self.state, self.venue_faults, self.limiter, self.funding_clock.wake)
        self._stopping = threading.Event()
        self.app = SimulatorApp(
            bybit=BybitApi(self.state, self.limiter),
            bingx=BingxApi(self.state, self.limiter),
            faults=self.venue_faults,
            controller=self.controller,
            stopping=self._stopping,
        )
        self._server: SimulatorServer | None = None
        self._serve_thread: threading.Thread | None = None

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return self.controller.call(operation, kwargs)

    def connections_accepted(self) -> list[float]:
        """When each client connection was accepted (local clock): an order that found no warm connection shows
        here as a new one."""
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return list(self._server.accepted_at)

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Bind (port 0 = an ephemeral port), start serving and the funding clock; return the base URL."""
        if self._server is not None:
            return self.base_url
        self._stopping.clear()
        self._server = SimulatorServer((self.host, self.port), self.app)
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="simulator-http", daemon=True
        )
        self._serve_thread.start()
        self.funding_clock.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving, cut every held response short, hang up kept-alive connections, stop the funding clock."""
        self._stopping.set()
        self.funding_clock.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None
        if self._serve_thread is not None:
            self._serve_thread.join(timeout=5)
            self._serve_thread = None
        with self.state.lock:
            self.state.save()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``stop()`` (e.g. from a signal handler); True once stopped."""
        return self._stopping.wait(timeout)

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

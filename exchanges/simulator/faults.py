"""Per-venue fault injection: latency, clock skew, an error rate, and one-shot rules for the next N calls.

Rule kinds, each matched against an endpoint (``"/path"``, ``"METHOD /path"`` or ``"*"``) and used up call by call:
- ``fail``: answer with venue code ``code`` (HTTP 200 envelope) or, with ``http_status`` >= 500, a bare gateway
  error page; nothing is applied.
- ``timeout``: apply the call, then hold the response ``seconds`` (longer than the client's read timeout).
- ``drop_response``: apply the call, then close the connection without answering (unknown outcome, it happened).
- ``drop_request``: close the connection without applying anything (unknown outcome, it did not happen).
- ``processing``: the order is placed, but order queries answer "processing" (BingX 80019, Bybit an empty list) for
  ``seconds`` or for ``calls`` queries.
- ``partial_fill``: the order fills only ``fraction`` of its quantity; the rest is cancelled as IOC.
- ``malformed``: apply the call, then answer HTTP 200 with a body cut off mid-JSON (a truncated or garbled answer:
  it happened, and the client cannot read what it was told).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from .clock import VenueClock

KINDS = ("fail", "timeout", "drop_response", "drop_request", "processing", "partial_fill", "malformed")


@dataclass
class FaultRule:
    kind: str
    endpoint: str = "*"
    remaining: int = 1
    code: int | None = None
    message: str | None = None
    http_status: int = 200
    seconds: float = 0.0
    calls: int = 0
    fraction: Decimal = Decimal("0.5")

    def matches(self, method: str, path: str) -> bool:
        if self.endpoint == "*":
            return True
        if " " in self.endpoint:
            want_method, want_path = self.endpoint.split(" ", 1)
            return want_method.upper() == method and want_path == path
        return self.endpoint == path


class VenueFaults:
    def __init__(self, venue: str, clock: VenueClock, seed: int, latency_ms: int = 0) -> None:
        self.venue = venue
        self.clock = clock
        self.latency_ms = latency_ms
        self.error_rate = 0.0
        self.error_http_status: int | None = None
        self.rules: list[FaultRule] = []
        self._rng = random.Random(f"{seed}:{venue}:faults")
        self._lock = threading.Lock()

    @property
    def skew_ms(self) -> int:
        return self.clock.skew_ms[self.venue]

    @skew_ms.setter
    def skew_ms(self, value: int) -> None:
        self.clock.skew_ms[self.venue] = int(value)

    def add(self, rule: FaultRule) -> None:
        if rule.kind not in KINDS:
            raise ValueError(f"unknown fault kind {rule.kind!r}; expected one of {', '.join(KINDS)}")
        if rule.remaining < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self.rules.append(rule)

    def take(self, kind: str, method: str, path: str) -> FaultRule | None:
        """Use up one call of the first matching rule of ``kind``, if any."""
        with self._lock:
            for rule in self.rules:
                if rule.kind == kind and rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self.rules.remove(rule)
                    return rule
        return None

    def roll_error(self) -> bool:
        with self._lock:
            return self.error_rate > 0 and self._rng.random() < self.error_rate

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.latency_ms = 0
            self.error_rate = 0.0
            self.error_http_status = None
        self.skew_ms = 0

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "skew_ms": self.skew_ms,
                "error_rate": self.error_rate,
                "error_http_status": self.error_http_status,
                "rules": [asdict(rule) for rule in self.rules],
            }

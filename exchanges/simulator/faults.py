"""Per-venue fault injection: latency, clock skew, an error rate, rules for the next N calls, and timed rules.

Rule kinds, each matched against an endpoint (``"/path"``, ``"METHOD /path"`` or ``"*"``). Counted kinds are used
up call by call (``count``):
- ``fail``: answer with venue code ``code`` (HTTP 200 envelope) or, with ``http_status`` >= 500, a bare gateway
  error page; nothing is applied.
- ``fail_after_apply``: the call is applied, then answered with venue code ``code`` (``message`` or the venue's own
  words for it): BingX 80019 "being processed" on an order that was in fact placed, Bybit 10016 after the fact.
  Only a call the venue accepted uses the rule up; a call it refused answers its own refusal.
- ``timeout``: apply the call, then hold the response ``seconds`` (longer than the client's read timeout).
- ``drop_response``: apply the call, then close the connection without answering (unknown outcome, it happened).
- ``drop_request``: close the connection without applying anything (unknown outcome, it did not happen).
- ``processing``: the order is placed, but order queries answer "processing" (BingX 80019, Bybit an empty list) for
  ``seconds`` or for ``calls`` queries.
- ``not_found``: the order is placed and filled (positions and balance show it at once), but every order query for
  it answers what the venue says of an unknown order (Bybit retCode 0 with an empty ``list``, BingX 80016 "order
  does not exist") until ``seconds`` after placement: an order that is slow to become visible.
- ``partial_fill``: the order fills only ``fraction`` of its quantity; the rest is cancelled as IOC.
- ``malformed``: apply the call, then answer HTTP 200 with a body cut off mid-JSON (a truncated or garbled answer:
  it happened, and the client cannot read what it was told).
``processing``, ``not_found`` and ``partial_fill`` apply to order creates whatever their endpoint.

Timed kinds hold for ``seconds`` from when they are added, however many calls arrive:
- ``outage``: every call answers a bare gateway error page with ``http_status`` (>= 500); nothing is applied.
- ``rate_block``: every call is refused with the venue's own per-account rate-limit answer (Bybit retCode 10006
  "Too many visits!" in HTTP 200, BingX HTTP 429 with code 100410), the limit headers saying when the block ends;
  nothing is applied. With ``ban_after``, the call after the first ``ban_after`` ones during the block makes the
  venue ban: for ``ban_seconds`` from then, **every** call to that venue (any endpoint, any account, public ones
  too, as an IP ban would: every simulator client shares one address) answers Bybit HTTP 403 "access too
  frequent" or BingX HTTP 418, and nothing is applied.

Every time limit (timed rules, the ban, ``not_found``/``processing`` visibility) runs on the venue clock: local time
plus the venue's skew, the clock that stamps the venue's orders. ``clear`` ends all of them.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from .clock import VenueClock

COUNTED = (
    "fail",
    "fail_after_apply",
    "timeout",
    "drop_response",
    "drop_request",
    "processing",
    "not_found",
    "partial_fill",
    "malformed",
)
TIMED = ("outage", "rate_block")
KINDS = COUNTED + TIMED


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
    until_ms: int = 0  # timed kinds: the venue-clock instant the rule ends
    ban_after: int | None = None
    ban_seconds: float = 0.0
    seen: int = 0  # rate_block: calls refused so far

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
        self.banned_until_ms = 0
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
        if rule.ban_after is not None and (rule.ban_after < 0 or rule.ban_seconds <= 0):
            raise ValueError("ban_after must be at least 0, with ban_seconds > 0")
        if rule.kind in TIMED:
            if rule.seconds <= 0:
                raise ValueError(f"a {rule.kind} fault needs seconds > 0")
            rule.until_ms = self._now_ms() + int(rule.seconds * 1000)
        with self._lock:
            self.rules.append(rule)

    def take(self, kind: str, method: str, path: str) -> FaultRule | None:
        """Use up one call of the first matching counted rule of ``kind``, if any."""
        with self._lock:
            for rule in self.rules:
                if rule.kind == kind and rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self.rules.remove(rule)
                    return rule
        return None

    def active(self, kind: str, method: str, path: str) -> FaultRule | None:
        """The first timed rule of ``kind`` matching the call and not yet over (ended ones are dropped)."""
        now = self._now_ms()
        with self._lock:
            self.rules = [rule for rule in self.rules if rule.kind not in TIMED or rule.until_ms > now]
            return next((r for r in self.rules if r.kind == kind and r.matches(method, path)), None)

    def refuse(self, block: FaultRule) -> bool:
        """Count one call refused by a rate block; True when it is one too many and the venue now bans."""
        with self._lock:
            block.seen += 1
            if block.ban_after is None or block.seen <= block.ban_after:
                return False
            self.banned_until_ms = self._now_ms() + int(block.ban_seconds * 1000)
            return True

    def banned(self) -> bool:
        return self.banned_until_ms > self._now_ms()

    def _now_ms(self) -> int:
        return self.clock.now_ms(self.venue)

    def roll_error(self) -> bool:
        with self._lock:
            return self.error_rate > 0 and self._rng.random() < self.error_rate

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.banned_until_ms = 0
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
                "banned_until_ms": self.banned_until_ms,
                "rules": [asdict(rule) for rule in self.rules],
            }

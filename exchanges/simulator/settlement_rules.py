"""Which positions each simulated venue pays at a funding settlement, and when it settles.

Written from the venues' help centres on their own, not from ``exchanges/settlement.py``: the executor's policy is
checked against these, so the two must not share their numbers.

- BingX ("Perpetual Futures | Fee Schedule"): orders placed within 30 s before settlement may not be counted, and
  settlement may run up to a minute late, not paying positions closed meanwhile. Here: BingX settles
  ``settle_delay`` seconds after T and pays, per position, the least it held from T - 30 s until then.
- Bybit ("Funding Fee Calculation"): a position held at the funding timestamp pays or receives, settled at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

BINGX_COUNT_CUTOFF_S = 30.0
BINGX_DEFAULT_SETTLE_DELAY_S = 10.0


@dataclass(frozen=True)
class VenueSettlement:
    count_cutoff_ms: int  # a position must already be held this long before T to count
    settle_delay_ms: int  # the venue settles T this long after it


def default_rules(*, time_scale: float = 1.0, bingx_settle_delay: float | None = None) -> dict[str, VenueSettlement]:
    delay = BINGX_DEFAULT_SETTLE_DELAY_S if bingx_settle_delay is None else bingx_settle_delay
    return {
        "bybit": VenueSettlement(count_cutoff_ms=0, settle_delay_ms=0),
        "bingx": VenueSettlement(
            count_cutoff_ms=round(BINGX_COUNT_CUTOFF_S * time_scale * 1000),
            settle_delay_ms=round(delay * time_scale * 1000),
        ),
    }


def counted_size(history: list[tuple[int, Decimal]], current: Decimal, *, start_ms: int, end_ms: int) -> Decimal:
    """The signed size a position held throughout [start_ms, end_ms]: zero if it was flat, or on the other side,
    at any moment of it. ``history`` holds (ms, signed size after the change), oldest first; with none, the
    position has not changed since the simulator started."""
    if not history:
        return current
    before = [size for ms, size in history if ms <= start_ms]
    sizes = [before[-1] if before else Decimal(0)]
    sizes += [size for ms, size in history if start_ms < ms <= end_ms]
    if all(size > 0 for size in sizes):
        return min(sizes)
    if all(size < 0 for size in sizes):
        return max(sizes)
    return Decimal(0)

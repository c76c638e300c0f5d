"""The cumulative P&L chart as plain SVG geometry (no JavaScript, no CDN): the template draws the lines."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from arbitrage.selectors import PnlPoint

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28
SERIES = (("net", "Net"), ("funding", "Funding"), ("fees", "Fees"), ("price", "Price"))
# Markers make the first few executions visible (one point draws no line); past this they would only clutter.
MAX_MARKED_POINTS = 60


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    points: str
    last: Decimal
    markers: list[tuple[str, str]]


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class PnlChart:
    width: int
    height: int
    series: list[Series]
    ticks: list[Tick]
    zero_y: float
    left: int
    right: int
    bottom_y: int
    first_label: str
    last_label: str


def _value(point: PnlPoint, key: str) -> Decimal:
    return point.net if key == "net" else getattr(point, key)


def pnl_chart(points: list[PnlPoint]) -> PnlChart | None:
    if not points:
        return None
    values = [_value(p, key) for p in points for key, _ in SERIES]
    low, high = min(min(values), Decimal(0)), max(max(values), Decimal(0))
    if high == low:
        high = low + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    def y(value: Decimal) -> float:
        return TOP + float((high - value) / (high - low)) * plot_h

    series = [
        Series(
            key=key,
            label=label,
            points=" ".join(f"{x(i):.1f},{y(_value(p, key)):.1f}" for i, p in enumerate(points)),
            last=_value(points[-1], key),
            markers=[(f"{x(i):.1f}", f"{y(_value(p, key)):.1f}") for i, p in enumerate(points)]
            if len(points) <= MAX_MARKED_POINTS
            else [],
        )
        for key, label in SERIES
    ]
    ticks = [Tick(y=y(v), label=f"{v:+.2f}") for v in (high, (high + low) / 2, low)]
    return PnlChart(
        width=WIDTH,
        height=HEIGHT,
        series=series,
        ticks=ticks,
        zero_y=y(Decimal(0)),
        left=LEFT,
        right=WIDTH - RIGHT,
        bottom_y=HEIGHT - 8,
        first_label=f"{points[0].at:%Y-%m-%d}",
        last_label=f"{points[-1].at:%Y-%m-%d %H:%M}",
    )

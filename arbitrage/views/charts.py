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
    # Each value and each x is computed once and shared by the series, the markers and the scale: four series of
    # hundreds of points are thousands of coordinates per page view.
    columns = {key: [_value(p, key) for p in points] for key, _ in SERIES}
    low = min(min(min(column) for column in columns.values()), Decimal(0))
    high = max(max(max(column) for column in columns.values()), Decimal(0))
    if high == low:
        high = low + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    # Pixels, a tenth of one at most: a float scale is exact enough, and a Decimal division per point was most of
    # the chart's cost.
    top, scale = float(high), plot_h / float(high - low)

    def x(index: int) -> float:
        return LEFT + (plot_w * index / (len(points) - 1) if len(points) > 1 else plot_w / 2)

    def y(value: Decimal) -> float:
        return TOP + (top - float(value)) * scale

    xs = [f"{x(i):.1f}" for i in range(len(points))]
    marked = len(points) <= MAX_MARKED_POINTS
    series = []
    for key, label in SERIES:
        ys = [f"{y(value):.1f}" for value in columns[key]]
        series.append(
            Series(
                key=key,
                label=label,
                points=" ".join(f"{cx},{cy}" for cx, cy in zip(xs, ys, strict=True)),
                last=columns[key][-1],
                markers=list(zip(xs, ys, strict=True)) if marked else [],
            )
        )
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

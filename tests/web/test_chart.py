"""The cumulative P&L chart: plain SVG geometry, visible from the very first execution."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from arbitrage.selectors import PnlPoint
from arbitrage.views.charts import MAX_MARKED_POINTS, pnl_chart

T0 = datetime(2026, 11, 24, 8, tzinfo=UTC)


def point(index: int, funding: str = "1.5", fees: str = "-0.5", price: str = "-0.25") -> PnlPoint:
    at = T0 + timedelta(hours=8 * index)
    return PnlPoint(at=at, funding=Decimal(funding), fees=Decimal(fees), price=Decimal(price))


def test_no_executions_draw_no_chart():
    """Without finished executions there is nothing to plot."""
    assert pnl_chart([]) is None


def test_a_single_execution_is_marked_on_every_series():
    """One point draws no line, so each series gets a marker the user can see."""
    chart = pnl_chart([point(0)])
    assert [len(s.markers) for s in chart.series] == [1, 1, 1, 1]
    net = next(s for s in chart.series if s.key == "net")
    assert net.last == Decimal("0.75")


def test_long_histories_are_lines_without_markers():
    """Past the marker limit only the lines are drawn; the last values still show in the legend."""
    chart = pnl_chart([point(i) for i in range(MAX_MARKED_POINTS + 1)])
    assert all(s.markers == [] for s in chart.series)
    assert all(len(s.points.split()) == MAX_MARKED_POINTS + 1 for s in chart.series)

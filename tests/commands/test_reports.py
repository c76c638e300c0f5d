"""arbitrage.reports: the scalar conventions of the JSON interface and the funding spread arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from arbitrage.reports import (
    FundingRow,
    common_symbols,
    decimal_text,
    funding_row_json,
    iso_utc,
    milliseconds,
    rate_per_8h,
    table,
)
from exchanges.base import FundingInfo, Venue


def info(venue: Venue, rate: str, hours: int, symbol: str = "BTCUSDT") -> FundingInfo:
    return FundingInfo(
        venue=venue, symbol=symbol, rate=Decimal(rate), next_funding_time=datetime(2026, 11, 24, 8, tzinfo=UTC),
        interval_hours=hours, mark_price=Decimal("65000.10"),
    )  # fmt: skip


def test_iso_utc_is_utc_with_milliseconds_and_z():
    """Any aware time becomes UTC, truncated to milliseconds, suffixed Z; None stays None."""
    tokyo = timezone(timedelta(hours=9))
    assert iso_utc(datetime(2026, 11, 24, 17, 0, 0, 999_999, tzinfo=tokyo)) == "2026-11-24T08:00:00.999Z"
    assert iso_utc(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000Z"
    assert iso_utc(None) is None


def test_decimal_text_is_plain_digits():
    """No exponent, no trailing zeros, None stays None."""
    for value, expected in [
        (Decimal("1E+1"), "10"),
        (Decimal("0.000100000000"), "0.0001"),
        (Decimal("-0.0165"), "-0.0165"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("0E-12"), "0"),
    ]:
        assert decimal_text(value) == expected, value
    assert decimal_text(None) is None


def test_milliseconds_keeps_microseconds_and_sign():
    """Before the funding time is negative; microseconds are kept exactly."""
    assert milliseconds(timedelta(seconds=-5, microseconds=-12_345)) == Decimal("-5012.345")
    assert milliseconds(timedelta(days=1)) == Decimal(86_400_000)


@pytest.mark.parametrize(
    ("rate", "hours", "expected"),
    [("0.0001", 8, "0.0001"), ("0.0001", 4, "0.0002"), ("0.0001", 1, "0.0008"), ("0.0001", 3, "0.000266666667")],
)
def test_rate_per_8h_normalises_the_interval(rate, hours, expected):
    """rate / interval_hours * 8, rounded to 12 places when it does not terminate."""
    assert decimal_text(rate_per_8h(info(Venue.BYBIT, rate, hours))) == expected


def test_spread_is_bybit_minus_bingx_annualized_three_times_a_day():
    """spread_8h = Bybit - BingX (each per 8 h); annualized = spread_8h * 3 * 365."""
    row = FundingRow("BTCUSDT", info(Venue.BYBIT, "-0.0001", 8), info(Venue.BINGX, "0.0001", 2))
    shaped = funding_row_json(row)
    assert (shaped["spread_8h"], shaped["annualized"]) == ("-0.0005", "-0.5475")
    assert shaped["bybit"] == {
        "rate": "-0.0001", "next_funding_time": "2026-11-24T08:00:00.000Z", "interval_hours": 8,
        "mark_price": "65000.1",
    }  # fmt: skip


def test_common_symbols_are_the_sorted_intersection():
    """Only symbols both venues list, sorted."""
    by_venue = {
        Venue.BYBIT: {s: info(Venue.BYBIT, "0", 8, s) for s in ("XRPUSDT", "BTCUSDT", "ONLYBYBITUSDT")},
        Venue.BINGX: {s: info(Venue.BINGX, "0", 8, s) for s in ("BTCUSDT", "XRPUSDT", "ONLYBINGXUSDT")},
    }
    assert common_symbols(by_venue) == ["BTCUSDT", "XRPUSDT"]


def test_table_aligns_columns_without_trailing_spaces():
    """Columns are padded to the widest cell; lines carry no trailing spaces."""
    assert table(("A", "BB"), [("long cell", ""), ("x", "y")]).splitlines() == [
        "A          BB",
        "long cell",
        "x          y",
    ]

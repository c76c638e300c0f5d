"""Funding-rate arithmetic shared by the scanner, the dashboard and the funding_rates command."""

from decimal import Decimal

import pytest

from arbitrage.services.spreads import annualised, rate_per_8h


@pytest.mark.parametrize(
    ("rate", "hours", "expected"),
    [("0.0001", 8, "0.0001"), ("0.0001", 1, "0.0008"), ("0.0001", 3, "0.000266666667"), ("0.0001", None, "0.0001")],
)
def test_rates_are_compared_per_8_hours(rate, hours, expected):
    """A rate paid every h hours counts 8/h times per 8 hours, rounded to 12 places; unknown intervals are 8 h."""
    assert rate_per_8h(rate=Decimal(rate), interval_hours=hours) == Decimal(expected)


def test_annualised_spread_keeps_its_sign():
    """Three 8-hour periods a day, 365 days."""
    assert annualised(Decimal("-0.0001")) == Decimal("-0.1095")

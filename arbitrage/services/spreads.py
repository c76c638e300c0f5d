"""Funding-rate arithmetic shared by the scanner, the dashboard and `manage.py funding_rates`.

Venues settle at different intervals (1, 2, 4 or 8 hours), so rates are compared per 8 hours.
"""

from __future__ import annotations

from decimal import Decimal

HOURS_PER_PERIOD = 8
PERIODS_PER_YEAR = 3 * 365
# An interval of 3 or 6 hours would otherwise give 28 significant digits.
RATE_PLACES = Decimal("1e-12")


def rate_per_8h(*, rate: Decimal, interval_hours: int | None) -> Decimal:
    """The rate as if it were paid every 8 hours (an unknown interval is taken as 8 hours)."""
    hours = interval_hours or HOURS_PER_PERIOD
    return (rate * HOURS_PER_PERIOD / hours).quantize(RATE_PLACES)


def annualised(spread_8h: Decimal) -> Decimal:
    return spread_8h * PERIODS_PER_YEAR

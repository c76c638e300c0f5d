"""The quantity step both venues accept is a common multiple of their steps, not the larger one (notes §12)."""

from decimal import Decimal

import pytest

from exchanges.base import common_step, round_down


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (("0.01", "0.001"), "0.01"),  # powers of ten: the larger step
        (("0.5", "0.2"), "1"),  # 0.5 is no multiple of 0.2
        (("0.25", "10"), "10"),
        (("0.3", "0.2"), "0.6"),
        (("1", "1"), "1"),
        (("0.001",), "0.001"),
    ],
)
def test_common_step_is_the_least_common_multiple(steps, expected):
    """Every table row: the least quantity step that is a whole multiple of each venue's step."""
    step = common_step(*(Decimal(s) for s in steps))
    assert step == Decimal(expected)
    for venue_step in steps:
        assert step % Decimal(venue_step) == 0


def test_a_quantity_rounded_to_the_common_step_is_valid_on_both_venues():
    """0.7 with steps 0.5 and 0.2 rounds down to 0 (no valid quantity), 1.3 to 1.0."""
    step = common_step(Decimal("0.5"), Decimal("0.2"))
    assert round_down(Decimal("0.7"), step) == 0
    assert round_down(Decimal("1.3"), step) == Decimal("1")

"""System checks that guard money-relevant settings."""

from arbitrage.checks import unknown_order_grace_outlasts_receive_window


def test_default_lookup_grace_passes(settings):
    """The default grace (10 s) outlasts the venues' 5 s receive window: no warning."""
    assert settings.FUNDARB_EXECUTOR["UNKNOWN_ORDER_GRACE"] == 10
    assert unknown_order_grace_outlasts_receive_window(None) == []


def test_a_grace_within_the_receive_window_is_flagged(settings):
    """A grace a delayed request could outlive is a warning naming the variable and the window."""
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "UNKNOWN_ORDER_GRACE": 3}
    (warning,) = unknown_order_grace_outlasts_receive_window(None)
    assert warning.id == "fundarb.W001"
    assert "EXECUTOR_UNKNOWN_ORDER_GRACE is 3 s" in warning.msg

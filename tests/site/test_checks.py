"""System checks that guard money-relevant settings."""

from arbitrage.checks import proof_wait_is_bounded, unknown_order_grace_outlasts_receive_window


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


def test_the_default_proof_wait_passes(settings):
    """The close waits at most 180 s for the ledgers, looking every 3 s: no warning."""
    assert (settings.FUNDARB_EXECUTOR["PROOF_BOUND"], settings.FUNDARB_EXECUTOR["PROOF_POLL"]) == (180, 3.0)
    assert proof_wait_is_bounded(None) == []


def test_a_proof_wait_towards_the_next_instant_or_without_pause_is_flagged(settings):
    """A bound past 10 minutes is a warning naming the variable; a poll of 0 s is an error."""
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "PROOF_BOUND": 3600, "PROOF_POLL": 0}
    warning, error = proof_wait_is_bounded(None)
    assert warning.id == "fundarb.W002" and "EXECUTOR_PROOF_BOUND is 3600 s" in warning.msg
    assert error.id == "fundarb.E002" and "EXECUTOR_PROOF_POLL is 0 s" in error.msg

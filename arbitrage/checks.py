"""System checks for settings whose wrong values would not fail loudly, only lose money quietly."""

from django.conf import settings
from django.core import checks

# Both venues reject a request older than 5 s (Bybit's recv window, BingX's timestamp window). An order not found
# for longer than that can no longer arrive; one declared "not placed" sooner still might.
VENUE_RECEIVE_WINDOW_SECONDS = 5


@checks.register(checks.Tags.compatibility)
def unknown_order_grace_outlasts_receive_window(app_configs, **kwargs):
    grace = settings.FUNDARB_EXECUTOR["UNKNOWN_ORDER_GRACE"]
    if grace > VENUE_RECEIVE_WINDOW_SECONDS:
        return []
    return [
        checks.Warning(
            f"EXECUTOR_UNKNOWN_ORDER_GRACE is {grace} s, not longer than the venues' {VENUE_RECEIVE_WINDOW_SECONDS} s "
            "receive window: an order request delayed in the network could still be placed after fundarb has "
            "declared it not placed and unwound the other leg.",
            hint="Keep it above 5 s (default 10); shorter values are for tests only.",
            id="fundarb.W001",
        )
    ]


# The shortest funding interval a venue uses is 1 h: a close that waits longer than this for a ledger row holds the
# pair towards the next instant, which nobody priced.
PROOF_BOUND_CEILING_SECONDS = 600


@checks.register(checks.Tags.compatibility)
def proof_wait_is_bounded(app_configs, **kwargs):
    bound = settings.FUNDARB_EXECUTOR["PROOF_BOUND"]
    poll = settings.FUNDARB_EXECUTOR["PROOF_POLL"]
    problems = []
    if bound > PROOF_BOUND_CEILING_SECONDS:
        problems.append(
            checks.Warning(
                f"EXECUTOR_PROOF_BOUND is {bound:g} s: the close may hold both legs that long after T waiting for "
                f"the venues' funding rows, towards the next funding instant (hourly on some symbols).",
                hint=f"Keep it at most {PROOF_BOUND_CEILING_SECONDS} s (default 180).",
                id="fundarb.W002",
            )
        )
    if poll <= 0:
        problems.append(
            checks.Error(
                f"EXECUTOR_PROOF_POLL is {poll:g} s: the close would read the ledgers without pause.",
                hint="Set a positive number of seconds (default 3).",
                id="fundarb.E002",
            )
        )
    return problems

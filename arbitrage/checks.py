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

"""Login throttling beyond django-axes: a per-username cap on slow guessing spread over many addresses.

django-axes locks one (username, address) pair after 5 failures in a row for 15 minutes. Someone guessing from
many addresses never trips that, so failed password checks are also counted per username over a long sliding
window (``LOGIN_USERNAME_FAILURE_LIMIT`` in ``LOGIN_USERNAME_FAILURE_WINDOW``), from the audit trail's rows. Over
the limit, only browsers that logged in as that user before (a signed "known device" cookie) may log in: the
guesser cannot lock the real user out of the browsers they already use, and a new browser waits until enough old
failures have left the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing

from arbitrage.models import AuditAction, AuditEvent
from arbitrage.services import clock

KNOWN_DEVICE_COOKIE = "fundarb_known_device"
KNOWN_DEVICE_AGE = timedelta(days=90)
_SALT = "fundarb.known-device"


@dataclass(frozen=True)
class UsernameLock:
    failures: int
    window: timedelta
    lifts_at: datetime  # when, without new failures, the count drops below the limit

    @property
    def window_hours(self) -> int:
        return round(self.window.total_seconds() / 3600)

    def __str__(self) -> str:
        return (
            f"{self.failures} failed logins for this username in {self.window_hours} h: browsers that never logged "
            f"in as this user are refused until {self.lifts_at:%Y-%m-%d %H:%M} UTC"
        )


def username_lock(*, username: str) -> UsernameLock | None:
    """The lock on ``username`` when its failed password checks within the window reach the limit, else None."""
    window, limit = settings.LOGIN_USERNAME_FAILURE_WINDOW, settings.LOGIN_USERNAME_FAILURE_LIMIT
    failures = AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, owner_username=username[:150], at__gt=clock.now() - window
    )
    count = failures.count()
    if count < limit:
        return None
    # The lock lifts when the failure that keeps the count at the limit leaves the window.
    pivot = failures.order_by("at").values_list("at", flat=True)[count - limit]
    return UsernameLock(failures=count, window=window, lifts_at=pivot + window)


def known_device_cookie(*, user) -> str:
    """The cookie value a browser gets on each successful login: the user's id, signed and dated."""
    return signing.dumps(user.pk, salt=_SALT)


def known_device(*, cookie: str | None, username: str) -> bool:
    """True when ``cookie`` is a valid known-device cookie of the user called ``username``."""
    if not cookie:
        return False
    try:
        user_id = signing.loads(cookie, salt=_SALT, max_age=KNOWN_DEVICE_AGE)
    except signing.BadSignature:  # also SignatureExpired
        return False
    model = get_user_model()
    return model._default_manager.filter(pk=user_id, **{model.USERNAME_FIELD: username}).exists()

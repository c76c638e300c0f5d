"""The per-username login cap as an authentication backend, between django-axes' and the password check."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from arbitrage.services.logins import KNOWN_DEVICE_COOKIE, known_device, username_lock


class UsernameThrottleBackend:
    """Refuses (PermissionDenied stops authenticate) a username over its failure limit, unless the browser is one
    the user logged in with before. Authenticates nobody itself: the next backend checks the password.

    Deliberately not a BaseBackend: without get_user() or permission methods, sessions and permissions stay with
    ModelBackend (the test client's force_login picks the first backend that has get_user)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password=None, **kwargs):
        if request is None or not username:
            return
        lock = username_lock(username=username)
        if lock is not None and not known_device(cookie=request.COOKIES.get(KNOWN_DEVICE_COOKIE), username=username):
            request.fundarb_username_lock = lock  # for the lockout page (LoginThrottleMiddleware)
            raise PermissionDenied("too many failed logins for this username")
        # The password is checked next: a failure from here on is a guess, and counts.
        request.fundarb_password_checked = True
        return

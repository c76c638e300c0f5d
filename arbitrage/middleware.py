"""The per-username login cap's page, and the known-device cookie a successful login leaves in the browser."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from arbitrage.services.logins import KNOWN_DEVICE_AGE, KNOWN_DEVICE_COOKIE, known_device_cookie


class LoginThrottleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        lock = getattr(request, "fundarb_username_lock", None)
        if lock is not None:
            return render(request, settings.AXES_LOCKOUT_TEMPLATE, {"username_lock": lock}, status=429)
        user = getattr(request, "fundarb_logged_in", None)
        if user is not None:
            response.set_cookie(
                KNOWN_DEVICE_COOKIE,
                known_device_cookie(user=user),
                max_age=int(KNOWN_DEVICE_AGE.total_seconds()),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

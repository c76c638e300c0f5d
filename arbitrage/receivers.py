"""What the app does when Django, django-axes or django-q2 announce something: a few lines each."""

from __future__ import annotations

from django.conf import settings

from arbitrage.models import AuditAction
from arbitrage.services.audit import login_failure_record
from arbitrage.services.logins import username_lock
from arbitrage.services.pnl import pnl_totals_forget_subscription


def login_failed(sender, credentials: dict, request=None, **kwargs) -> None:
    """Django's user_login_failed: the attempted username only (Django has already masked the password).

    A wrong password is a failed login, and counts towards the username's cap; an attempt a lockout refused before
    any password was checked is recorded as refused."""
    username = str(credentials.get("username") or "")
    if not getattr(request, "fundarb_password_checked", False):
        lock = getattr(request, "fundarb_username_lock", None)
        why = (
            str(lock)
            if lock is not None
            else "this address is locked out for this username (too many failures in a row)"
        )
        login_failure_record(request=request, username=username, action=AuditAction.LOGIN_REFUSED, detail=why)
        return
    login_failure_record(request=request, username=username)
    lock = username_lock(username=username)
    if lock is not None and lock.failures == settings.LOGIN_USERNAME_FAILURE_LIMIT:
        login_failure_record(
            request=request,
            username=username,
            action=AuditAction.LOCKED_OUT,
            detail=str(lock),
        )


def logged_in(sender, request, user, **kwargs) -> None:
    """Django's user_logged_in: this browser is now one the user logs in with (LoginThrottleMiddleware sets the
    cookie on the response)."""
    if request is not None:
        request.fundarb_logged_in = user


def locked_out(sender, request, username: str | None = None, ip_address: str | None = None, **kwargs) -> None:
    """django-axes' user_locked_out: this (username, address) pair may not log in for the cool-off."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    login_failure_record(
        request=request,
        username=username or "",
        action=AuditAction.LOCKED_OUT,
        detail=f"{settings.AXES_FAILURE_LIMIT} failures in a row from this address: it may not log in as this user "
        f"for {minutes} minutes",
    )


def worker_started(sender, proc_name: str, **kwargs) -> None:
    """django-q2's post_spawn, in each worker process as it starts (a bare `manage.py qcluster` too)."""
    from arbitrage.services.demo import demo_login_guard_at_start

    demo_login_guard_at_start(f"worker {proc_name}")


def subscription_deleting(sender, instance, **kwargs) -> None:
    """Django's pre_delete for a subscription (the service, the admin, or its owner's deletion): its executions go
    with it, so their P&L leaves the running totals in the same transaction."""
    pnl_totals_forget_subscription(subscription_id=instance.pk)

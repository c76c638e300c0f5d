"""Login throttling: django-axes locks one (username, IP address) pair out for 15 minutes after 5 failures, on the
login page and the admin's, with a page that says so, and a success resets the count; on top, 50 failures per
username in 24 h (from any number of addresses) refuse browsers that never logged in as that user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse

from arbitrage.models import AuditAction, AuditEvent
from arbitrage.services.clock import use_clock
from arbitrage.services.logins import KNOWN_DEVICE_COOKIE, known_device
from fundarb_site.middleware import client_ip_address

pytestmark = pytest.mark.django_db

PASSWORD = "alice-password-1"  # tests/conftest.py's user fixture


def login(
    client, username: str = "alice", password: str = "wrong", ip: str = "10.0.0.1", url: str | None = None, **headers
):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def fail(client, times: int, **kwargs) -> None:
    """``times`` wrong passwords; the 5th failure itself is answered with the lockout page."""
    for attempt in range(1, times + 1):
        response = login(client, **kwargs)
        assert response.status_code == (429 if attempt >= 5 else 200), f"attempt {attempt}: {response.status_code}"


def test_settings_follow_the_axes_documentation():
    """The axes backend comes first, its middleware last, and the limits are 5 failures / 15 minutes per pair."""
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert "axes" in settings.INSTALLED_APPS
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_RESET_ON_SUCCESS is True


def test_five_failures_lock_out_even_the_right_password_with_a_clear_page(client, user):
    """After 5 wrong passwords the 6th attempt, correct or not, gets the lockout page (429), not a login."""
    fail(client, 5)
    response = login(client, password=PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "Login paused" in html and "15 minutes" in html and "(5 in a row)" in html
    assert "<html" in html and "app.css" in html  # the site's template, not a bare text response
    assert "Content-Security-Policy" in response.headers
    assert "_auth_user_id" not in client.session


def test_four_failures_do_not_lock_out(client, user):
    """The limit is 5: after 4 failures the right password still logs in."""
    fail(client, 4)
    assert login(client, password=PASSWORD).status_code == 302


def test_lockout_is_per_username_and_address(client, user, other_user):
    """A locked pair does not lock alice from another address, nor bob from the same address."""
    fail(client, 5)
    assert login(client, password=PASSWORD).status_code == 429
    assert login(client, password=PASSWORD, ip="10.0.0.2").status_code == 302
    client.logout()
    assert login(client, username="bob", password="bob-password-1").status_code == 302


def test_success_resets_the_count(client, user):
    """4 failures, a success, then 4 more failures: still not locked (the count restarted)."""
    fail(client, 4)
    assert login(client, password=PASSWORD).status_code == 302
    client.logout()
    fail(client, 4)
    assert login(client, password=PASSWORD).status_code == 302


def test_lockout_ends_after_the_cool_off(client, user):
    """Attempts older than 15 minutes no longer count: the right password works again."""
    fail(client, 5)
    assert login(client, password=PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert login(client, password=PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client, django_user_model):
    """The admin's login form shares the count and shows the same lockout page."""
    django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    fail(client, 5, username="root", url=reverse("admin:login"))
    response = login(client, username="root", password="root-password-1", url=reverse("admin:login"))
    assert response.status_code == 429
    assert "Login paused" in response.content.decode()


def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, user):
    """Without trusted proxies X-Forwarded-For is ignored: a client cannot pose as a new address per attempt."""
    for n in range(5):
        login(client, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert login(client, password=PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def login_headers(**kwargs):  # RequestFactory keyword form of the headers above
    return RequestFactory().post("/login/", **kwargs)


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "6.6.6.6", "10.0.0.1"),  # no proxy: the header is the client's own writing
        (1, "10.9.9.9", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # one proxy: its entry, not the forged one
        (2, "10.9.9.9", "6.6.6.6, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        (2, "10.9.9.9", "203.0.113.7", "10.9.9.9"),  # fewer entries than proxies: not via them, use the socket
        (1, "10.9.9.9", "", "10.9.9.9"),
    ],
)
def test_client_address_counts_only_trusted_proxies(settings, count, remote, forwarded, expected):
    """The address axes counts is the one the outermost trusted proxy saw, never a client-written entry."""
    settings.TRUSTED_PROXY_COUNT = count
    request = login_headers(REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip_address(request) == expected


def test_login_with_the_test_client_login_helper_is_refused_by_axes(client, user):
    """Why tests use force_login or the form: axes needs the request, which client.login() does not pass."""
    from axes.exceptions import AxesBackendRequestParameterRequired

    with pytest.raises(AxesBackendRequestParameterRequired):
        client.login(username="alice", password=PASSWORD)


# --- Slow guessing from many addresses: the per-username cap and the known-device rule -----------------------------

LIMIT = 50


def spray(times: int, *, username: str = "alice", url: str | None = None, first: int = 0) -> None:
    """``times`` wrong passwords for ``username``, each from a browser and an address of its own."""
    for n in range(first, first + times):
        response = login(Client(), username=username, url=url, ip=f"10.77.{n // 200}.{n % 200 + 1}")
        assert response.status_code in (200, 429), response.status_code


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def time(self) -> float:
        return self.at.timestamp()

    def now(self) -> datetime:
        return self.at


def test_settings_cap_slow_guessing_per_username_behind_axes():
    """50 failures per username in 24 h by default; the cap sits between axes and the password check."""
    assert settings.LOGIN_USERNAME_FAILURE_LIMIT == LIMIT
    assert timedelta(hours=24) == settings.LOGIN_USERNAME_FAILURE_WINDOW
    assert settings.AUTHENTICATION_BACKENDS == [
        "axes.backends.AxesStandaloneBackend",
        "arbitrage.backends.UsernameThrottleBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]


def test_fifty_failures_from_fifty_addresses_refuse_a_new_browser_even_with_the_right_password(user):
    """No address tripped axes, yet the username is capped: a browser never used by alice gets the lockout page
    saying why and until when."""
    spray(LIMIT)
    stranger = Client()
    response = login(stranger, password=PASSWORD, ip="10.99.0.1")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Login paused" in html and "from many addresses (50 in the last 24 hours)" in html
    lifts = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).earliest("at").at + timedelta(hours=24)
    assert f"Until {lifts:%Y-%m-%d %H:%M} UTC" in html and "logged in from before" in html
    assert "_auth_user_id" not in stranger.session


def test_forty_nine_failures_do_not_cap(user):
    """The limit is 50."""
    spray(LIMIT - 1)
    assert login(Client(), password=PASSWORD, ip="10.99.0.1").status_code == 302


def test_a_browser_alice_logged_in_with_before_still_logs_in(client, user):
    """The spray cannot lock alice out of her own browser: its known-device cookie lets the right password in."""
    assert login(client, password=PASSWORD).status_code == 302
    client.post(reverse("logout"))  # the browser keeps its other cookies (client.logout() would drop them all)
    spray(LIMIT + 10)
    assert login(client, password=PASSWORD, ip="10.99.0.2").status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_known_device_cookie_is_signed_http_only_lax_and_lasts_90_days(client, user, other_user, settings):
    """Set on every successful login; Secure with the session cookie (on when DEBUG is off)."""
    settings.SESSION_COOKIE_SECURE = True
    login(client, password=PASSWORD)
    cookie = client.cookies[KNOWN_DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 90 * 24 * 3600
    assert known_device(cookie=cookie.value, username="alice")
    assert not known_device(cookie=cookie.value[:-1] + ("A" if cookie.value[-1] != "A" else "B"), username="alice")
    assert not known_device(cookie=cookie.value, username="bob")


def test_another_users_or_a_forged_cookie_is_not_a_known_device(client, user, other_user):
    """bob's browser is not alice's, and a made-up cookie is nothing."""
    assert login(client, username="bob", password="bob-password-1").status_code == 302
    client.post(reverse("logout"))
    assert KNOWN_DEVICE_COOKIE in client.cookies
    spray(LIMIT)
    assert login(client, password=PASSWORD, ip="10.99.0.3").status_code == 429
    forged = Client()
    forged.cookies[KNOWN_DEVICE_COOKIE] = f"{user.pk}:forged:signature"
    assert login(forged, password=PASSWORD, ip="10.99.0.4").status_code == 429


def test_only_password_guesses_count_not_attempts_a_lockout_refused(user):
    """60 attempts from one address: axes stops it after 5, and only those 5 guesses count towards the cap."""
    one_browser = Client()
    for _ in range(60):
        login(one_browser, ip="10.88.0.1")
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() == 5
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_REFUSED).count() == 55
    assert login(Client(), password=PASSWORD, ip="10.88.0.2").status_code == 302


def test_the_window_slides(user):
    """Failures older than 24 h stop counting: half the spray a day ago no longer caps the username."""
    start = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    with use_clock(FrozenClock(start)):
        spray(LIMIT // 2)
    with use_clock(FrozenClock(start + timedelta(hours=12))):
        spray(LIMIT // 2, first=LIMIT)
        assert login(Client(), password=PASSWORD, ip="10.99.0.5").status_code == 429
    with use_clock(FrozenClock(start + timedelta(hours=24, seconds=1))):
        assert login(Client(), password=PASSWORD, ip="10.99.0.6").status_code == 302


def test_the_admin_login_is_capped_too(django_user_model):
    """The admin's login form shares the cap and shows the same page."""
    django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    spray(LIMIT, username="root", url=reverse("admin:login"))
    response = login(Client(), username="root", password="root-password-1", url=reverse("admin:login"), ip="10.99.0.7")
    assert response.status_code == 429
    assert "from many addresses" in response.content.decode()


def test_the_cap_and_its_refusals_are_on_the_owners_trail(user):
    """One 'locked out' row when the limit is reached; each refusal after it says why."""
    spray(LIMIT)
    login(Client(), password=PASSWORD, ip="10.99.0.8")
    (locked,) = AuditEvent.objects.filter(action=AuditAction.LOCKED_OUT, owner=user)
    assert "50 failed logins for this username in 24 h" in locked.detail
    refused = AuditEvent.objects.get(action=AuditAction.LOGIN_REFUSED, owner=user)
    assert refused.address == "10.99.0.8" and "refused until" in refused.detail

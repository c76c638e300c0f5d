"""Login throttling (django-axes): 5 failures for one (username, IP address) lock that pair out for 15 minutes, on
the login page and the admin's, with a page that says so; a success resets the count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse

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

"""Security headers on every kind of page (app, admin, login, errors), HSTS in production, and error pages that
leak nothing: DEBUG off never shows a traceback, settings or a secret."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import override_settings
from django.urls import reverse

from tests.site.test_settings import STRONG_SECRET, VALID_FERNET, manage

pytestmark = pytest.mark.django_db


def assert_security_headers(response, url: str) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives.get("script-src") == "'self'", f"{url}: script-src is {directives.get('script-src')!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'", url
    assert response.headers.get("X-Frame-Options") == "DENY", url
    assert response.headers.get("X-Content-Type-Options") == "nosniff", url
    assert response.headers.get("Referrer-Policy") == "same-origin", url


def admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        first = model._default_manager.first()
        if first is not None:
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
    return urls


def test_app_and_admin_pages_carry_the_strict_headers(root_client, root, venue_sim):
    """CSP without unsafe-inline, DENY framing, nosniff and a referrer policy: app pages, every admin changelist
    and change view, the login page and a 404. (A headless Chromium run over the admin found no CSP violation:
    Django 5.2's admin has no inline script or style.)"""
    from arbitrage.models import Installation, Notice
    from tests.conftest import make_sim_account
    from tests.web.conftest import make_execution, subscribe

    bybit, bingx = make_sim_account(venue_sim, root, "bybit"), make_sim_account(venue_sim, root, "bingx")
    execution = make_execution(subscribe(root, bybit, bingx, symbol="DOGEUSDT", quantity="100"))
    Notice.objects.create(user=root, message="note")
    Installation.current()
    urls = [
        reverse("dashboard"),
        reverse("account_list"),
        reverse("account_create"),
        reverse("subscription_list"),
        reverse("execution_list"),
        reverse("execution_detail", args=[execution.pk]),
        reverse("funding_scanner"),
        *admin_urls(),
    ]
    for url in urls:
        response = root_client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response, url)
    assert_security_headers(root_client.get("/no-such-page/"), "404")
    root_client.logout()
    assert_security_headers(root_client.get(reverse("login")), "login")
    assert_security_headers(root_client.get(reverse("admin:login")), "admin login")


@override_settings(SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True)
def test_hsts_is_sent_on_secure_requests(client):
    """With production's HSTS settings, an HTTPS response carries Strict-Transport-Security for a year."""
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in client.get(reverse("login")).headers  # never over plain HTTP


def test_production_settings_turn_on_https_only_cookies_hsts_and_redirect():
    """DEBUG off (a real process, production environment): HTTPS redirect, HSTS one year, secure cookies."""
    code = (
        "import json; from django.conf import settings as s; print(json.dumps([s.DEBUG, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS, s.SECURE_CONTENT_TYPE_NOSNIFF]))"
    )
    result = manage(
        "shell", "-v", "0", "-c", code, DEBUG="false", SECRET_KEY=STRONG_SECRET, FIELD_ENCRYPTION_KEYS=VALID_FERNET
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, True, 31536000, True, True, True, True, "DENY", True]


def test_404_renders_the_template_without_details(alice_client):
    """DEBUG off: an unknown URL is the site's 404 page, not Django's technical page listing the URL patterns."""
    assert settings.DEBUG is False
    response = alice_client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing here, or it is not yours to see." in html
    assert "urlpatterns" not in html.lower() and "Using the URLconf" not in html and "Traceback" not in html


def test_another_users_object_gets_the_same_404_page(alice_client, other_user, simulator_nowhere):
    """A 404 for bob's execution reads exactly like a 404 for a missing one: no hint that it exists."""
    from tests.security.test_hostile_web import offline_account, offline_subscription
    from tests.web.conftest import make_execution

    accounts = offline_account(other_user, "bybit", "b1"), offline_account(other_user, "bingx", "b2")
    execution = make_execution(offline_subscription(other_user, *accounts))
    bob = alice_client.get(reverse("execution_detail", args=[execution.pk]))
    missing = alice_client.get(reverse("execution_detail", args=[10**9]))
    assert bob.status_code == missing.status_code == 404
    token = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')  # differs per response by design
    assert token.sub(b"", bob.content) == token.sub(b"", missing.content)


@pytest.mark.urls("tests.security.urls_boom")
def test_500_shows_no_traceback_setting_or_secret(client, user):
    """DEBUG off: an exception inside a view is the plain 500 page; its message, the traceback, SECRET_KEY and the
    encryption keys appear nowhere in the response."""
    client.force_login(user)
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html
    for leak in ("Traceback", "boom-secret-in-exception", settings.SECRET_KEY, *settings.FIELD_ENCRYPTION_KEYS):
        assert leak not in html
    assert_security_headers(response, "500")

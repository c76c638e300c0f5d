"""Log in, log out, change password; the layout and its security headers."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password="correct horse battery")


def test_login_page_renders_with_security_headers(client):
    """The login page is served with CSP (no inline scripts), frame denial and nosniff."""
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_login_with_valid_credentials_reaches_dashboard(client, alice):
    """Good credentials log in and land on the dashboard with the navigation."""
    response = client.post(reverse("login"), {"username": "alice", "password": "correct horse battery"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    html = response.content.decode()
    for label in ("Dashboard", "Subscriptions", "Exchange accounts", "Executions", "Funding scanner"):
        assert label in html
    assert "Admin</a>" not in html


def test_login_with_wrong_password_shows_error_and_stays_anonymous(client, alice):
    """A wrong password re-renders the form with an error and logs nobody in."""
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_staff_see_the_admin_link(client, alice):
    """The Admin entry appears in the navigation for staff only."""
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client.force_login(alice)
    assert b"Admin</a>" in client.get(reverse("dashboard")).content


def test_logout_is_a_post_and_ends_the_session(client, alice):
    """Logging out (POST, CSRF-protected form in the header) returns to the login page."""
    client.force_login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("dashboard")).status_code == 302


def test_password_change_requires_the_old_password(client, alice):
    """Changing the password needs the current one; the new one works afterwards."""
    client.force_login(alice)
    bad = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "a new long passphrase", "new_password2": "a new long passphrase"},
    )
    assert bad.status_code == 200
    assert b"Your old password was entered incorrectly" in bad.content
    good = client.post(
        reverse("password_change"),
        {
            "old_password": "correct horse battery",
            "new_password1": "a new long passphrase",
            "new_password2": "a new long passphrase",
        },
    )
    assert good.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a new long passphrase")


def test_demo_seed_is_idempotent_and_creates_a_working_login(client, settings, venue_sim):
    """In demo mode seed_demo creates the demo user once; its printed password logs in."""
    from arbitrage.services.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_seed

    settings.MARKET_DATA_ENVIRONMENT = "simulator"

    assert demo_seed().created is True
    assert demo_seed().created is False
    # Through the login form: django-axes needs the request that client.login() does not pass to authenticate().
    response = client.post(reverse("login"), {"username": DEMO_USERNAME, "password": DEMO_PASSWORD})
    assert response.status_code == 302 and client.session.get("_auth_user_id")

"""CSP-friendly markup (no inline scripts, styles or handlers), CSRF on every POST form, no secrets anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.web.conftest import assert_no_secrets

pytestmark = pytest.mark.django_db

TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates" / "arbitrage").rglob("*.html"))
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on*= handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_templates_have_no_inline_script_style_or_handlers(path):
    """The CSP forbids inline code; the templates contain none."""
    text = path.read_text()
    for pattern, what in INLINE:
        assert not pattern.search(text), f"{path.name}: {what}"


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.name for p in TEMPLATES])
def test_every_post_form_carries_a_csrf_token(path):
    """Each <form method="post"> is followed by {% csrf_token %} before it closes."""
    text = path.read_text()
    for match in re.finditer(r'<form[^>]*method="post"[^>]*>(.*?)</form>', text, re.S | re.I):
        assert "{% csrf_token %}" in match.group(1), f"{path.name}: POST form without csrf_token"


def test_csrf_is_enforced_on_actions(client, user, subscription):
    """A POST without the token is refused when CSRF checks are on (as in production)."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("subscription_pause", args=[subscription.pk])).status_code == 403
    assert strict.post(reverse("kill_switch"), {"engaged": "1"}).status_code == 403


def test_no_page_contains_a_key_or_secret(alice_client, market, execution, sim_accounts, subscription):
    """Every page an owner can open is free of the API key and secret."""
    pages = [
        reverse("dashboard"),
        reverse("account_list"),
        reverse("account_create"),
        reverse("account_edit", args=[sim_accounts[0].pk]),
        reverse("account_delete", args=[sim_accounts[0].pk]),
        reverse("subscription_list"),
        reverse("subscription_create"),
        reverse("subscription_edit", args=[subscription.pk]),
        reverse("subscription_delete", args=[subscription.pk]),
        reverse("execution_list"),
        reverse("execution_detail", args=[execution.pk]),
        reverse("funding_scanner"),
    ]
    for url in pages:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        assert_no_secrets(response)
    for name in ("account_check", "subscription_sync_leverage"):
        target = sim_accounts[0].pk if name == "account_check" else subscription.pk
        assert_no_secrets(alice_client.post(reverse(name, args=[target])))


def test_pages_are_served_with_the_csp_header(alice_client):
    """The strict policy is on the app's pages."""
    csp = alice_client.get(reverse("dashboard"))["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp

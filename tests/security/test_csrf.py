"""CSRF: every URL refuses a POST without the token (logged in, as production enforces it), and every form that
posts, in the templates and in the rendered pages (the admin's included), carries the token."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.site.test_login_required import ALL_URLS

pytestmark = pytest.mark.django_db

POST_FORM = re.compile(r"<form\b[^>]*\bmethod=[\"']?post[\"']?[^>]*>(.*?)</form>", re.S | re.I)
# The app's own templates are checked by tests/web/test_security.py; these are the rest of templates/.
OTHER_TEMPLATES = sorted(
    path for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html") if "arbitrage" not in path.parts
)


@pytest.fixture
def strict_client(root) -> Client:
    """A logged-in superuser (so admin views are reachable) whose client enforces CSRF like a browser would."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(root)
    return client


@pytest.mark.parametrize(("name", "url"), ALL_URLS, ids=[name for name, _ in ALL_URLS])
def test_post_without_csrf_token_is_refused(strict_client, name, url):
    """A POST without the token is a 403 from the CSRF check, for every URL of the project and the admin."""
    response = strict_client.post(url, {"engaged": "1", "username": "root", "password": "root-password-1"})
    assert response.status_code == 403, f"{url} answered {response.status_code}"
    assert b"CSRF verification failed" in response.content, f"{url}: refused, but not by the CSRF check"


def test_the_same_post_with_the_token_passes_the_check(root):
    """Control: with the token the kill switch POST goes through, so the 403s above are the CSRF check."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(root)
    page = client.get(reverse("dashboard"))
    token = page.cookies["csrftoken"].value
    response = client.post(reverse("kill_switch"), {"engaged": "1", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.mark.parametrize("path", OTHER_TEMPLATES, ids=[p.name for p in OTHER_TEMPLATES])
def test_every_post_form_in_the_other_templates_carries_a_csrf_token(path):
    """Login, password change, lockout and error pages: each <form method="post"> contains {% csrf_token %}."""
    for match in POST_FORM.finditer(path.read_text()):
        assert "{% csrf_token %}" in match.group(1), f"{path.name}: POST form without csrf_token"


def rendered_pages(objects: dict) -> list[str]:
    """Every page with a form, as rendered: the app's and, for each registered model, the admin's."""
    pages = [
        reverse("dashboard"),
        reverse("account_list"),
        reverse("account_create"),
        reverse("account_edit", args=[objects["account"].pk]),
        reverse("account_delete", args=[objects["account"].pk]),
        reverse("subscription_list"),
        reverse("subscription_create"),
        reverse("subscription_edit", args=[objects["subscription"].pk]),
        reverse("subscription_delete", args=[objects["subscription"].pk]),
        reverse("execution_list"),
        reverse("password_change"),
        reverse("admin:index"),
        reverse("admin:password_change"),
    ]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        first = model._default_manager.first()
        if first is not None:
            pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[first.pk]))
    return pages


def test_every_rendered_post_form_carries_the_token(root, venue_sim):
    """On every page with a form (app and admin, every registered model), each POST form has the hidden token."""
    from arbitrage.models import Installation, Notice
    from arbitrage.services.subscriptions import kill_switch_set
    from tests.conftest import make_sim_account
    from tests.web.conftest import subscribe

    bybit, bingx = make_sim_account(venue_sim, root, "bybit"), make_sim_account(venue_sim, root, "bingx")
    subscription = subscribe(root, bybit, bingx, symbol="DOGEUSDT", quantity="100")
    Notice.objects.create(user=root, message="note")
    kill_switch_set(user=root, engaged=False)
    Installation.current()
    client = Client()
    client.force_login(root)
    checked = 0
    for url in rendered_pages({"account": bybit, "subscription": subscription}):
        response = client.get(url)
        assert response.status_code == 200, url
        for form in POST_FORM.finditer(response.content.decode()):
            assert 'name="csrfmiddlewaretoken"' in form.group(1), f"{url}: a POST form without the token"
            checked += 1
    anonymous = Client().get(reverse("login")).content.decode()
    assert all('name="csrfmiddlewaretoken"' in form.group(1) for form in POST_FORM.finditer(anonymous))
    assert checked > 20  # the walk really found forms

"""Each user sees only their own objects: another user's id answers 404 on every URL that takes one."""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from arbitrage import urls as app_urls
from arbitrage.models import ExchangeAccount, Notice, Subscription, SubscriptionStatus
from tests.web.conftest import assert_no_secrets

pytestmark = pytest.mark.django_db

# Every app URL that takes an id, the kind of object it names, and the methods it answers.
ID_URLS = {
    "notice_dismiss": ("notice", ["post"]),
    "subscription_edit": ("subscription", ["get", "post"]),
    "subscription_pause": ("subscription", ["post"]),
    "subscription_resume": ("subscription", ["post"]),
    "subscription_delete": ("subscription", ["get", "post"]),
    "subscription_sync_leverage": ("subscription", ["post"]),
    "account_edit": ("bybit", ["get", "post"]),
    "account_delete": ("bybit", ["get", "post"]),
    "account_check": ("bybit", ["post"]),
    "execution_detail": ("execution", ["get"]),
}
NO_ID_URLS = {
    "dashboard",
    "kill_switch",
    "trading_halt",
    "subscription_list",
    "subscription_create",
    "account_list",
    "account_create",
    "execution_list",
    "funding_scanner",
    "activity_list",
}


def test_the_tables_cover_every_app_url():
    """A new URL must be added to one of the tables above, so it cannot escape the isolation tests."""
    names = {p.name for p in app_urls.urlpatterns}
    assert names == set(ID_URLS) | NO_ID_URLS
    assert get_resolver().reverse_dict  # the URLconf loads


@pytest.mark.parametrize(
    ("name", "kind", "method"),
    [(name, kind, method) for name, (kind, methods) in ID_URLS.items() for method in methods],
)
def test_other_users_object_is_a_404_and_unchanged(alice_client, sim_accounts, bob_objects, name, kind, method):
    """alice requesting bob's object gets 404 and bob's rows are untouched."""
    target = bob_objects[kind]
    response = getattr(alice_client, method)(reverse(name, args=[target.pk]), {"label": "hijacked"})
    assert response.status_code == 404
    assert ExchangeAccount.objects.filter(pk=bob_objects["bybit"].pk, label="bybit main").exists()
    bob_sub = Subscription.objects.get(pk=bob_objects["subscription"].pk)
    assert bob_sub.status == SubscriptionStatus.ACTIVE and bob_sub.leverage_synced_at is None
    assert Notice.objects.get(pk=bob_objects["notice"].pk).dismissed is False


@pytest.mark.parametrize("name", sorted(ID_URLS))
def test_missing_id_is_a_404(alice_client, name):
    """An id that exists for nobody is a 404 too (no 500, no hint)."""
    method = "get" if "get" in ID_URLS[name][1] else "post"
    assert getattr(alice_client, method)(reverse(name, args=[987654])).status_code == 404


@pytest.mark.parametrize("path", ["/executions/abc/", "/subscriptions/1.5/edit/", "/accounts/-1/edit/"])
def test_non_numeric_ids_are_a_404(alice_client, path):
    """Ids that are not whole numbers never reach a view."""
    assert alice_client.get(path).status_code == 404


@pytest.mark.parametrize("name", sorted(NO_ID_URLS - {"kill_switch", "trading_halt"}))
def test_list_pages_show_none_of_bobs_objects(alice_client, sim_accounts, bob_objects, name):
    """Lists, forms and choice lists contain nothing of bob's."""
    response = alice_client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert "bob's notice" not in html
    assert f"bob-{bob_objects['execution'].pk}-po1" not in html
    assert "ETHUSDT bybit" not in html and "#" + str(bob_objects["subscription"].pk) + " ETHUSDT" not in html
    for account in (bob_objects["bybit"], bob_objects["bingx"]):
        assert f'<option value="{account.pk}"' not in html
    assert_no_secrets(response)


def test_execution_filter_choices_and_results_exclude_other_users(alice_client, subscription, bob_objects):
    """bob's subscription is not a filter choice; filtering by its id is reported and shows none of his rows."""
    html = alice_client.get(reverse("execution_list")).content.decode()
    assert f'<option value="{subscription.pk}"' in html
    assert f'<option value="{bob_objects["subscription"].pk}"' not in html
    response = alice_client.get(reverse("execution_list") + f"?subscription={bob_objects['subscription'].pk}")
    assert "Subscription: Select a valid choice" in response.content.decode()
    assert bob_objects["execution"] not in response.context["page"].object_list


def test_dashboard_shows_only_own_executions(alice_client, execution, bob_objects):
    """bob's execution appears neither in recent executions nor in the P&L chart's total."""
    response = alice_client.get(reverse("dashboard"))
    assert bob_objects["execution"] not in response.context["recent"]
    assert execution in response.context["recent"]

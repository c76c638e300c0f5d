"""Exchange account pages: add, edit, delete, test connection; the key and secret are write-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from arbitrage.models import ExchangeAccount
from tests.web.conftest import assert_no_secrets

pytestmark = pytest.mark.django_db

GOOD = {
    "exchange": "bybit",
    "label": "Bybit main",
    "environment": "testnet",
    "base_url": "",
    "api_key": "NEWKEY1234567890ABCD",
    "api_secret": "NEWSECRETvalue0987654321",
}


def test_add_account_stores_encrypted_credentials_and_shows_only_the_hint(alice_client, user):
    """A valid form creates the account; the list shows the masked key only."""
    response = alice_client.post(reverse("account_create"), GOOD)
    assert response.status_code == 302
    account = ExchangeAccount.objects.get(owner=user)
    assert account.api_secret == GOOD["api_secret"]
    html = alice_client.get(reverse("account_list")).content.decode()
    assert account.api_key_hint in html
    assert GOOD["api_key"] not in html and GOOD["api_secret"] not in html


def test_add_form_renders_secret_inputs_as_passwords(alice_client):
    """The GET form uses password inputs for both credentials."""
    html = alice_client.get(reverse("account_create")).content.decode()
    assert 'type="password" name="api_key"' in html and 'type="password" name="api_secret"' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("label", "", "This field is required"),
        ("label", "x" * 61, "At most 60 printable characters"),
        ("exchange", "kraken", "Select a valid choice"),
        ("environment", "prod", "Select a valid choice"),
        ("base_url", "ftp://example.com", "Enter a full http:// or https:// URL"),
        ("api_key", "has space", "printable characters without spaces"),
        ("api_secret", "", "This field is required"),
    ],
)
def test_invalid_account_input_names_the_field_and_changes_nothing(alice_client, field, value, message):
    """Each bad value re-renders with an error on that field; no account is created; no credential is echoed."""
    response = alice_client.post(reverse("account_create"), {**GOOD, field: value})
    assert response.status_code == 200
    assert message in " ".join(str(e) for e in response.context["form"].errors.get(field, []))
    assert not ExchangeAccount.objects.exists()
    html = response.content.decode()
    assert GOOD["api_secret"] not in html and GOOD["api_key"] not in html


def test_bingx_testnet_is_refused_on_the_environment_field(alice_client):
    """BingX has no testnet: the service's message lands on the environment field."""
    response = alice_client.post(reverse("account_create"), {**GOOD, "exchange": "bingx"})
    assert "BingX has no testnet" in str(response.context["form"].errors["environment"])
    assert GOOD["api_secret"] not in response.content.decode()


def test_duplicate_label_is_refused(alice_client, sim_accounts):
    """A second account with the same label is refused on the label field."""
    response = alice_client.post(reverse("account_create"), {**GOOD, "label": sim_accounts[0].label})
    assert "already have an account labelled" in str(response.context["form"].errors["label"])
    assert ExchangeAccount.objects.count() == 2


def test_edit_keeps_stored_secret_when_blank(alice_client, sim_accounts):
    """Blank key and secret on edit keep the stored ones; the form never shows them."""
    account = sim_accounts[0]
    form_page = alice_client.get(reverse("account_edit", args=[account.pk]))
    assert_no_secrets(form_page)
    response = alice_client.post(
        reverse("account_edit", args=[account.pk]),
        {"label": "Renamed", "environment": "simulator", "base_url": account.base_url, "api_key": "", "api_secret": ""},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.label == "Renamed"
    assert account.api_secret == "alice-bybit-secret-main"


def test_edit_replaces_credentials_when_given(alice_client, sim_accounts):
    """A new key and secret replace the stored ones and the hint follows."""
    account = sim_accounts[0]
    data = {"label": account.label, "environment": "simulator", "base_url": account.base_url}
    data.update(api_key="REPLACEDKEY000111222", api_secret="REPLACEDSECRET999")
    alice_client.post(reverse("account_edit", args=[account.pk]), data)
    account.refresh_from_db()
    assert account.api_secret == "REPLACEDSECRET999"
    assert account.api_key_hint == "REPL…1222"


def test_edit_error_changes_nothing_and_echoes_no_secret(alice_client, sim_accounts):
    """A bad base URL with a new secret: error on base_url, row unchanged, the typed secret not in the page."""
    account = sim_accounts[0]
    response = alice_client.post(
        reverse("account_edit", args=[account.pk]),
        {"label": "Other", "environment": "simulator", "base_url": "nope", "api_key": "", "api_secret": "TYPEDSECRET1"},
    )
    assert response.status_code == 200
    assert "base_url" in response.context["form"].errors
    assert "TYPEDSECRET1" not in response.content.decode()
    assert_no_secrets(response)
    account.refresh_from_db()
    assert account.label == "bybit main" and account.api_secret == "alice-bybit-secret-main"


def test_delete_asks_then_deletes(alice_client, user, venue_sim):
    """GET shows a confirmation; POST deletes an unused account."""
    from tests.conftest import make_sim_account

    account = make_sim_account(venue_sim, user, "bybit", label="spare")
    assert b"cannot be undone" in alice_client.get(reverse("account_delete", args=[account.pk])).content
    assert alice_client.post(reverse("account_delete", args=[account.pk])).status_code == 302
    assert not ExchangeAccount.objects.filter(pk=account.pk).exists()


def test_delete_of_an_account_in_use_is_refused(alice_client, subscription):
    """An account used by a subscription stays, with a message naming the subscription."""
    account = subscription.primary_account
    response = alice_client.post(reverse("account_delete", args=[account.pk]), follow=True)
    assert f"#{subscription.pk}" in response.content.decode()
    assert ExchangeAccount.objects.filter(pk=account.pk).exists()


def test_test_connection_shows_offset_mode_margin_and_trade_right(alice_client, sim_accounts):
    """POST runs account_check and shows its findings."""
    response = alice_client.post(reverse("account_check", args=[sim_accounts[0].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Clock offset" in html and "one_way" in html and "10000.00 USDT" in html
    assert "Can trade perpetuals" in html and "WITHDRAW" not in html
    assert_no_secrets(response)


def test_test_connection_warns_loudly_when_the_key_can_withdraw(alice_client, venue_sim, sim_accounts):
    """A key with withdrawal rights gets a prominent danger warning."""
    venue_sim.set_permissions("bybit", "alice-bybit-main-key", can_withdraw=True)
    html = alice_client.post(reverse("account_check", args=[sim_accounts[0].pk])).content.decode()
    assert 'class="loud"' in html and "can WITHDRAW funds" in html


def test_test_connection_reports_a_venue_failure(alice_client, venue_sim, sim_accounts):
    """A venue error is shown as the check's message, not a 500."""
    venue_sim.faults("bybit").fail_next("*", count=10, code=10003)
    response = alice_client.post(reverse("account_check", args=[sim_accounts[0].pk]))
    assert response.status_code == 200
    assert "Problem" in response.content.decode()


def test_test_connection_is_post_only(alice_client, sim_accounts):
    """GET of a state-changing action is refused."""
    assert alice_client.get(reverse("account_check", args=[sim_accounts[0].pk])).status_code == 405

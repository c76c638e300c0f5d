"""Subscription pages: create (prefilled from the scanner), edit, pause, resume, delete, sync leverage now.

Every invalid input is answered with an error on the named field, and nothing changes.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from arbitrage.models import ExecutionStatus, Subscription, SubscriptionStatus
from tests.conftest import make_sim_account
from tests.web.conftest import assert_no_secrets, make_execution

pytestmark = pytest.mark.django_db


def form_data(accounts, **overrides) -> dict:
    bybit, bingx = accounts
    data = {
        "symbol": "DOGEUSDT",
        "primary_account": bybit.pk,
        "hedge_account": bingx.pk,
        "quantity": "100",
        "leverage": "5",
        "direction": "auto",
        "min_edge_bps": "0",
        "lead_seconds": "45",
        "close_delay_seconds": "60",
        "recurring": "recurring",
    }
    return {**data, **overrides}


def test_create_subscription(alice_client, sim_accounts, user):
    """A valid form creates an active subscription with the given values."""
    response = alice_client.post(reverse("subscription_create"), form_data(sim_accounts, recurring="once"))
    assert response.status_code == 302
    subscription = Subscription.objects.get(owner=user)
    assert (subscription.symbol, subscription.leverage, subscription.recurring) == ("DOGEUSDT", 5, False)
    assert subscription.status == SubscriptionStatus.ACTIVE


INVALID = [
    ("leverage", "0", "whole number from 1 to 200"),
    ("leverage", "-1", "whole number from 1 to 200"),
    ("leverage", "1.5", "whole number from 1 to 200"),
    ("leverage", str(10**9), "whole number from 1 to 200"),
    ("leverage", "abc", "whole number from 1 to 200"),
    ("leverage", "76", "Bybit allows at most 75x for DOGEUSDT"),
    ("leverage", "51", "BingX allows at most 50x for DOGEUSDT"),
    ("leverage", "", "This field is required"),
    ("quantity", "0", "above 0"),
    ("quantity", "-5", "above 0"),
    ("quantity", "NaN", "above 0"),
    ("quantity", "sNaN", "above 0"),
    ("min_edge_bps", "NaN", "from -10000 to 10000"),
    ("quantity", "1e30", "at most"),
    ("quantity", "abc", "Enter a number"),
    ("quantity", "0.5", "needs at least 1 DOGEUSDT"),
    ("quantity", "10", "needs at least 5 USDT"),
    ("symbol", "BTC USDT", "Not a USDT perpetual symbol"),
    ("symbol", "ДОГЕUSDT", "Not a USDT perpetual symbol"),
    ("symbol", "BTCUSDT'; DROP TABLE arbitrage_subscription; --", "Not a USDT perpetual symbol"),
    ("symbol", "A" * 40 + "USDT", "at most 30 characters"),
    ("symbol", "FOOUSDT", "does not list FOOUSDT"),
    ("min_edge_bps", "abc", "Enter a number"),
    ("min_edge_bps", "100000", "at most 10000"),
    ("lead_seconds", "0", "whole number from 1 to 600"),
    ("lead_seconds", "601", "whole number from 1 to 600"),
    ("close_delay_seconds", "601", "whole number from 1 to 600"),
    ("direction", "sideways", "Select a valid choice"),
    ("recurring", "sometimes", "Select a valid choice"),
    ("primary_account", "abc", "Select a valid choice"),
    ("hedge_account", "999999", "Select a valid choice"),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID, ids=[f"{f}={v[:20]!r}" for f, v, _ in INVALID])
def test_invalid_subscription_input_names_the_field_and_changes_nothing(
    alice_client, sim_accounts, field, value, message
):
    """Each bad value gives an error on its field stating the limit; no subscription is created."""
    response = alice_client.post(reverse("subscription_create"), form_data(sim_accounts, **{field: value}))
    assert response.status_code == 200
    errors = " ".join(str(e) for e in response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert not Subscription.objects.exists()
    assert_no_secrets(response)


def test_same_venue_twice_is_refused_on_the_hedge_field(alice_client, sim_accounts, user, venue_sim):
    """Primary and hedge must be on different exchanges."""
    second_bybit = make_sim_account(venue_sim, user, "bybit", label="bybit-two")
    data = form_data(sim_accounts, hedge_account=second_bybit.pk)
    response = alice_client.post(reverse("subscription_create"), data)
    assert "other exchange" in str(response.context["form"].errors["hedge_account"])
    assert not Subscription.objects.exists()


def test_other_users_accounts_are_not_choices(alice_client, sim_accounts, bob_objects):
    """bob's accounts are neither listed in the form nor accepted when posted."""
    html = alice_client.get(reverse("subscription_create")).content.decode()
    for account in (bob_objects["bybit"], bob_objects["bingx"]):
        assert f'<option value="{account.pk}"' not in html
    for field, account in (("primary_account", bob_objects["bybit"]), ("hedge_account", bob_objects["bingx"])):
        response = alice_client.post(reverse("subscription_create"), form_data(sim_accounts, **{field: account.pk}))
        assert "Select a valid choice" in str(response.context["form"].errors[field])
    assert not Subscription.objects.filter(owner=sim_accounts[0].owner).exists()


def test_venue_unreachable_is_a_symbol_error_not_a_500(alice_client, venue_sim, sim_accounts):
    """When the live limits cannot be read the form says so on the symbol field."""
    venue_sim.faults("bingx").fail_next("*", count=20, http_status=502)
    response = alice_client.post(reverse("subscription_create"), form_data(sim_accounts))
    assert response.status_code == 200
    assert "BingX limits could not be read" in str(response.context["form"].errors["symbol"])


def test_scanner_link_prefills_symbol_and_accounts(alice_client, sim_accounts):
    """symbol and primary GET params preselect the symbol and the accounts on each venue."""
    bybit, bingx = sim_accounts
    form = alice_client.get(reverse("subscription_create") + "?symbol=SOLUSDT&primary=bingx").context["form"]
    assert form.initial["symbol"] == "SOLUSDT"
    assert form.initial["primary_account"] == bingx.pk and form.initial["hedge_account"] == bybit.pk


def test_odd_prefill_params_are_ignored(alice_client, sim_accounts):
    """An unknown venue or an oversized symbol is simply not prefilled, and markup in it is escaped."""
    response = alice_client.get(reverse("subscription_create") + "?symbol=<script>x&primary=kraken")
    html = response.content.decode()
    assert response.status_code == 200 and "<script>x" not in html
    assert "primary_account" not in response.context["form"].initial
    long = alice_client.get(reverse("subscription_create") + "?symbol=" + "A" * 100).context["form"]
    assert "symbol" not in long.initial


def test_edit_subscription(alice_client, subscription):
    """Editing saves new values through the service."""
    data = form_data((subscription.primary_account, subscription.hedge_account), symbol="BTCUSDT", quantity="0.02")
    response = alice_client.post(reverse("subscription_edit", args=[subscription.pk]), {**data, "leverage": "7"})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.leverage == 7 and str(subscription.quantity.normalize()) == "0.02"


def test_edit_form_is_prefilled_and_invalid_edit_changes_nothing(alice_client, subscription):
    """The edit form shows current values; a leverage above the venue maximum is refused and not saved."""
    page = alice_client.get(reverse("subscription_edit", args=[subscription.pk]))
    assert page.context["form"].initial["quantity"] == "0.01"
    data = form_data((subscription.primary_account, subscription.hedge_account), symbol="BTCUSDT", leverage="101")
    response = alice_client.post(reverse("subscription_edit", args=[subscription.pk]), data)
    assert "Bybit allows at most 100x" in str(response.context["form"].errors["leverage"])
    subscription.refresh_from_db()
    assert subscription.leverage == 3


def test_second_active_subscription_on_the_same_accounts_and_symbol_is_refused(alice_client, subscription):
    """One-way positions would net: the clash is named on the symbol field."""
    data = form_data((subscription.primary_account, subscription.hedge_account), symbol="BTCUSDT", quantity="0.01")
    response = alice_client.post(reverse("subscription_create"), data)
    assert f"Subscription #{subscription.pk} already trades BTCUSDT" in str(response.context["form"].errors["symbol"])
    assert Subscription.objects.count() == 1


def test_pause_and_resume(alice_client, subscription):
    """Pause and resume are POST actions that flip the status."""
    assert alice_client.get(reverse("subscription_pause", args=[subscription.pk])).status_code == 405
    alice_client.post(reverse("subscription_pause", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAUSED
    assert b"Resume" in alice_client.get(reverse("subscription_list")).content
    alice_client.post(reverse("subscription_resume", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_resume_refused_when_another_active_subscription_clashes(alice_client, subscription, user):
    """Resuming into a clash shows the reason and leaves the subscription paused."""
    from tests.web.conftest import subscribe

    alice_client.post(reverse("subscription_pause", args=[subscription.pk]))
    subscribe(user, subscription.primary_account, subscription.hedge_account)
    response = alice_client.post(reverse("subscription_resume", args=[subscription.pk]), follow=True)
    assert "Could not resume" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAUSED


def test_delete_asks_then_deletes(alice_client, subscription):
    """GET confirms; POST deletes."""
    assert b"cannot be undone" in alice_client.get(reverse("subscription_delete", args=[subscription.pk])).content
    alice_client.post(reverse("subscription_delete", args=[subscription.pk]))
    assert not Subscription.objects.filter(pk=subscription.pk).exists()


def test_delete_refused_while_an_execution_is_in_flight(alice_client, subscription):
    """A subscription with an open execution stays, with the reason."""
    make_execution(subscription, minutes=1, status=ExecutionStatus.OPEN)
    response = alice_client.post(reverse("subscription_delete", args=[subscription.pk]), follow=True)
    assert "execution in progress" in response.content.decode()
    assert Subscription.objects.filter(pk=subscription.pk).exists()


def test_sync_leverage_now_shows_each_venue_and_timing(alice_client, subscription):
    """Both venues confirm the leverage; each row shows its time taken."""
    response = alice_client.post(reverse("subscription_sync_leverage", args=[subscription.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Synced" in html and "Bybit" in html and "BingX" in html and " ms" in html
    subscription.refresh_from_db()
    assert subscription.leverage_synced_at is not None


def test_sync_leverage_failure_shows_the_reasons(alice_client, venue_sim, subscription):
    """A venue rejection is shown with the venue's reason."""
    venue_sim.faults("bingx").fail_next("*", count=10, code=109400, message="leverage rejected by test")
    response = alice_client.post(reverse("subscription_sync_leverage", args=[subscription.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Failed" in html and "BingX:" in html
    subscription.refresh_from_db()
    assert subscription.leverage_synced_at is None

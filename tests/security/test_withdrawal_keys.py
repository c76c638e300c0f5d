"""A key that can withdraw funds fails the account check, is stored as such, and is flagged loudly on the accounts
page and in the admin (changelist and change view)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from arbitrage.admin import WITHDRAW_FLAG
from arbitrage.models import ExchangeAccount
from arbitrage.services.accounts import account_check
from tests.simulator.signing import BingxRaw

pytestmark = pytest.mark.django_db


def test_check_of_a_withdrawal_key_fails_and_says_what_to_do(venue_sim, sim_accounts):
    """ok is False, the message tells the user to create a key without withdrawal rights, can_withdraw is stored."""
    bybit, _ = sim_accounts
    venue_sim.set_permissions("bybit", bybit.api_key, can_trade=True, can_withdraw=True)
    result = account_check(account=bybit)
    assert result.ok is False
    assert "Create a key without withdrawal rights" in result.message
    stored = ExchangeAccount.objects.get(pk=bybit.pk)
    assert (stored.can_withdraw, stored.last_check_ok) == (True, False)


def test_a_key_without_withdrawal_rights_passes_and_clears_the_flag(venue_sim, sim_accounts):
    """Replacing the key's rights and checking again clears the stored flag."""
    bybit, _ = sim_accounts
    venue_sim.set_permissions("bybit", bybit.api_key, can_withdraw=True)
    account_check(account=bybit)
    venue_sim.set_permissions("bybit", bybit.api_key, can_withdraw=False)
    assert account_check(account=bybit).ok is True
    assert ExchangeAccount.objects.get(pk=bybit.pk).can_withdraw is False


def test_accounts_page_and_admin_flag_withdrawal_keys(venue_sim, sim_accounts, alice_client, django_user_model):
    """The owner's list shows a red "can withdraw" badge on that account only; the admin shows the warning text
    (not Django's green tick for True) in the changelist and on the change view."""
    bybit, bingx = sim_accounts
    venue_sim.set_permissions("bybit", bybit.api_key, can_withdraw=True)
    account_check(account=bybit)
    account_check(account=bingx)

    html = alice_client.get(reverse("account_list")).content.decode()
    badge = '<span class="badge bad">can withdraw</span>'
    rows = {
        label: next(r for r in html.split("<tr>") if f"<td>{label}</td>" in r) for label in (bybit.label, bingx.label)
    }
    assert badge in rows[bybit.label] and badge not in rows[bingx.label]

    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    alice_client.force_login(root)
    changelist = alice_client.get(reverse("admin:arbitrage_exchangeaccount_changelist")).content.decode()
    assert changelist.count(WITHDRAW_FLAG) == 1
    change = alice_client.get(reverse("admin:arbitrage_exchangeaccount_change", args=[bybit.pk])).content.decode()
    assert WITHDRAW_FLAG in change
    other = alice_client.get(reverse("admin:arbitrage_exchangeaccount_change", args=[bingx.pk])).content.decode()
    assert WITHDRAW_FLAG not in other
    filtered = alice_client.get(reverse("admin:arbitrage_exchangeaccount_changelist"), {"can_withdraw__exact": "1"})
    assert list(filtered.context["cl"].result_list) == [ExchangeAccount.objects.get(pk=bybit.pk)]


def test_test_connection_reads_bingx_bare_permission_codes(venue_sim, sim_accounts, alice_client):
    """BingX answers apiPermissions without its code envelope, with integer codes (docs-v3): [2, 3] passes *Test
    connection*; a key that also has 5 (withdraw) is flagged and fails it."""
    _, bingx = sim_accounts
    raw = BingxRaw(venue_sim.base_url, bingx.api_key, bingx.api_secret)
    answer = raw.get("/openApi/v1/account/apiPermissions").json()
    assert "code" not in answer and answer["permissions"] == [2, 3]

    page = alice_client.post(reverse("account_check", args=[bingx.pk]), follow=True)
    assert page.status_code == 200
    assert ExchangeAccount.objects.get(pk=bingx.pk).last_check_ok is True

    venue_sim.set_permissions("bingx", bingx.api_key, can_withdraw=True)
    assert raw.get("/openApi/v1/account/apiPermissions").json()["permissions"] == [2, 3, 5]
    alice_client.post(reverse("account_check", args=[bingx.pk]), follow=True)
    stored = ExchangeAccount.objects.get(pk=bingx.pk)
    assert (stored.can_withdraw, stored.last_check_ok) == (True, False)

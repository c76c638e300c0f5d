"""sync_leverage: both venues set and verified, each venue's result and the time printed, status untouched."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from arbitrage.models import Subscription, SubscriptionStatus
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create
from tests.commands.conftest import one_line

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(user, sim_accounts):
    bybit, bingx = sim_accounts
    data = SubscriptionInput(symbol="DOGEUSDT", primary_account=bybit, hedge_account=bingx, quantity=Decimal(100))
    created = subscription_create(owner=user, data=data)
    Subscription.objects.filter(pk=created.pk).update(status=SubscriptionStatus.PAUSED)
    return created


def test_sync_leverage_prints_each_venue_and_the_time(subscription, venue_sim, cli):
    """Both venues report ok with the read-back value; a total time line follows; nothing on stderr."""
    ran = cli("sync_leverage", str(subscription.pk))
    lines = ran.stdout.splitlines()
    assert lines[0].startswith("Bybit: ok 3x (set ") and " ms, verify " in lines[0]
    assert lines[1].startswith("BingX: ok 3x (set ")
    assert lines[2].startswith("leverage 3x synced in ") and lines[2].endswith(" ms")
    assert ran.stderr == ""
    subscription.refresh_from_db()
    assert subscription.leverage_synced_at is not None
    assert subscription.status == SubscriptionStatus.PAUSED


def test_sync_leverage_new_value_is_saved_on_success(subscription, venue_sim, cli):
    """--leverage 7: both venues set to 7x and the subscription now says 7."""
    ran = cli("sync_leverage", str(subscription.pk), "--leverage", "7")
    assert "leverage 7x synced" in ran.stdout
    subscription.refresh_from_db()
    assert subscription.leverage == 7
    assert subscription.status == SubscriptionStatus.PAUSED


def test_sync_leverage_failure_names_the_venue_and_keeps_the_old_value(subscription, venue_sim, cli):
    """BingX refuses: exit 1 with BingX's reason in one line; the report shows Bybit ok, BingX FAILED; 3x kept."""
    venue_sim.faults("bingx").fail_next("POST /openApi/swap/v2/trade/leverage", code=109400)
    with pytest.raises(CommandError) as caught:
        cli("sync_leverage", str(subscription.pk), "--leverage", "7")
    message = str(caught.value)
    assert one_line(message)
    assert message.startswith(f"subscription #{subscription.pk}: Leverage 7x could not be set: BingX: ")
    assert "Bybit" not in message.split("could not be set:")[1]
    subscription.refresh_from_db()
    assert (subscription.leverage, subscription.status, subscription.leverage_synced_at) == (
        3,
        SubscriptionStatus.PAUSED,
        None,
    )


def test_sync_leverage_failure_prints_per_venue_results_on_stdout(subscription, venue_sim):
    """On failure the per-venue report still goes to stdout (the result), the reason to the error."""
    venue_sim.faults("bingx").fail_next("POST /openApi/swap/v2/trade/leverage", code=109400)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("sync_leverage", str(subscription.pk), stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Bybit: ok 3x")
    assert lines[1].startswith("BingX: FAILED ")
    assert lines[2].startswith("leverage 3x NOT synced in ")


def test_sync_leverage_above_venue_max_fails_on_that_venue(subscription, venue_sim, cli):
    """60x on DOGEUSDT: BingX (max 50x) refuses; the error names BingX."""
    with pytest.raises(CommandError, match="BingX") as caught:
        cli("sync_leverage", str(subscription.pk), "--leverage", "60")
    assert one_line(caught.value)
    subscription.refresh_from_db()
    assert subscription.leverage == 3


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--leverage", "0"), "--leverage: enter a whole number from 1 to 200"),
        (("--leverage", "-1"), "--leverage: enter a whole number from 1 to 200"),
        (("--leverage", "1.5"), "--leverage: '1.5' is not a whole number"),
        (("--leverage", str(10**9)), "--leverage: enter a whole number from 1 to 200"),
        (("--leverage", "abc"), "--leverage: 'abc' is not a whole number"),
        (("--user", "ghost"), "--user: no user named 'ghost'"),
        (("--user", "bob"), "SUBSCRIPTION: no subscription of user 'bob' with id"),
    ],
)
def test_sync_leverage_rejects_mistakes_before_any_venue_call(subscription, other_user, venue_sim, cli, args, expected):
    """Bad numbers, unknown users and another user's subscription are one line; no venue is touched."""
    venue_sim.faults("bybit").fail_next("*", code=10016, count=100)  # any venue call would show as a failure
    with pytest.raises(CommandError) as caught:
        cli("sync_leverage", str(subscription.pk), *args)
    assert expected in str(caught.value)
    assert one_line(caught.value)
    subscription.refresh_from_db()
    assert subscription.leverage_synced_at is None


@pytest.mark.parametrize("ref", ["999999", "abc", "0", "-1", "1.5", ""])
def test_sync_leverage_unknown_or_malformed_id(sim_accounts, cli, ref):
    """An id that is not a positive whole number, or names no subscription, is one line."""
    with pytest.raises(CommandError, match="SUBSCRIPTION: ") as caught:
        cli("sync_leverage", ref)
    assert one_line(caught.value)

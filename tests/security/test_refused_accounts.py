"""Accounts stored before the base-URL rules (or before demo mode was switched off) that break them: they open
nothing new, with a notice to their owner, and nothing is sent to their URL; what is already open is still closed."""

from __future__ import annotations

import io
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models.signals import post_save
from django.urls import reverse

from arbitrage.models import (
    ExchangeAccount,
    Execution,
    ExecutionEvent,
    ExecutionStatus,
    Notice,
    Subscription,
    SubscriptionStatus,
)
from arbitrage.services.plan import plan_for
from arbitrage.services.planner import executions_plan
from arbitrage.services.preflight import execution_preflight
from arbitrage.services.subscriptions import subscription_resume
from tests.web.conftest import make_execution

pytestmark = pytest.mark.django_db

REFUSED = "cannot open positions"


def stored_account(owner, exchange: str, environment: str, base_url: str) -> ExchangeAccount:
    """An account row as an older version accepted it: written without today's rules."""
    account = ExchangeAccount(owner=owner, exchange=exchange, label=f"old {exchange}", environment=environment,
                              base_url=base_url)  # fmt: skip
    account.set_credentials(api_key=f"{exchange}-old-key", api_secret=f"{exchange}-old-secret")
    account.save()
    return account


@pytest.fixture
def refused(user, secret_page) -> Subscription:
    """alice's active subscription on a simulator account (demo mode is off) and a mainnet account aimed at the
    loopback secret page: both refused by the rules."""
    bybit = stored_account(user, "bybit", "simulator", f"{secret_page.url}/secret.txt?")
    bingx = stored_account(user, "bingx", "mainnet", secret_page.url)
    return Subscription.objects.create(
        owner=user, symbol="BTCUSDT", primary_account=bybit, hedge_account=bingx, quantity=Decimal("0.01")
    )


def test_the_planner_arms_nothing_and_tells_the_owner(refused, secret_page):
    """The subscription goes to Error with the reason, the owner gets a notice; no request reaches the URL."""
    assert executions_plan() == []
    refused.refresh_from_db()
    assert refused.status == SubscriptionStatus.ERROR
    assert "Bybit account 'old bybit' cannot open positions: The built-in simulator is only available" in (
        refused.last_error
    )
    notice = Notice.objects.get(user=refused.owner, subscription=refused)
    assert notice.message == refused.last_error
    assert not Execution.objects.exists()
    assert secret_page.requests == []


def test_preflight_fails_an_armed_execution_without_asking_the_venues(refused, secret_page):
    """An execution armed before the rule (or before demo mode went off) fails at preflight; nothing is sent."""
    execution = make_execution(refused, minutes=5, status=ExecutionStatus.PLANNED)
    assert execution_preflight(plan_for(execution)) is False
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED and REFUSED in execution.error
    refused.refresh_from_db()
    assert refused.status == SubscriptionStatus.ERROR
    assert secret_page.requests == []


def test_test_connection_and_sync_leverage_pages_refuse_with_the_reason(alice_client, refused, secret_page):
    """Both pages say why and send nothing; the check stores the reason as its outcome."""
    check = alice_client.post(reverse("account_check", args=[refused.hedge_account.pk])).content.decode()
    assert "BingX account &#x27;old bingx&#x27; cannot open positions: Use https:// with one of BingX" in check
    account = ExchangeAccount.objects.get(pk=refused.hedge_account.pk)
    assert account.last_check_ok is False and REFUSED in account.last_check_message
    sync = alice_client.post(reverse("subscription_sync_leverage", args=[refused.pk])).content.decode()
    assert "Failed" in sync and REFUSED in sync
    assert secret_page.requests == []


def test_resume_and_a_new_subscription_on_a_refused_account_are_refused(alice_client, refused, user):
    """Resuming, or subscribing with such an account, names the account and the rule."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match=REFUSED):
        subscription_resume(subscription=refused)
    response = alice_client.post(
        reverse("subscription_create"),
        {"symbol": "ETHUSDT", "primary_account": refused.primary_account.pk, "hedge_account": refused.hedge_account.pk,
         "quantity": "0.1", "leverage": "3", "direction": "auto", "min_edge_bps": "0", "lead_seconds": "5",
         "close_delay_seconds": "10", "recurring": "recurring"},
    )  # fmt: skip
    assert REFUSED in " ".join(response.context["form"].errors["primary_account"])
    assert Subscription.objects.count() == 1


def test_the_commands_refuse_with_one_line_and_send_nothing(refused, secret_page):
    """check_account and sync_leverage fail with the reason on one line."""
    out = io.StringIO()
    with pytest.raises(CommandError, match=REFUSED):
        call_command("check_account", str(refused.primary_account.pk), stdout=out, stderr=io.StringIO())
    with pytest.raises(CommandError, match=REFUSED):
        call_command("sync_leverage", str(refused.pk), stdout=out, stderr=io.StringIO())
    assert secret_page.requests == []


def test_the_admin_actions_refuse_with_the_reason(client, django_user_model, refused, secret_page):
    """Test connection, check accounts and sync leverage from the admin report the reason and send nothing."""
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1"))
    for model, action, pk in (
        ("exchangeaccount", "test_connection", refused.primary_account.pk),
        ("subscription", "check_accounts", refused.pk),
        ("subscription", "sync_leverage", refused.pk),
    ):
        response = client.post(
            reverse(f"admin:arbitrage_{model}_changelist"), {"action": action, "_selected_action": [pk]}, follow=True
        )
        assert REFUSED in response.content.decode(), action
    assert secret_page.requests == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_timeline")
def test_an_open_execution_still_closes_after_demo_mode_goes_off(settings, venue_sim, user, sim_accounts):
    """Demo mode switched off while both legs are open: they are still closed flat, and the next planner run
    stops the subscription with a notice instead of opening again."""
    from arbitrage.services.driver import instant_drive
    from arbitrage.services.subscriptions import SubscriptionInput, subscription_create

    bybit, bingx = sim_accounts
    subscription = subscription_create(
        owner=user,
        data=SubscriptionInput(symbol="ETHUSDT", primary_account=bybit, hedge_account=bingx, quantity=Decimal("0.5"),
                               lead_seconds=1, close_delay_seconds=1, min_edge_bps=Decimal("-1000")),
    )  # fmt: skip
    lock = threading.Lock()

    def demo_off_once_open(sender, instance, created, **kwargs):
        if created and instance.step == "status_open":
            with lock:
                settings.DEMO_SIMULATOR = False

    post_save.connect(demo_off_once_open, sender=ExecutionEvent, weak=False)
    try:
        venue_sim.set_next_funding("ETHUSDT", "bybit", in_seconds=5)
        (instant,) = executions_plan()
        assert instant_drive(funding_time=instant) == 1
    finally:
        post_save.disconnect(demo_off_once_open, sender=ExecutionEvent)
    execution = Execution.objects.get(subscription=subscription)
    assert settings.DEMO_SIMULATOR is False
    assert execution.status == ExecutionStatus.COMPLETED, execution.error
    for account in (bybit, bingx):
        assert venue_sim.positions(account.exchange, account.api_key) == []
    venue_sim.set_next_funding("ETHUSDT", "bybit", in_seconds=30)
    assert executions_plan() == []
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ERROR and "only available in demo mode" in subscription.last_error
    assert Notice.objects.filter(user=user, subscription=subscription, message__contains=REFUSED).exists()

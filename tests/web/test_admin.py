"""The Django admin: every model's changelist and change view render for staff, records are read-only, secrets
are never shown, and the actions call the services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from arbitrage.models import (
    ExchangeAccount,
    Execution,
    ExecutionEvent,
    Installation,
    KillSwitch,
    MarketSnapshot,
    Notice,
    Order,
    Subscription,
    SubscriptionStatus,
)
from tests.web.conftest import assert_no_secrets

pytestmark = pytest.mark.django_db

MODELS = [
    ExchangeAccount,
    Subscription,
    Execution,
    Order,
    ExecutionEvent,
    Notice,
    KillSwitch,
    MarketSnapshot,
    Installation,
]
READ_ONLY = [Execution, Order, ExecutionEvent, MarketSnapshot]


@pytest.fixture
def admin_client_(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(root)
    return client


@pytest.fixture
def everything(market, execution, bob_objects, user):
    """One row of every model, for alice and bob."""
    from arbitrage.services.subscriptions import kill_switch_set

    kill_switch_set(user=user, engaged=False)
    Installation.current()
    Notice.objects.create(user=user, message="alice's notice", execution=execution)
    return execution


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_is_registered():
    """All nine models are in the admin."""
    for model in MODELS:
        assert admin.site.is_registered(model), model


@pytest.mark.parametrize("model", MODELS, ids=[m.__name__ for m in MODELS])
def test_changelist_and_change_view_render_without_secrets(admin_client_, everything, model):
    """Staff see everyone's rows; neither page contains a key or a secret."""
    changelist = admin_client_.get(_url(model, "changelist"))
    assert changelist.status_code == 200
    assert_no_secrets(changelist)
    obj = model.objects.order_by("pk").first()
    change = admin_client_.get(_url(model, "change", obj.pk))
    assert change.status_code == 200
    assert_no_secrets(change)


def test_staff_see_everybodys_subscriptions(admin_client_, everything, bob_objects):
    """The subscription changelist lists alice's and bob's rows."""
    response = admin_client_.get(_url(Subscription, "changelist"))
    assert response.context["cl"].result_count == 2


def test_changelist_search_and_filters_work(admin_client_, everything):
    """Search and filter parameters are accepted on every changelist."""
    assert admin_client_.get(_url(Subscription, "changelist") + "?q=BTC&status__exact=active").status_code == 200
    assert admin_client_.get(_url(Execution, "changelist") + "?q=ETH&status__exact=completed").status_code == 200
    assert admin_client_.get(_url(Order, "changelist") + "?q=bob&status__exact=filled").status_code == 200
    assert admin_client_.get(_url(MarketSnapshot, "changelist") + "?q=DOGE&venue__exact=bingx").status_code == 200


@pytest.mark.parametrize("model", READ_ONLY, ids=[m.__name__ for m in READ_ONLY])
def test_financial_records_are_read_only_even_for_superusers(admin_client_, everything, model):
    """No add, no change, no delete: the change view is a view, POSTs are refused."""
    obj = model.objects.order_by("pk").first()
    assert admin_client_.get(_url(model, "add")).status_code == 403
    assert admin_client_.get(_url(model, "delete", obj.pk)).status_code == 403
    assert admin_client_.post(_url(model, "change", obj.pk), {}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_execution_change_view_has_read_only_inlines(admin_client_, everything):
    """The execution page shows its orders and events, without editable inputs for them."""
    html = admin_client_.get(_url(Execution, "change", everything.pk)).content.decode()
    assert f"fa-{everything.pk}-po1" in html and "leverage_set" in html
    assert 'name="orders-0-client_order_id"' not in html


def test_account_admin_excludes_credentials(admin_client_, sim_accounts):
    """The account form never has key or secret fields; the masked hint is shown."""
    response = admin_client_.get(_url(ExchangeAccount, "change", sim_accounts[0].pk))
    html = response.content.decode()
    assert "api_secret" not in html and 'name="api_key"' not in html
    assert sim_accounts[0].api_key_hint in html


def _action(client, model, action: str, ids) -> object:
    return client.post(
        _url(model, "changelist"), {"action": action, "_selected_action": [str(i) for i in ids]}, follow=True
    )


def test_admin_pause_and_resume_actions(admin_client_, subscription):
    """The pause and resume actions call the services."""
    _action(admin_client_, Subscription, "pause", [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAUSED
    response = _action(admin_client_, Subscription, "resume", [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert "Resumed" in response.content.decode()


def test_admin_sync_leverage_action(admin_client_, subscription):
    """Sync leverage confirms on both venues and stamps the subscription."""
    response = _action(admin_client_, Subscription, "sync_leverage", [subscription.pk])
    assert "confirmed on both venues" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.leverage_synced_at is not None


def test_admin_sync_leverage_action_reports_failure(admin_client_, venue_sim, subscription):
    """A venue failure is reported as an error message, not a 500."""
    venue_sim.faults("bybit").fail_next("*", count=10, code=10001)
    response = _action(admin_client_, Subscription, "sync_leverage", [subscription.pk])
    assert response.status_code == 200
    assert "could not be set" in response.content.decode()


def test_admin_check_accounts_action(admin_client_, subscription):
    """The check runs account_check on both accounts of the subscription and reports each."""
    html = _action(admin_client_, Subscription, "check_accounts", [subscription.pk]).content.decode()
    assert html.count("Connected: clock offset") == 2
    subscription.primary_account.refresh_from_db()
    assert subscription.primary_account.last_check_ok is True


def test_admin_test_connection_action(admin_client_, sim_accounts):
    """Test connection on an account reports the result."""
    html = _action(admin_client_, ExchangeAccount, "test_connection", [sim_accounts[1].pk]).content.decode()
    assert "Connected: clock offset" in html
    assert_no_secrets(_action(admin_client_, ExchangeAccount, "test_connection", [sim_accounts[0].pk]))


def test_admin_notice_dismiss_and_kill_switch_actions(admin_client_, user, subscription):
    """Dismiss notices; engage and release a user's kill switch; halt everyone from the installation page."""
    from arbitrage.services.subscriptions import kill_switch_set

    notice = Notice.objects.create(user=user, message="x")
    _action(admin_client_, Notice, "dismiss", [notice.pk])
    notice.refresh_from_db()
    assert notice.dismissed
    kill_switch_set(user=user, engaged=False)
    row = KillSwitch.objects.get(user=user)
    _action(admin_client_, KillSwitch, "engage", [row.pk])
    row.refresh_from_db()
    assert row.engaged
    _action(admin_client_, KillSwitch, "release", [row.pk])
    row.refresh_from_db()
    assert not row.engaged
    installation = Installation.current()
    response = admin_client_.post(_url(Installation, "change", installation.pk), {"trading_halted": "on"})
    assert response.status_code == 302
    installation.refresh_from_db()
    assert installation.trading_halted and installation.trading_halted_changed_at is not None


def test_non_staff_cannot_open_the_admin(alice_client):
    """A normal user is sent to the admin login."""
    response = alice_client.get(_url(Subscription, "changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def _staff(django_user_model, username: str, codenames) -> object:
    from django.contrib.auth.models import Permission

    person = django_user_model.objects.create_user(username, password=f"{username}-password-1", is_staff=True)
    person.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return person


def _offered(client, model) -> set[str]:
    response = client.get(_url(model, "changelist"))
    form = response.context["action_form"]  # None when no action is available
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_view_only_staff_are_offered_no_action_and_operators_are(client, django_user_model, subscription):
    """'view' shows the rows; running the actions needs the operate permissions."""
    from django.contrib.auth.models import Permission

    views = list(Permission.objects.filter(codename__startswith="view_").values_list("codename", flat=True))
    client.force_login(_staff(django_user_model, "vera", views))
    assert _offered(client, Subscription) == set() and _offered(client, ExchangeAccount) == set()
    client.force_login(_staff(django_user_model, "otto", [*views, "operate_subscription", "operate_exchangeaccount"]))
    assert _offered(client, Subscription) == {"pause", "resume", "sync_leverage", "check_accounts"}
    assert _offered(client, ExchangeAccount) == {"test_connection"}
    _action(client, Subscription, "pause", [subscription.pk])
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAUSED

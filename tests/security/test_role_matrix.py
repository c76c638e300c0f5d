"""Who may do what: trader, view-only staff, operator staff and superuser against every admin action (taken from
the admin site's registry, so a new action fails here until it is classified), the halt switch, the admin's
add, change and delete pages, and every state-changing page of the app.

Roles: a trader is not staff; view-only staff hold every view permission; operators add the two operate
permissions, change_killswitch and change_notice (not change_installation); the superuser holds everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from arbitrage import urls as app_urls
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
from arbitrage.services.accounts import account_create
from arbitrage.services.audit import Actor, audit_record
from tests.web.conftest import add_legs, make_execution, subscribe

pytestmark = pytest.mark.django_db

ROLES = ("trader", "viewer", "operator", "superuser")
OPERATOR_PERMISSIONS = ("operate_exchangeaccount", "operate_subscription", "change_killswitch", "change_notice")
OPERATORS = {"operator", "superuser"}
SUPERUSER = {"superuser"}
NOBODY: set[str] = set()

# Every action of every registered admin, and the roles that may run it.
ACTIONS: dict[tuple[str, str], set[str]] = {
    ("arbitrage.exchangeaccount", "test_connection"): OPERATORS,
    ("arbitrage.subscription", "pause"): OPERATORS,
    ("arbitrage.subscription", "resume"): OPERATORS,
    ("arbitrage.subscription", "sync_leverage"): OPERATORS,
    ("arbitrage.subscription", "check_accounts"): OPERATORS,
    ("arbitrage.notice", "dismiss"): OPERATORS,
    ("arbitrage.killswitch", "engage"): OPERATORS,
    ("arbitrage.killswitch", "release"): OPERATORS,
    ("django_q.success", "resubmit_tasks"): SUPERUSER,
    ("django_q.failure", "resubmit_tasks"): SUPERUSER,
    **{
        (label, "delete_selected"): SUPERUSER
        for label in (
            "arbitrage.exchangeaccount",
            "arbitrage.subscription",
            "arbitrage.notice",
            "arbitrage.killswitch",
            "arbitrage.auditevent",
            "auth.user",
            "auth.group",
            "django_q.schedule",
            "django_q.ormq",
            "django_q.success",
            "django_q.failure",
            "axes.accessattempt",
            "axes.accesslog",
            "axes.accessfailurelog",
        )
    },  # fmt: skip
    # Financial records and the installation row: nobody deletes them, superusers included.
    **{
        (label, "delete_selected"): NOBODY
        for label in (
            "arbitrage.execution",
            "arbitrage.order",
            "arbitrage.executionevent",
            "arbitrage.marketsnapshot",
            "arbitrage.installation",
        )
    },  # fmt: skip
}


def registry_actions() -> dict[tuple[str, str], Callable]:
    return {
        (model._meta.label_lower, name): func
        for model, model_admin in admin.site._registry.items()
        for func, name, _ in model_admin._get_base_actions()
    }


def model_of(label: str):
    return next(model for model in admin.site._registry if model._meta.label_lower == label)


def changelist(label: str) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_changelist")


@pytest.fixture
def people(django_user_model) -> dict:
    views = Permission.objects.filter(codename__startswith="view_")
    operate = Permission.objects.filter(codename__in=OPERATOR_PERMISSIONS)
    trader = django_user_model.objects.create_user("tina", password="tina-password-1")
    viewer = django_user_model.objects.create_user("vera", password="vera-password-1", is_staff=True)
    viewer.user_permissions.set(views)
    operator = django_user_model.objects.create_user("otto", password="otto-password-1", is_staff=True)
    operator.user_permissions.set(views | operate)
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    return {"trader": trader, "viewer": viewer, "operator": operator, "superuser": root}


@dataclass
class World:
    """alice's rows, and one row of every other registered model."""

    user: object
    accounts: tuple[ExchangeAccount, ExchangeAccount]
    subscription: Subscription
    execution: Execution
    notice: Notice
    kill_switch: KillSwitch


@pytest.fixture
def world(user, venue_sim, sim_accounts, settings) -> World:
    settings.MARKET_DATA_ENVIRONMENT = "simulator"
    subscription = subscribe(user, *sim_accounts)
    execution = make_execution(subscription)
    add_legs(execution)
    MarketSnapshot.objects.create(
        venue="bybit", symbol="BTCUSDT", funding_rate=Decimal("0.0001"), next_funding_time=timezone.now(),
        interval_hours=8, mark_price=Decimal("65000"), refreshed_at=timezone.now(),
    )  # fmt: skip
    Installation.current()
    return World(
        user=user,
        accounts=sim_accounts,
        subscription=subscription,
        execution=execution,
        notice=Notice.objects.create(user=user, message="alice's notice"),
        kill_switch=KillSwitch.objects.create(user=user),
    )


def fresh_row(label: str, world: World):
    """A new row to delete (or to find still there) for ``delete_selected`` on ``label``."""
    tag = uuid.uuid4().hex[:10]
    now = timezone.now()
    makers = {
        "arbitrage.exchangeaccount": lambda: account_create(
            owner=world.user, exchange="bybit", label=f"spare {tag}", api_key=f"k{tag}", api_secret=f"s{tag}"
        ),
        "arbitrage.subscription": lambda: Subscription.objects.create(
            owner=world.user,
            symbol="ETHUSDT",
            primary_account=world.accounts[0],
            hedge_account=world.accounts[1],
            quantity=Decimal("0.1"),
            status=SubscriptionStatus.PAUSED,
        ),  # fmt: skip
        "arbitrage.notice": lambda: Notice.objects.create(user=world.user, message=tag),
        "arbitrage.killswitch": lambda: KillSwitch.objects.create(
            user=type(world.user).objects.create_user(f"ks{tag}", password="x-Pass-1234")
        ),
        "arbitrage.auditevent": lambda: audit_record(actor=Actor.SYSTEM, action="keys_rotated", detail=tag),
        "arbitrage.execution": lambda: world.execution,
        "arbitrage.order": lambda: Order.objects.filter(execution=world.execution).first(),
        "arbitrage.executionevent": lambda: ExecutionEvent.objects.filter(execution=world.execution).first(),
        "arbitrage.marketsnapshot": lambda: MarketSnapshot.objects.first(),
        "arbitrage.installation": Installation.current,
        "auth.user": lambda: type(world.user).objects.create_user(f"u{tag}", password="x-Pass-1234"),
        "auth.group": lambda: Group.objects.create(name=tag),
        "django_q.schedule": lambda: Schedule.objects.create(name=tag, func="math.floor"),
        "django_q.success": lambda: task(tag, success=True),
        "django_q.failure": lambda: task(tag, success=False),
        "django_q.ormq": lambda: OrmQ.objects.create(key="fundarb", payload=tag, lock=now),
        "axes.accessattempt": lambda: AccessAttempt.objects.create(
            username=tag,
            ip_address="10.0.0.9",
            user_agent="x",
            http_accept="x",
            path_info="/login/",
            get_data="",
            post_data="",
            failures_since_start=1,
        ),  # fmt: skip
        "axes.accesslog": lambda: AccessLog.objects.create(
            username=tag, ip_address="10.0.0.9", user_agent="x", http_accept="x", path_info="/login/"
        ),
        "axes.accessfailurelog": lambda: AccessFailureLog.objects.create(
            username=tag, ip_address="10.0.0.9", user_agent="x", http_accept="x", path_info="/login/"
        ),
    }
    return makers[label]()


def task(tag: str, *, success: bool) -> Task:
    now = timezone.now()
    return Task.objects.create(
        id=uuid.uuid4().hex, name=tag, func="math.floor", args=(1.5,), started=now, stopped=now, success=success
    )


@dataclass(frozen=True)
class Effect:
    """How to set an action's target up, and whether the action ran on it."""

    prepare: Callable[[World], object]  # returns the target
    done: Callable[[object], bool]


def _set(model, pk, **fields) -> None:
    model.objects.filter(pk=pk).update(**fields)


def _account_for_check(w: World):
    _set(ExchangeAccount, w.accounts[0].pk, last_checked_at=None)
    return w.accounts[0]


def _subscription(status: str, **fields):
    def prepare(w: World):
        _set(Subscription, w.subscription.pk, status=status, **fields)
        _set(ExchangeAccount, w.subscription.primary_account_id, last_checked_at=None)
        return w.subscription

    return prepare


def _switch(engaged: bool):
    def prepare(w: World):
        _set(KillSwitch, w.kill_switch.pk, engaged=engaged)
        return w.kill_switch

    return prepare


def _ormq_count() -> int:
    return OrmQ.objects.count()


def _resubmit(label: str) -> Effect:
    queued = {}

    def prepare(w: World):
        row = fresh_row(label, w)
        queued[row.pk] = _ormq_count()
        return row

    return Effect(prepare, lambda row: _ormq_count() > queued[row.pk])


EFFECTS: dict[tuple[str, str], Effect] = {
    ("arbitrage.exchangeaccount", "test_connection"): Effect(
        _account_for_check, lambda a: ExchangeAccount.objects.get(pk=a.pk).last_checked_at is not None
    ),
    ("arbitrage.subscription", "pause"): Effect(
        _subscription(SubscriptionStatus.ACTIVE), lambda s: Subscription.objects.get(pk=s.pk).status == "paused"
    ),
    ("arbitrage.subscription", "resume"): Effect(
        _subscription(SubscriptionStatus.PAUSED), lambda s: Subscription.objects.get(pk=s.pk).status == "active"
    ),
    ("arbitrage.subscription", "sync_leverage"): Effect(
        _subscription(SubscriptionStatus.ACTIVE, leverage_synced_at=None),
        lambda s: Subscription.objects.get(pk=s.pk).leverage_synced_at is not None,
    ),
    ("arbitrage.subscription", "check_accounts"): Effect(
        _subscription(SubscriptionStatus.ACTIVE),
        lambda s: ExchangeAccount.objects.get(pk=s.primary_account_id).last_checked_at is not None,
    ),
    ("arbitrage.notice", "dismiss"): Effect(
        lambda w: (_set(Notice, w.notice.pk, dismissed=False), w.notice)[1],
        lambda n: Notice.objects.get(pk=n.pk).dismissed,
    ),
    ("arbitrage.killswitch", "engage"): Effect(_switch(False), lambda k: KillSwitch.objects.get(pk=k.pk).engaged),
    ("arbitrage.killswitch", "release"): Effect(_switch(True), lambda k: not KillSwitch.objects.get(pk=k.pk).engaged),
    ("django_q.success", "resubmit_tasks"): _resubmit("django_q.success"),
    ("django_q.failure", "resubmit_tasks"): _resubmit("django_q.failure"),
}


def effect_of(label: str, name: str) -> Effect:
    if name == "delete_selected":
        return Effect(lambda w: fresh_row(label, w), lambda row: not type(row)._base_manager.filter(pk=row.pk).exists())
    return EFFECTS[(label, name)]


def offered(client, label: str) -> set[str]:
    response = client.get(changelist(label))
    if response.status_code != 200:
        return set()
    form = response.context["action_form"]  # None when no action is available
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def test_every_admin_action_is_classified_and_needs_a_permission_of_its_own():
    """The table covers the registry exactly, and no action runs on "view" alone (or on nothing)."""
    actions = registry_actions()
    assert set(actions) == set(ACTIONS), "classify new admin actions in ACTIONS (and their effect in EFFECTS)"
    for key, func in actions.items():
        permissions = set(getattr(func, "allowed_permissions", ()))
        assert permissions and permissions != {"view"}, f"{key} needs a permission of its own"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_offered_exactly_its_actions(client, people, world, role):
    """What the changelists offer each role, model by model."""
    client.force_login(people[role])
    for label in {label for label, _ in ACTIONS}:
        expected = {name for (model, name), roles in ACTIONS.items() if model == label and role in roles}
        assert offered(client, label) == expected, (role, label)


@pytest.mark.parametrize("role", ROLES)
def test_posting_every_action_runs_it_only_for_the_roles_allowed(client, people, world, role):
    """A POST of each action (even one the page does not offer) is performed for its roles and changes nothing
    for the others."""
    client.force_login(people[role])
    for (label, name), roles in ACTIONS.items():
        effect = effect_of(label, name)
        target = effect.prepare(world)
        client.post(changelist(label), {"action": name, "_selected_action": [str(target.pk)], "post": "yes"})
        assert effect.done(target) is (role in roles), (role, label, name)


# --- The halt switch, wherever it is offered --------------------------------------------------------------------

HALTERS = SUPERUSER


@pytest.mark.parametrize("role", [*ROLES, "halter"])
def test_the_halt_switch_needs_change_installation_on_the_dashboard_and_in_the_admin(
    client, people, world, role, django_user_model
):
    """Dashboard button and view, and the admin's Installation page: staff with change_installation only."""
    if role == "halter":
        person = django_user_model.objects.create_user("hal", password="hal-password-1", is_staff=True)
        person.user_permissions.set(
            Permission.objects.filter(codename__in=["view_installation", "change_installation"])
        )
    else:
        person = people[role]
    allowed = role in HALTERS or role == "halter"
    client.force_login(person)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert ("Halt all users" in dashboard) is allowed
    response = client.post(reverse("trading_halt"), {"engaged": "1"})
    assert (response.status_code == 302) is allowed and (response.status_code == 403) is not allowed
    assert Installation.current().trading_halted is allowed
    _set(Installation, Installation.current().pk, trading_halted=False)
    installation = Installation.current()
    client.post(reverse("admin:arbitrage_installation_change", args=[installation.pk]), {"trading_halted": "on"})
    assert Installation.current().trading_halted is allowed


# --- The admin's add, change and delete pages for the app's models ---------------------------------------------

APP_MODELS = [m for m in admin.site._registry if m._meta.app_label == "arbitrage"]
CHANGE = {"killswitch": OPERATORS, "notice": OPERATORS, "installation": SUPERUSER}
DELETE = {"exchangeaccount", "subscription", "notice", "killswitch", "auditevent"}


def _admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:arbitrage_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_pages_that_change_something_follow_the_roles(client, people, world, role):
    """Add: nobody. Change: the kill switch and notices for operators, the installation for the superuser only,
    everything else read-only for all. Delete: the superuser, and never the financial records."""
    client.force_login(people[role])
    for model in APP_MODELS:
        name = model._meta.model_name
        add = client.get(_admin_url(model, "add"))
        assert add.status_code in (302, 403), (role, name, "add")
        target = fresh_row(model._meta.label_lower, world)
        change = client.post(_admin_url(model, "change", target.pk), {"engaged": "on", "trading_halted": ""})
        assert (change.status_code == 302 and "login" not in change.get("Location", "")) is (
            role in CHANGE.get(name, NOBODY)
        ), (role, name, "change")
        client.post(_admin_url(model, "delete", target.pk), {"post": "yes"})
        gone = not model._base_manager.filter(pk=target.pk).exists()
        assert gone is (role == "superuser" and name in DELETE), (role, name, "delete")


# --- The app's own pages: owner-scoped, so no role has power over alice's objects there --------------------------

POST_BY_ID = {
    "notice_dismiss": "notice",
    "subscription_edit": "subscription",
    "subscription_pause": "subscription",
    "subscription_resume": "subscription",
    "subscription_delete": "subscription",
    "subscription_sync_leverage": "subscription",
    "account_edit": "account",
    "account_delete": "account",
    "account_check": "account",
}
POST_OWN = {"kill_switch", "trading_halt", "subscription_create", "account_create"}
READ_ONLY_PAGES = {
    "dashboard", "subscription_list", "account_list", "execution_list", "execution_detail", "funding_scanner",
    "activity_list",
}  # fmt: skip


def test_the_page_tables_cover_every_app_url():
    """A new page must be classified here."""
    assert {p.name for p in app_urls.urlpatterns} == set(POST_BY_ID) | POST_OWN | READ_ONLY_PAGES


def alices_state(world: World) -> tuple:
    subscription = Subscription.objects.get(pk=world.subscription.pk)
    account = ExchangeAccount.objects.get(pk=world.accounts[0].pk)
    return (
        subscription.status, subscription.leverage_synced_at, subscription.symbol, account.label,
        account.last_checked_at, Notice.objects.get(pk=world.notice.pk).dismissed,
        KillSwitch.objects.get(pk=world.kill_switch.pk).engaged,
        ExchangeAccount.objects.filter(owner=world.user).count(), Subscription.objects.filter(owner=world.user).count(),
    )  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_no_role_changes_alices_objects_through_the_pages(client, people, world, role):
    """Staff and superusers act on other users' objects only through the admin: on the pages alice's ids are a 404,
    and the requester's own switches and forms touch only the requester's rows."""
    client.force_login(people[role])
    targets = {"notice": world.notice, "subscription": world.subscription, "account": world.accounts[0]}
    before = alices_state(world)
    for name, kind in POST_BY_ID.items():
        response = client.post(reverse(name, args=[targets[kind].pk]), {"label": "taken", "symbol": "ETHUSDT"})
        assert response.status_code == 404, (role, name)
    client.post(reverse("kill_switch"), {"engaged": "1"})
    client.post(reverse("subscription_create"), {"primary_account": world.accounts[0].pk})
    client.post(reverse("account_create"), {"label": "x"})
    assert alices_state(world) == before

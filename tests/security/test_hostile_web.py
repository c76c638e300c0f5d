"""Hostile input on every page that takes input: a clear error on the named field, never a 500, nothing changed.

Extends the example tables in tests/web (test_subscriptions, test_accounts, test_isolation) with properties over
generated input. Format errors must be refused before any venue is called: the live-limit lookup is replaced by
one that fails the test, and the accounts point at an address where nothing listens.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from arbitrage.models import AccountEnvironment, Direction, Exchange, ExecutionStatus, Notice, Subscription
from arbitrage.services.accounts import account_create
from arbitrage.services.subscriptions import MAX_EDGE_BPS, MAX_QUANTITY, SubscriptionInput, subscription_create
from tests.security.conftest import PROPERTY, row_counts
from tests.security.strategies import (
    bad_credential,
    bad_decimal,
    bad_label,
    bad_symbol,
    bad_url,
    bad_whole,
    foreign_ids,
    not_a_choice,
)
from tests.web.conftest import make_execution

pytestmark = pytest.mark.django_db

KEY, SECRET = "HOSTILE-KEY-5b1e0c7d9a", "HOSTILE-SECRET-f00dfeed42"


def offline_account(owner, exchange: str, label: str):
    return account_create(
        owner=owner, exchange=exchange, label=label, api_key=f"{owner.username}-{exchange}-{KEY}",
        api_secret=f"{owner.username}-{exchange}-{SECRET}", environment="simulator",
    )  # fmt: skip


def offline_subscription(owner, primary, hedge) -> Subscription:
    data = SubscriptionInput(symbol="DOGEUSDT", primary_account=primary, hedge_account=hedge, quantity=Decimal(100))
    return subscription_create(owner=owner, data=data, check_live_limits=False)


@pytest.fixture
def no_venue_calls(monkeypatch):
    """Any live-limit lookup fails the test: hostile format input must be refused before a venue is asked."""

    def refuse(**kwargs):
        raise AssertionError("a venue was called for input the format layer should have refused")

    monkeypatch.setattr("arbitrage.services.subscriptions.symbol_limits", refuse)


@pytest.fixture
def alice_rows(user, no_venue_calls, simulator_nowhere) -> dict:
    bybit, bingx = offline_account(user, "bybit", "bybit main"), offline_account(user, "bingx", "bingx main")
    subscription = offline_subscription(user, bybit, bingx)
    execution = make_execution(subscription)
    notice = Notice.objects.create(user=user, message="alice's notice", execution=execution)
    return {"bybit": bybit, "bingx": bingx, "subscription": subscription, "execution": execution, "notice": notice}


@pytest.fixture
def bob_rows(other_user, simulator_nowhere) -> dict:
    bybit, bingx = offline_account(other_user, "bybit", "bob bybit"), offline_account(other_user, "bingx", "bob bingx")
    subscription = offline_subscription(other_user, bybit, bingx)
    execution = make_execution(subscription, symbol="BOBUSDT")
    notice = Notice.objects.create(user=other_user, message="bob's notice", execution=execution)
    return {"bybit": bybit, "bingx": bingx, "subscription": subscription, "execution": execution, "notice": notice}


def subscription_data(rows: dict, **overrides) -> dict:
    data = {
        "symbol": "DOGEUSDT",
        "primary_account": rows["bybit"].pk,
        "hedge_account": rows["bingx"].pk,
        "quantity": "100",
        "leverage": "5",
        "direction": "auto",
        "min_edge_bps": "0",
        "lead_seconds": "45",
        "close_delay_seconds": "60",
        "recurring": "recurring",
    }
    return {**data, **overrides}


def assert_field_refused(client, url: str, data: dict, field: str) -> None:
    """POST: the form comes back (200) with an error on ``field`` and no table gained or lost a row."""
    before = row_counts()
    response = client.post(url, data)
    assert response.status_code == 200, f"{field}={data[field]!r}: {response.status_code}"
    errors = response.context["form"].errors
    assert field in errors, f"{field}={data[field]!r} was not refused: {errors}"
    assert row_counts() == before
    html = response.content.decode()
    assert SECRET not in html and KEY not in html


WHOLE_FIELDS = {"leverage": (1, 200), "lead_seconds": (1, 600), "close_delay_seconds": (1, 600)}
DECIMAL_FIELDS = {
    "quantity": bad_decimal(Decimal(0), MAX_QUANTITY, low_inclusive=False, max_length=64),
    "min_edge_bps": bad_decimal(-MAX_EDGE_BPS, MAX_EDGE_BPS, low_inclusive=True, max_length=32),
}
SUBSCRIPTION_FIELD_VALUES = st.one_of(
    *(bad_whole(*limits).map(lambda value, name=name: (name, value)) for name, limits in WHOLE_FIELDS.items()),
    *(strategy.map(lambda value, name=name: (name, value)) for name, strategy in DECIMAL_FIELDS.items()),
    bad_symbol().map(lambda value: ("symbol", value)),
    not_a_choice(Direction.values).map(lambda value: ("direction", value)),
    not_a_choice(["recurring", "once"]).map(lambda value: ("recurring", value)),
)


@pytest.mark.parametrize("field", list(WHOLE_FIELDS))
def test_subscription_form_refuses_bad_whole_numbers(alice_client, alice_rows, field):
    """Leverage, lead and close delay: anything not a whole number in range (0, -1, 1.5, 10**9, abc, 1_0, ٣, NaN)
    is an error on that field before any venue call, and nothing is created."""
    url = reverse("subscription_create")

    @PROPERTY
    @given(value=bad_whole(*WHOLE_FIELDS[field]))
    def check(value: str) -> None:
        assert_field_refused(alice_client, url, subscription_data(alice_rows, **{field: value}), field)

    check()


@pytest.mark.parametrize("field", list(DECIMAL_FIELDS))
def test_subscription_form_refuses_bad_decimals(alice_client, alice_rows, field):
    """Quantity and minimum edge: 0, negative, NaN, infinity, 1e30, text: an error on that field, nothing created."""
    url = reverse("subscription_create")

    @PROPERTY
    @given(value=DECIMAL_FIELDS[field])
    def check(value: str) -> None:
        assert_field_refused(alice_client, url, subscription_data(alice_rows, **{field: value}), field)

    check()


@PROPERTY
@given(symbol=bad_symbol())
def test_subscription_form_refuses_malformed_symbols(alice_client, alice_rows, symbol):
    """Symbols with spaces, unicode, SQL, markup or control characters are refused on the symbol field, offline."""
    assert_field_refused(
        alice_client, reverse("subscription_create"), subscription_data(alice_rows, symbol=symbol), "symbol"
    )


@PROPERTY
@given(data=st.data())
def test_subscription_form_refuses_other_users_and_unknown_account_ids(alice_client, alice_rows, bob_rows, data):
    """Another user's account id, a missing id or a huge id in an account field is "not a valid choice"."""
    own = {alice_rows["bybit"].pk, alice_rows["bingx"].pk}
    field = data.draw(st.sampled_from(["primary_account", "hedge_account"]))
    value = data.draw(
        st.one_of(foreign_ids([bob_rows["bybit"].pk, bob_rows["bingx"].pk], own).map(str), st.text(max_size=12))
    )
    if value.strip() in {str(pk) for pk in own}:
        return  # one of alice's own ids written with spaces: a valid choice, not hostile input
    assert_field_refused(
        alice_client, reverse("subscription_create"), subscription_data(alice_rows, **{field: value}), field
    )


@PROPERTY
@given(field_value=SUBSCRIPTION_FIELD_VALUES)
def test_subscription_edit_refuses_hostile_input_and_keeps_the_row(alice_client, alice_rows, field_value):
    """Editing with any hostile field value leaves the stored subscription exactly as it was."""
    field, value = field_value
    subscription = alice_rows["subscription"]
    stored = Subscription.objects.filter(pk=subscription.pk).values().get()
    url = reverse("subscription_edit", args=[subscription.pk])
    assert_field_refused(alice_client, url, subscription_data(alice_rows, **{field: value}), field)
    assert Subscription.objects.filter(pk=subscription.pk).values().get() == stored


GOOD_ACCOUNT = {
    "exchange": "bybit",
    "label": "Bybit new",
    "environment": "testnet",
    "base_url": "",
    "api_key": KEY,
    "api_secret": SECRET,
}
ACCOUNT_FIELD_VALUES = st.one_of(
    bad_label().map(lambda value: ("label", value)),
    bad_credential().map(lambda value: ("api_key", value)),
    bad_credential().map(lambda value: ("api_secret", value)),
    bad_url().map(lambda value: ("base_url", value)),
    not_a_choice(AccountEnvironment.values).map(lambda value: ("environment", value)),
    not_a_choice(Exchange.values).map(lambda value: ("exchange", value)),
)


@PROPERTY
@given(field_value=ACCOUNT_FIELD_VALUES)
def test_account_create_refuses_hostile_input(alice_client, alice_rows, field_value):
    """Label, key, secret, base URL, environment, exchange: a hostile value is an error on that field, no account
    is created, and the key and secret typed into the form are not echoed back."""
    field, value = field_value
    assert_field_refused(alice_client, reverse("account_create"), {**GOOD_ACCOUNT, field: value}, field)


def raw_account(pk: int) -> tuple:
    # Raw columns: proves the stored ciphertext itself is untouched, not only what it decrypts to.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT label, environment, base_url, api_key, api_secret FROM arbitrage_exchangeaccount WHERE id = %s",
            [pk],
        )
        return cursor.fetchone()


@PROPERTY
@given(field_value=ACCOUNT_FIELD_VALUES.filter(lambda fv: fv[0] != "exchange"))
def test_account_edit_refuses_hostile_input_and_keeps_the_row(alice_client, alice_rows, field_value):
    """Editing an account with a hostile value changes neither its fields nor its stored ciphertext."""
    field, value = field_value
    if field in {"api_key", "api_secret"} and not value:
        return  # blank credentials on edit mean "keep the stored ones": valid input
    account = alice_rows["bybit"]
    stored = raw_account(account.pk)
    data = {"label": account.label, "environment": account.environment, "base_url": account.base_url, field: value}
    assert_field_refused(alice_client, reverse("account_edit", args=[account.pk]), data, field)
    assert raw_account(account.pk) == stored


PK_ROUTES = [
    ("account_edit", "bybit", "GET"),
    ("account_edit", "bybit", "POST"),
    ("account_delete", "bybit", "GET"),
    ("account_delete", "bybit", "POST"),
    ("account_check", "bybit", "POST"),
    ("subscription_edit", "subscription", "GET"),
    ("subscription_edit", "subscription", "POST"),
    ("subscription_delete", "subscription", "POST"),
    ("subscription_pause", "subscription", "POST"),
    ("subscription_resume", "subscription", "POST"),
    ("subscription_sync_leverage", "subscription", "POST"),
    ("execution_detail", "execution", "GET"),
    ("notice_dismiss", "notice", "POST"),
]


@PROPERTY
@given(route=st.sampled_from(PK_ROUTES), data=st.data())
def test_foreign_or_unknown_ids_in_urls_are_404_and_change_nothing(alice_client, alice_rows, bob_rows, route, data):
    """Any id in a URL that is not one of alice's objects (bob's, missing, beyond 64 bits) is a 404; no row changes
    and no venue is called (bob's account would be checked, bob's subscription synced)."""
    name, kind, method = route
    own = {alice_rows[kind].pk}
    pk = data.draw(foreign_ids([bob_rows[kind].pk], own))
    before = row_counts()
    bob_subscription = Subscription.objects.filter(pk=bob_rows["subscription"].pk).values().get()
    url = reverse(name, args=[pk])
    response = alice_client.get(url) if method == "GET" else alice_client.post(url, subscription_data(alice_rows))
    assert response.status_code == 404, f"{method} {url}: {response.status_code}"
    assert row_counts() == before
    assert Subscription.objects.filter(pk=bob_rows["subscription"].pk).values().get() == bob_subscription
    assert not Notice.objects.get(pk=bob_rows["notice"].pk).dismissed


FILTER_VALUES = st.one_of(st.text(max_size=40), st.integers().map(str), st.sampled_from(["", "0", "-1", "9" * 30]))


@PROPERTY
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "status": st.one_of(FILTER_VALUES, st.sampled_from(ExecutionStatus.values)),
            "subscription": FILTER_VALUES,
            "symbol": st.one_of(FILTER_VALUES, st.sampled_from(["BOBUSDT", "' OR 1=1 --", "%", "_"])),
            "date_from": st.one_of(FILTER_VALUES, st.dates().map(str), st.sampled_from(["0000-00-00", "9999-12-31"])),
            "date_to": st.one_of(FILTER_VALUES, st.dates().map(str)),
            "page": FILTER_VALUES,
        },
    )
)
def test_execution_list_filters_never_fail_nor_show_other_users_rows(alice_client, alice_rows, bob_rows, params):
    """Any filter values (text, SQL, huge numbers, impossible dates, bob's subscription id) render the list (200):
    invalid filters are reported and ignored, and bob's execution never appears."""
    before = row_counts()
    response = alice_client.get(reverse("execution_list"), params)
    assert response.status_code == 200, params
    listed = {execution.pk for execution in response.context["page"].object_list}
    assert bob_rows["execution"].pk not in listed
    assert row_counts() == before


@PROPERTY
@given(data=st.data())
def test_execution_filter_with_another_users_subscription_is_an_error(alice_client, alice_rows, bob_rows, data):
    """bob's subscription id as a filter is "not a valid choice", and the list shows none of bob's executions."""
    params = {"subscription": str(bob_rows["subscription"].pk)}
    params["status"] = data.draw(st.sampled_from(["", *ExecutionStatus.values]))
    response = alice_client.get(reverse("execution_list"), params)
    assert response.status_code == 200
    assert "subscription" in response.context["form"].errors
    assert bob_rows["execution"].pk not in {e.pk for e in response.context["page"].object_list}


@PROPERTY
@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "sort": st.one_of(st.text(max_size=30), st.sampled_from(["__class__", "spread", "-symbol"])),
            "dir": st.text(max_size=10),
        },
    )  # fmt: skip
)
def test_scanner_sort_params_never_fail(alice_client, alice_rows, params):
    """Unknown sort columns and directions are ignored: the scanner renders (200) and nothing changes."""
    before = row_counts()
    response = alice_client.get(reverse("funding_scanner"), params)
    assert response.status_code == 200, params
    assert response.context["sort"] in {"spread", "symbol", "bybit", "bingx", "next"}
    assert row_counts() == before


@PROPERTY
@given(
    name=st.sampled_from(["kill_switch", "trading_halt"]),
    value=st.text(max_size=10).filter(lambda v: v not in {"0", "1"}),
)
def test_kill_switch_values_other_than_0_and_1_change_nothing(root_client, alice_rows, name, value):
    """engaged must be exactly 0 or 1: anything else is a flash error and neither switch moves."""
    from arbitrage.models import Installation, KillSwitch

    Installation.current()  # the singleton exists before counting, as in any running installation
    before = (
        row_counts(),
        list(KillSwitch.objects.values_list("engaged", flat=True)),
        Installation.current().trading_halted,
    )
    response = root_client.post(reverse(name), {"engaged": value}, follow=True)
    assert response.status_code == 200
    assert "send engaged=1 or engaged=0" in response.content.decode()
    after = (
        row_counts(),
        list(KillSwitch.objects.values_list("engaged", flat=True)),
        Installation.current().trading_halted,
    )
    assert after == before

"""Hostile arguments to every operator command: one CommandError line, nothing changed, no venue called.

Extends tests/commands (whose properties cover subscribe's --leverage, --quantity, --symbol and --lead-seconds) to
every other argument: add_account, check_account, subscribe's remaining flags and account references,
sync_leverage, executions, funding_rates and rotate_encryption_keys.
"""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from arbitrage.management.commands.executions import MAX_LIMIT
from arbitrage.management.commands.sync_leverage import MAX_LEVERAGE
from arbitrage.models import AccountEnvironment, Exchange, ExecutionStatus
from arbitrage.services.accounts import MAX_CREDENTIAL
from arbitrage.services.subscriptions import MAX_EDGE_BPS
from tests.commands.conftest import one_line, run
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
from tests.security.test_hostile_web import SECRET, offline_account, offline_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_venue_calls(monkeypatch):
    """Every path from these commands to a venue fails the test instead."""

    def refuse(*args, **kwargs):
        raise AssertionError("a venue was called for input the command should have refused")

    for target in (
        "arbitrage.services.subscriptions.symbol_limits",
        "arbitrage.management.commands.sync_leverage.leverage_sync",
        "arbitrage.management.commands.check_account.account_check",
        "arbitrage.management.commands.funding_rates.funding_info_both",
    ):
        monkeypatch.setattr(target, refuse)


@pytest.fixture
def rows(user, other_user, no_venue_calls, simulator_nowhere) -> dict:
    """alice's and bob's accounts and subscriptions, offline."""
    alice = offline_account(user, "bybit", "bybit main"), offline_account(user, "bingx", "bingx main")
    bob = offline_account(other_user, "bybit", "bob bybit"), offline_account(other_user, "bingx", "bob bingx")
    return {
        "alice_accounts": alice,
        "bob_accounts": bob,
        "alice_subscription": offline_subscription(user, *alice),
        "bob_subscription": offline_subscription(other_user, *bob),
    }


def assert_refused(monkeypatch, name: str, *args: str, stdin: str | None = None) -> str:
    """The command raises one CommandError line; no table gained or lost a row. Returns the message."""
    before = row_counts()
    with pytest.raises(CommandError) as caught:
        run(name, *args, stdin=stdin, monkeypatch=monkeypatch)
    message = str(caught.value)
    assert one_line(message), message
    assert row_counts() == before
    return message


USERNAMES = st.one_of(
    st.sampled_from(["", " ", "alice\x00", "ALICE", "alice'--", "root", "a" * 200]), st.text(max_size=30)
).filter(lambda name: name.strip() not in {"alice", "bob"})

ADD_ACCOUNT_BASE = {
    "--user": "alice",
    "--exchange": "bybit",
    "--label": "new one",
    "--api-key": "ADDKEY1234567890",
    "--environment": "testnet",
    "--base-url": "",
}
ADD_ACCOUNT_VALUES = st.one_of(
    USERNAMES.map(lambda value: ("--user", value)),
    not_a_choice(Exchange.values).map(lambda value: ("--exchange", value)),
    bad_label().map(lambda value: ("--label", value)),
    bad_credential(MAX_CREDENTIAL).map(lambda value: ("--api-key", value)),
    not_a_choice(AccountEnvironment.values).map(lambda value: ("--environment", value)),
    bad_url().filter(lambda url: url.strip()).map(lambda value: ("--base-url", value)),
    bad_credential(MAX_CREDENTIAL)
    .filter(lambda s: "\n" not in s and "\r" not in s)
    .map(lambda value: ("stdin", value)),
)


@PROPERTY
@given(flag_value=ADD_ACCOUNT_VALUES)
def test_add_account_refuses_every_hostile_argument(monkeypatch, rows, flag_value):
    """--user, --exchange, --label, --api-key, --environment, --base-url and the secret on stdin: a hostile value is
    one error line, no account is created, and the secret never appears in the message."""
    flag, value = flag_value
    arguments = {**ADD_ACCOUNT_BASE, **({flag: value} if flag != "stdin" else {})}
    stdin = f"{value}\n" if flag == "stdin" else f"{SECRET}\n"
    message = assert_refused(monkeypatch, "add_account", *(f"{k}={v}" for k, v in arguments.items()), stdin=stdin)
    assert SECRET not in message


@PROPERTY
@given(data=st.data())
def test_check_account_refuses_foreign_and_malformed_references(monkeypatch, rows, data):
    """ACCOUNT as bob's id or label (with --user alice), a missing id, or junk: one line, no venue call."""
    bob_bybit, bob_bingx = rows["bob_accounts"]
    own = {a.pk for a in rows["alice_accounts"]}
    own_labels = {a.label for a in rows["alice_accounts"]}
    reference = data.draw(
        st.one_of(
            foreign_ids([bob_bybit.pk, bob_bingx.pk], own).map(str),
            st.sampled_from([bob_bybit.label, bob_bingx.label, "", " ", "1; DROP TABLE x", "\x00"]),
            st.text(max_size=30),
        ).filter(lambda ref: ref.strip() not in own_labels | {str(pk) for pk in own})
    )
    assert_refused(monkeypatch, "check_account", "--user=alice", "--", reference)


SUBSCRIBE_BASE = {
    "--user": "alice",
    "--symbol": "DOGEUSDT",
    "--primary": "bybit main",
    "--hedge": "bingx main",
    "--quantity": "100",
}


@PROPERTY
@given(data=st.data())
def test_subscribe_refuses_hostile_edge_close_delay_accounts_and_users(monkeypatch, rows, data):
    """--min-edge-bps, --close-after-seconds, --primary/--hedge naming bob's accounts (by id or label) or nothing,
    and --user naming nobody: one line, nothing created, no venue call."""
    bob_ids = [a.pk for a in rows["bob_accounts"]]
    own = {a.pk for a in rows["alice_accounts"]}
    own_refs = {a.label for a in rows["alice_accounts"]} | {str(pk) for pk in own}
    foreign_refs = st.one_of(
        foreign_ids(bob_ids, own).map(str),
        st.sampled_from([a.label for a in rows["bob_accounts"]]),
        st.text(max_size=30),
    ).filter(lambda ref: ref.strip() not in own_refs)
    flag, value = data.draw(
        st.one_of(
            bad_decimal(-MAX_EDGE_BPS, MAX_EDGE_BPS, low_inclusive=True, max_length=40).map(
                lambda v: ("--min-edge-bps", v)
            ),
            bad_whole(1, 600).map(lambda v: ("--close-after-seconds", v)),
            foreign_refs.map(lambda v: ("--primary", v)),
            foreign_refs.map(lambda v: ("--hedge", v)),
            USERNAMES.map(lambda v: ("--user", v)),
        )
    )
    assert_refused(monkeypatch, "subscribe", *(f"{k}={v}" for k, v in {**SUBSCRIBE_BASE, flag: value}.items()))


@PROPERTY
@given(data=st.data())
def test_sync_leverage_refuses_foreign_subscriptions_and_bad_leverage(monkeypatch, rows, data):
    """SUBSCRIPTION as bob's id (with --user alice), a missing, huge or malformed id, or a --leverage that is not a
    whole number from 1 to 200: one line, no venue call, nothing saved."""
    own = rows["alice_subscription"].pk
    bad_id = st.one_of(
        foreign_ids([rows["bob_subscription"].pk], {own}).map(str),
        st.sampled_from(["0", "-1", "1.5", "abc", "٣", " ", "1e3"]),
        st.text(max_size=20),
    ).filter(lambda text: text.strip() != str(own))
    case = data.draw(st.sampled_from(["subscription", "leverage"]))
    if case == "subscription":
        subscription, leverage = data.draw(bad_id), "5"
    else:
        subscription, leverage = str(own), data.draw(bad_whole(1, 200))
    assert_refused(monkeypatch, "sync_leverage", "--user=alice", f"--leverage={leverage}", "--", subscription)


@PROPERTY
@given(data=st.data())
def test_executions_refuses_hostile_filters(monkeypatch, rows, data):
    """--subscription (bob's with --user alice, or malformed), --status, --limit and --user: one line, no output."""
    own = rows["alice_subscription"].pk
    flag, value = data.draw(
        st.one_of(
            foreign_ids([rows["bob_subscription"].pk], {own}).map(lambda v: ("--subscription", str(v))),
            st.text(max_size=20).filter(lambda t: t.strip() != str(own)).map(lambda v: ("--subscription", v)),
            not_a_choice(ExecutionStatus.values)
            .filter(lambda t: t.strip().lower() not in ExecutionStatus.values)
            .map(lambda v: ("--status", v)),
            bad_whole(1, MAX_LIMIT).map(lambda v: ("--limit", v)),
            USERNAMES.map(lambda v: ("--user", v)),
        )
    )
    arguments = {"--user": "alice", flag: value}
    assert_refused(monkeypatch, "executions", *(f"{k}={v}" for k, v in arguments.items()))


@PROPERTY
@given(symbols=st.lists(bad_symbol(), min_size=1, max_size=3), good=st.booleans())
def test_funding_rates_refuses_malformed_symbols_before_any_call(monkeypatch, rows, symbols, good):
    """Any malformed symbol among the arguments (beside a good one or not) is refused before a venue is asked."""
    arguments = ["BTCUSDT", *symbols] if good else symbols
    assert_refused(monkeypatch, "funding_rates", "--", *arguments)


def test_rotate_encryption_keys_refuses_arguments(monkeypatch, rows):
    """The rotation takes no arguments: a stray one is one error line and nothing is re-encrypted."""
    assert "unrecognized arguments" in assert_refused(monkeypatch, "rotate_encryption_keys", "--all")


def test_the_hostile_tables_use_the_limits_of_the_code():
    """The hard-coded ranges above (1-200 leverage, 1-600 s close delay) are the code's own."""
    from arbitrage.models import MAX_CLOSE_DELAY_SECONDS

    assert (MAX_LEVERAGE, MAX_CLOSE_DELAY_SECONDS) == (200, 600)

"""check_account: the connection check printed, exit 1 (CommandError) when it fails."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from arbitrage.models import ExchangeAccount
from arbitrage.services.accounts import account_create
from tests.commands.conftest import one_line
from tests.conftest import make_sim_account

pytestmark = pytest.mark.django_db


def test_check_account_by_label_prints_every_measurement(sim_accounts, cli):
    """A good key: clock offset, position mode, margin and permissions printed; nothing on stderr."""
    bybit, _ = sim_accounts
    ran = cli("check_account", "bybit main", "--user", "alice")
    assert ran.stdout.splitlines()[0] == f"account #{bybit.pk} bybit main (Bybit, simulator)"
    assert "result: ok" in ran.stdout
    for expected in ("clock offset: ", "position mode: one-way", "available margin: 10000.00", "trade perpetuals yes"):
        assert expected in ran.stdout
    assert ran.stderr == ""
    bybit.refresh_from_db()
    assert bybit.last_check_ok is True


def test_check_account_by_id_without_user(sim_accounts, cli):
    """An id needs no --user: operators act on objects by id."""
    _, bingx = sim_accounts
    ran = cli("check_account", str(bingx.pk))
    assert f"account #{bingx.pk} bingx main (BingX, simulator)" in ran.stdout
    assert "result: ok" in ran.stdout


def test_check_account_wrong_secret_fails_with_one_line(venue_sim, user, cli):
    """A key the venue refuses: the report says FAILED on stdout and the reason is one CommandError line."""
    venue_sim.add_account("bybit", "real-key", "real-secret")
    account = account_create(
        owner=user, exchange="bybit", label="bad", api_key="real-key", api_secret="wrong-secret",
        environment="simulator", base_url=venue_sim.base_url,
    )  # fmt: skip
    with pytest.raises(CommandError) as caught:
        cli("check_account", "bad", "--user", "alice")
    assert one_line(caught.value)
    assert f"check of account #{account.pk} failed: Bybit" in str(caught.value)
    account.refresh_from_db()
    assert account.last_check_ok is False


def test_check_account_key_that_can_withdraw_fails(venue_sim, user, cli):
    """A key with withdrawal rights fails the check and the warning is printed."""
    account = make_sim_account(venue_sim, user, "bingx")
    venue_sim.set_permissions("bingx", account.api_key, can_trade=True, can_withdraw=True)
    with pytest.raises(CommandError, match="WITHDRAW"):
        cli("check_account", str(account.pk))


def test_check_account_ambiguous_label_needs_user(venue_sim, user, other_user, cli):
    """Two users' 'bybit main': the label alone is refused, --user picks one."""
    make_sim_account(venue_sim, user, "bybit")
    bobs = make_sim_account(venue_sim, other_user, "bybit")
    with pytest.raises(CommandError, match="add --user") as caught:
        cli("check_account", "bybit main")
    assert one_line(caught.value)
    assert f"account #{bobs.pk}" in cli("check_account", "bybit main", "--user", "bob").stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("no such label",), "no account with id or label 'no such label'"),
        (("999999",), "no account with id or label '999999'"),
        (("bybit main", "--user", "ghost"), "no user named 'ghost'"),
        (("",), "empty"),
        (("x\ny",), "control characters"),
        ((), "the following arguments are required: ACCOUNT"),
    ],
)
def test_check_account_lookup_mistakes(sim_accounts, cli, args, expected):
    """Unknown labels, ids and users are one CommandError line."""
    with pytest.raises(CommandError) as caught:
        cli("check_account", *args)
    assert expected in str(caught.value)
    assert one_line(caught.value)


def test_check_account_refuses_another_users_account(sim_accounts, other_user, cli):
    """With --user bob, alice's account (by id or label) is not found."""
    bybit, _ = sim_accounts
    for ref in (str(bybit.pk), "bybit main"):
        with pytest.raises(CommandError, match="no account of user 'bob'"):
            cli("check_account", ref, "--user", "bob")
    assert ExchangeAccount.objects.get(pk=bybit.pk).last_checked_at is None

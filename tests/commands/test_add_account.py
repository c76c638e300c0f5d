"""add_account: the secret comes from stdin, the id alone goes to stdout, mistakes are one line."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from arbitrage.models import ExchangeAccount
from tests.commands.conftest import one_line

pytestmark = pytest.mark.django_db

BASE = ("--user", "alice", "--exchange", "bybit", "--label", "main", "--api-key", "key-123")


def test_add_account_prints_only_the_new_id(user, cli):
    """stdout is the new account's id and nothing else; the secret is stored from stdin's first line."""
    ran = cli("add_account", *BASE, "--environment", "testnet", stdin="s3cret-value\nsecond line ignored\n")
    account = ExchangeAccount.objects.get()
    assert ran.stdout == f"{account.pk}\n"
    assert account.owner == user
    assert (account.exchange, account.label, account.environment) == ("bybit", "main", "testnet")
    assert (account.api_key, account.api_secret) == ("key-123", "s3cret-value")


def test_add_account_strips_windows_line_ending_from_secret(user, cli):
    """A CRLF-terminated secret line is stored without the CR."""
    cli("add_account", *BASE, stdin="abc\r\n")
    assert ExchangeAccount.objects.get().api_secret == "abc"


def test_add_account_defaults_to_mainnet_and_keeps_base_url(user, cli):
    """Without --environment the account is mainnet; a --base-url on one of the venue's own hosts is stored."""
    cli("add_account", *BASE, "--base-url", "https://api.bytick.com", stdin="abc\n")
    account = ExchangeAccount.objects.get()
    assert (account.environment, account.base_url) == ("mainnet", "https://api.bytick.com")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8100",
        "http://169.254.169.254/latest/meta-data",
        "https://internal.example",
        "http://api.bybit.com",
    ],
)
def test_add_account_refuses_base_urls_off_the_venue(user, cli, url):
    """A mainnet account's base URL may not aim signed requests at this machine, a metadata service, another host,
    or the venue without TLS: one clear line, nothing stored."""
    with pytest.raises(CommandError, match="API hosts"):
        cli("add_account", *BASE, "--base-url", url, stdin="abc\n")
    assert not ExchangeAccount.objects.exists()


SIM = ("--user", "alice", "--exchange", "bybit", "--api-key", "k", "--environment", "simulator")


def test_simulator_accounts_exist_only_in_demo_mode(user, cli, settings):
    """With DEMO_SIMULATOR off the simulator environment is refused, with or without a base URL."""
    settings.DEMO_SIMULATOR = False
    for extra in ((), ("--base-url", settings.SIMULATOR_URL)):
        with pytest.raises(CommandError, match=r"--environment: .*only available in demo mode \(DEMO_SIMULATOR\)"):
            cli("add_account", *SIM, "--label", "one", *extra, stdin="a\n")
    assert not ExchangeAccount.objects.exists()


def test_simulator_accounts_use_only_the_demos_simulator(user, cli, settings):
    """In demo mode a simulator account talks to SIMULATOR_URL: its origin is accepted (and stored as no URL of its
    own); another port, host or path of this machine is refused."""
    settings.DEMO_SIMULATOR, settings.SIMULATOR_URL = True, "http://127.0.0.1:8100"
    cli("add_account", *SIM, "--label", "one", "--base-url", "http://127.0.0.1:8100/", stdin="a\n")
    for url in ("http://127.0.0.1:8101", "http://localhost:8100", "http://127.0.0.1:8100/v5", "http://10.0.0.5:8100"):
        with pytest.raises(CommandError, match="--base-url: A simulator account uses the demo's simulator"):
            cli("add_account", *SIM, "--label", "two", "--base-url", url, stdin="a\n")
    assert list(ExchangeAccount.objects.values_list("label", "base_url")) == [("one", "")]


def test_operator_allowed_proxy_host_is_accepted(user, cli, settings):
    """A host in VENUE_ALLOWED_HOSTS (an egress proxy) may serve any environment."""
    settings.VENUE_ALLOWED_HOSTS = ["proxy.internal"]
    cli("add_account", *BASE, "--base-url", "http://proxy.internal:3128", stdin="abc\n")
    assert ExchangeAccount.objects.get().base_url == "http://proxy.internal:3128"


def test_add_account_secret_never_in_output(user, cli):
    """Neither stdout nor stderr repeats the secret."""
    ran = cli("add_account", *BASE, stdin="very-secret-value\n")
    assert "very-secret-value" not in ran.stdout + ran.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (BASE, "", "secret is empty"),
        (BASE, "\n", "secret is empty"),
        (BASE, "   \nreal-secret\n", "secret is empty"),
        (("--user", "nobody", *BASE[2:]), "abc\n", "no user named 'nobody'"),
        (("--user", "al\x00ice", *BASE[2:]), "abc\n", "control characters"),
        ((*BASE, "--exchange", "kraken"), "abc\n", "invalid choice"),
        ((*BASE, "--environment", "moon"), "abc\n", "invalid choice"),
        ((*BASE[:4], "--label", "", *BASE[6:]), "abc\n", "--label: Required."),
        ((*BASE[:6], "--api-key", "has space"), "abc\n", "--api-key"),
        (BASE, "sec ret\n", "API secret (standard input)"),
        ((*BASE, "--base-url", "ftp://x"), "abc\n", "--base-url"),
        (("--user", "alice", "--exchange", "bingx", *BASE[4:], "--environment", "testnet"), "abc\n", "no testnet"),
        (BASE[:-2], "abc\n", "--api-key"),
    ],
)
def test_add_account_rejects_mistakes_with_one_line(user, cli, args, stdin, expected):
    """Each mistake is one CommandError line naming the problem, and no account is created."""
    with pytest.raises(CommandError) as caught:
        cli("add_account", *args, stdin=stdin)
    assert expected in str(caught.value)
    assert one_line(caught.value)
    assert not ExchangeAccount.objects.exists()


def test_add_account_label_unique_per_user(user, other_user, cli):
    """A second 'main' for alice is refused; bob may have his own 'main'."""
    cli("add_account", *BASE, stdin="abc\n")
    with pytest.raises(CommandError, match="--label: You already have an account labelled 'main'"):
        cli("add_account", *BASE, stdin="abc\n")
    cli("add_account", "--user", "bob", *BASE[2:-1], "key-456", stdin="abc\n")
    assert ExchangeAccount.objects.filter(label="main").count() == 2


def test_add_account_refuses_a_key_already_registered(user, other_user, cli):
    """One venue account takes part once, whoever registers it: the same key again is refused, naming the key
    and why (two rows would net each other's positions); nothing is stored."""
    cli("add_account", *BASE, stdin="abc\n")
    with pytest.raises(CommandError, match="--api-key: This API key is already registered in fundarb for Bybit"):
        cli("add_account", "--user", "bob", *BASE[2:4], "--label", "mine", *BASE[-2:], stdin="abc\n")
    assert ExchangeAccount.objects.count() == 1


def test_add_account_refuses_inactive_user(user, cli):
    """A deactivated user cannot be given new accounts."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="inactive"):
        cli("add_account", *BASE, stdin="abc\n")


def test_add_account_has_no_secret_argument(user, cli):
    """There is no flag for the secret (it would show in the process list and shell history)."""
    with pytest.raises(CommandError, match="unrecognized arguments"):
        cli("add_account", *BASE, "--api-secret", "abc", stdin="abc\n")

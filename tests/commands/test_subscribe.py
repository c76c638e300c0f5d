"""subscribe: validated like the form (live limits), id alone on stdout, every mistake one line and nothing saved."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pytest
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbitrage.models import Subscription
from arbitrage.services.accounts import account_create
from arbitrage.services.timing import pair_timing
from tests.commands.conftest import one_line

pytestmark = pytest.mark.django_db

BASE = ("--user", "alice", "--symbol", "DOGEUSDT", "--primary", "bybit main", "--hedge", "bingx main")


def test_subscribe_prints_only_the_new_id(sim_accounts, cli):
    """A valid subscription: stdout is its id; every flag is stored."""
    bybit, bingx = sim_accounts
    ran = cli(
        "subscribe", *BASE, "--quantity", "100", "--leverage", "5", "--direction", "short", "--min-edge-bps", "1.5",
        "--lead-seconds", "50", "--close-after-seconds", "70", "--once",
    )  # fmt: skip
    subscription = Subscription.objects.get()
    assert ran.stdout == f"{subscription.pk}\n"
    assert (subscription.primary_account, subscription.hedge_account) == (bybit, bingx)
    assert (subscription.symbol, subscription.quantity, subscription.leverage) == ("DOGEUSDT", Decimal(100), 5)
    assert (subscription.direction, subscription.min_edge_bps) == ("short", Decimal("1.5"))
    assert (subscription.lead_seconds, subscription.close_delay_seconds, subscription.recurring) == (50, 70, False)


def test_subscribe_defaults_match_the_service(sim_accounts, cli):
    """Absent flags keep the service defaults: 3x, auto, 0 bps, the pair's least lead and hold, recurring."""
    cli("subscribe", *BASE, "--quantity", "100")
    subscription = Subscription.objects.get()
    assert (subscription.leverage, subscription.direction, subscription.min_edge_bps) == (3, "auto", Decimal(0))
    timing = pair_timing(primary=subscription.primary_account, hedge=subscription.hedge_account)
    assert (subscription.lead_seconds, subscription.close_delay_seconds) == (timing.min_lead, timing.min_hold)
    assert subscription.recurring


def test_subscribe_lowercase_symbol_is_canonicalised(sim_accounts, cli):
    """'dogeusdt' is stored as DOGEUSDT."""
    cli("subscribe", *BASE[:2], "--symbol", " dogeusdt ", *BASE[4:], "--quantity", "100")
    assert Subscription.objects.get().symbol == "DOGEUSDT"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--leverage", "60"), "--leverage: BingX allows at most 50x for DOGEUSDT; you asked for 60x."),
        (("--leverage", "80"), "--leverage: Bybit allows at most 75x for DOGEUSDT; you asked for 80x."),
        (("--quantity", "0.5"), "--quantity: Bybit needs at least 1 DOGEUSDT per order"),
        (("--quantity", "10"), "--quantity: Bybit needs at least 5 USDT per order"),
    ],
)
def test_subscribe_checks_live_venue_limits(sim_accounts, cli, args, expected):
    """Limits come from the venues: the message names the venue, the flag and the limit."""
    with pytest.raises(CommandError) as caught:
        cli("subscribe", *BASE, "--quantity", "100", *args)
    assert expected in str(caught.value)
    assert one_line(caught.value)
    assert not Subscription.objects.exists()


def test_subscribe_unlisted_symbol_names_the_venue(sim_accounts, cli):
    """A well-formed symbol no venue lists is refused by the live check."""
    with pytest.raises(CommandError, match="--symbol: Bybit does not list FOOUSDT"):
        cli("subscribe", *BASE[:2], "--symbol", "FOOUSDT", *BASE[4:], "--quantity", "100")


def test_subscribe_refuses_second_active_subscription_on_same_accounts(sim_accounts, cli):
    """One-way positions would net: the second subscription of the symbol on the same accounts is refused."""
    cli("subscribe", *BASE, "--quantity", "100")
    with pytest.raises(CommandError, match=r"--symbol: Subscription #\d+ already trades DOGEUSDT"):
        cli("subscribe", *BASE, "--quantity", "200")
    assert Subscription.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--user", "ghost"), "--user: no user named 'ghost'"),
        (("--primary", "nope"), "--primary: no account of user 'alice' with id or label 'nope'"),
        (("--hedge", "bybit main"), "--hedge: The hedge account must differ from the primary account."),
        (("--direction", "sideways"), "invalid choice"),
        (("--leverage", "0"), "--leverage: Enter a whole number from 1 to 200."),
        (("--leverage", "-1"), "--leverage: Enter a whole number from 1 to 200."),
        (("--leverage", "1.5"), "--leverage: '1.5' is not a whole number"),
        (("--leverage", str(10**9)), "--leverage: Enter a whole number from 1 to 200."),
        (("--leverage", "abc"), "--leverage: 'abc' is not a whole number"),
        (("--quantity", "0"), "--quantity: Enter a number above 0"),
        (("--quantity", "-3"), "--quantity: Enter a number above 0"),
        (("--quantity", "NaN"), "--quantity: 'NaN' is not a number"),
        (("--quantity", "inf"), "--quantity: 'inf' is not a number"),
        (("--quantity", "1e30"), "--quantity: Enter a number above 0"),
        (("--symbol", "DOGE USDT"), "--symbol: Not a USDT perpetual symbol"),
        (("--symbol", "ДОГЕUSDT"), "--symbol: Not a USDT perpetual symbol"),
        (("--symbol", "X'; DROP TABLE arbitrage_subscription;--"), "--symbol: Not a USDT perpetual symbol"),
        (("--lead-seconds", "0"), "--lead-seconds: Enter a whole number from 1 to 600."),
        (("--close-after-seconds", "601"), "--close-after-seconds: Enter a whole number from 1 to 600."),
        (("--min-edge-bps", "1e9"), "--min-edge-bps: Enter a number at least -10000 and at most 10000."),
    ],
)
def test_subscribe_rejects_mistakes_with_one_line(sim_accounts, cli, args, expected):
    """Each mistake is one CommandError line naming the flag; nothing is created."""
    with pytest.raises(CommandError) as caught:
        cli("subscribe", *BASE, "--quantity", "100", *args)
    assert expected in str(caught.value)
    assert one_line(caught.value)
    assert not Subscription.objects.exists()


def test_subscribe_refuses_another_users_account(sim_accounts, other_user, venue_sim, cli):
    """bob cannot name alice's accounts, by label or by id."""
    bybit, bingx = sim_accounts
    with pytest.raises(CommandError, match="--primary: no account of user 'bob'"):
        cli("subscribe", "--user", "bob", "--symbol", "DOGEUSDT", "--primary", str(bybit.pk),
            "--hedge", str(bingx.pk), "--quantity", "100")  # fmt: skip
    assert not Subscription.objects.exists()


# --- Properties: malformed or out-of-range input fails on the format layer, before any venue call ---------------


@pytest.fixture
def offline_accounts(user, monkeypatch, simulator_nowhere):
    """alice's two accounts on an address nothing listens on; any live-limit lookup fails the test."""

    def no_venue_call(**kwargs):
        raise AssertionError("a venue was called for input the format layer should have refused")

    monkeypatch.setattr("arbitrage.services.subscriptions.symbol_limits", no_venue_call)
    for exchange in ("bybit", "bingx"):
        account_create(
            owner=user, exchange=exchange, label=f"{exchange} main", api_key=f"{exchange}-key",
            api_secret="secret", environment="simulator",
        )  # fmt: skip


WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
CANONICAL = re.compile(r"[A-Z0-9]+USDT")


def acceptable_leverage(text: str) -> bool:
    return bool(WHOLE.fullmatch(text.strip())) and 1 <= int(text.strip()) <= 200


def acceptable_lead(text: str) -> bool:
    return bool(WHOLE.fullmatch(text.strip())) and 1 <= int(text.strip()) <= 600


def acceptable_quantity(text: str) -> bool:
    stripped = text.strip()
    if len(stripped) > 40 or not DECIMAL.fullmatch(stripped):
        return False
    try:
        return Decimal(0) < Decimal(stripped) <= Decimal("1e9")
    except InvalidOperation:
        return False


def acceptable_symbol(text: str) -> bool:
    symbol = text.strip().upper()
    return len(symbol) <= 30 and bool(CANONICAL.fullmatch(symbol))


def numbers_as_text(whole_range_excluded: tuple[int, int]) -> st.SearchStrategy[str]:
    low, high = whole_range_excluded
    return st.one_of(
        st.integers().filter(lambda n: not low <= n <= high).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.sampled_from(["NaN", "nan", "-inf", "Infinity", "1e30", "1_000", "0x10", "1,5", "", " ", "٣", "１"]),
        st.text(),
    )


PROPERTY_SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


def assert_refused_on_format_layer(cli, *args: str) -> None:
    with pytest.raises(CommandError) as caught:
        cli("subscribe", *args)
    assert one_line(caught.value), str(caught.value)
    assert not Subscription.objects.exists()


@PROPERTY_SETTINGS
@given(leverage=numbers_as_text((1, 200)).filter(lambda text: not acceptable_leverage(text)))
def test_subscribe_property_bad_leverage_is_one_line_and_creates_nothing(offline_accounts, cli, leverage):
    """Any leverage that is not a whole number from 1 to 200 is refused in one line, before any venue call."""
    assert_refused_on_format_layer(cli, *BASE, "--quantity", "100", f"--leverage={leverage}")


@PROPERTY_SETTINGS
@given(quantity=numbers_as_text((1, 10**9)).filter(lambda text: not acceptable_quantity(text)))
def test_subscribe_property_bad_quantity_is_one_line_and_creates_nothing(offline_accounts, cli, quantity):
    """Any quantity that is not a finite number above 0 and at most 1e9 is refused in one line, offline."""
    assert_refused_on_format_layer(cli, *BASE, f"--quantity={quantity}")


@PROPERTY_SETTINGS
@given(
    symbol=st.one_of(
        st.text(),
        st.text(alphabet=st.characters(codec="ascii"), min_size=1).map(lambda text: text + "USDT"),
        st.sampled_from(["BTC USDT", "BTC-USDT", "BTCUSD", "USDT", "'; DROP TABLE auth_user;--", "BTCUSDT\x00"]),
    ).filter(lambda text: not acceptable_symbol(text))
)
def test_subscribe_property_bad_symbol_is_one_line_and_creates_nothing(offline_accounts, cli, symbol):
    """Any symbol that is not a canonical USDT perpetual (spaces, unicode, SQL) is refused in one line, offline."""
    assert_refused_on_format_layer(cli, *BASE[:2], f"--symbol={symbol}", *BASE[4:], "--quantity", "100")


@PROPERTY_SETTINGS
@given(seconds=numbers_as_text((1, 600)).filter(lambda text: not acceptable_lead(text)))
def test_subscribe_property_bad_lead_seconds_is_one_line_and_creates_nothing(offline_accounts, cli, seconds):
    """Any lead time outside 1..600 whole seconds is refused in one line, offline (below the pair's settlement
    floor: see test_timing)."""
    assert_refused_on_format_layer(cli, *BASE, "--quantity", "100", f"--lead-seconds={seconds}")

"""The base-URL rules: which targets an account may name, what is stored, and what a stored account may do."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from arbitrage.models import ExchangeAccount
from arbitrage.services.venue_targets import account_target_problem, base_url_clean
from exchanges.base import Venue

SIM = "http://127.0.0.1:8100"


@pytest.fixture
def demo(settings):
    settings.DEMO_SIMULATOR, settings.SIMULATOR_URL = True, SIM


def clean(base_url: str, *, venue: str = "bybit", environment: str = "mainnet") -> str:
    return base_url_clean(venue=Venue(venue), environment=environment, base_url=base_url)


def refusal(base_url: str, **kwargs) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        clean(base_url, **kwargs)
    ((field, messages),) = caught.value.message_dict.items()
    return field, " ".join(messages)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("", ""),
        ("  ", ""),
        ("https://api.bybit.com", "https://api.bybit.com"),
        ("https://api.bybit.com/", "https://api.bybit.com"),
        ("HTTPS://API.BYBIT.COM", "https://api.bybit.com"),
        ("https://api.bybit.com:443/", "https://api.bybit.com"),
        (" https://api.bytick.com ", "https://api.bytick.com"),
        ("https://api-demo.bybit.com", "https://api-demo.bybit.com"),
    ],
)
def test_official_hosts_are_scheme_and_host_only_and_stored_normalised(given, stored):
    """https and the venue's own host, at most a trailing slash; stored lowercase without port or slash."""
    assert clean(given) == stored


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://api.bybit.com", "https:// and the host only"),
        ("https://api.bybit.com:8443", "https:// and the host only"),
        ("https://api.bybit.com/v5", "https:// and the host only"),
        ("https://api.bybit.com//", "https:// and the host only"),
        ("https://api.bybit.com/?", "query (?)"),
        ("https://api.bybit.com/#x", "fragment (#)"),
        ("https://key:secret@api.bybit.com", "user name (@)"),
        ("https://api.bybit.com@127.0.0.1:8100/", "user name (@)"),
        ("http://127.0.0.1:8100/secret.txt?", "query (?)"),
        ("https://api.bybit.com.", "Enter a full http:// or https:// URL"),
        ("https://api.bybit.com.evil.example", "API hosts"),
        ("https://api%2ebybit.com", "Enter a full http:// or https:// URL"),
        ("https://аpi.bybit.com", "Enter a full http:// or https:// URL"),  # Cyrillic 'а'
        ("https://xn--pi-7ld.bybit.com", "API hosts"),
        ("https://api.bybit.com\\@127.0.0.1", "Enter a full http:// or https:// URL"),
        ("https://api.bybit.com /", "Enter a full http:// or https:// URL"),
        ("https://api.bybit.com\t/", "Enter a full http:// or https:// URL"),
        ("https://api.bybit.com\n/", "Enter a full http:// or https:// URL"),
        ("https://api.bybit.com\x00", "Enter a full http:// or https:// URL"),
        ("ftp://api.bybit.com", "Enter a full http:// or https:// URL"),
        ("//api.bybit.com", "Enter a full http:// or https:// URL"),
        ("api.bybit.com", "Enter a full http:// or https:// URL"),
        ("https://" + "a" * 200 + ".bybit.com", "at most 200 characters"),
        ("https://open-api.bingx.com", "API hosts"),  # another venue's host
        ("http://127.0.0.1:8100", "API hosts"),
        ("http://127.1", "API hosts"),
        ("http://2130706433", "API hosts"),
        ("http://0x7f000001", "API hosts"),
        ("http://0", "API hosts"),
        ("http://0.0.0.0:8100", "API hosts"),
        ("http://[::1]:8100", "Enter a full http:// or https:// URL"),
        ("http://[::ffff:127.0.0.1]", "Enter a full http:// or https:// URL"),
        ("http://localhost:8100", "API hosts"),
        ("http://169.254.169.254/latest/meta-data", "API hosts"),
        ("https://api.bybit.com:0", "Enter a full http:// or https:// URL"),
        ("https://api.bybit.com:99999", "Enter a full http:// or https:// URL"),
    ],
)
def test_everything_else_is_refused_on_the_base_url_field(url, message):
    """Attacker shapes (loopback spelled every way, user info, queries, look-alike hosts) name the field and rule."""
    field, text = refusal(url)
    assert field == "base_url"
    assert message in text


def test_operator_allowed_hosts_may_have_a_port_and_a_path_prefix(settings):
    """A host in VENUE_ALLOWED_HOSTS (an egress proxy) takes http(s), a port and a path, never a query."""
    settings.VENUE_ALLOWED_HOSTS = ["Proxy.Internal"]
    assert clean("http://proxy.internal:3128") == "http://proxy.internal:3128"
    assert clean("https://PROXY.internal/bybit/") == "https://proxy.internal/bybit"
    assert clean("https://proxy.internal/a.b/c-d_e~f") == "https://proxy.internal/a.b/c-d_e~f"
    for url in ("https://proxy.internal/x?", "https://proxy.internal/#", "https://u@proxy.internal"):
        assert "query (?)" in refusal(url)[1]
    for url in ("https://proxy.internal/../admin", "https://proxy.internal/a/./b", "https://proxy.internal/%2e%2e"):
        assert "path prefix" in refusal(url)[1]
    assert "API hosts" in refusal("https://proxy.internal.evil")[1]


def test_the_simulator_is_refused_outside_demo_mode(settings):
    """DEMO_SIMULATOR off: the environment itself is refused, whatever the base URL."""
    settings.DEMO_SIMULATOR = False
    for url in ("", SIM, "http://127.0.0.1:9"):
        assert refusal(url, environment="simulator") == (
            "environment",
            "The built-in simulator is only available in demo mode (DEMO_SIMULATOR).",
        )


@pytest.mark.usefixtures("demo")
def test_in_demo_mode_only_the_simulators_origin_is_accepted_and_stored_empty():
    """The origin of SIMULATOR_URL (or nothing) is accepted and stored as no URL of its own; anything else is not."""
    for url in ("", SIM, SIM + "/", "HTTP://127.0.0.1:8100", "http://127.0.0.1:08100"):
        assert clean(url, environment="simulator") == ""
    for url in ("http://127.0.0.1:8101", "http://localhost:8100", "https://127.0.0.1:8100", SIM + "/v5", SIM + "//"):
        field, text = refusal(url, environment="simulator")
        assert field == "base_url" and "leave the base URL empty" in text and SIM in text
    assert refusal(SIM + "/secret.txt?", environment="simulator")[1] == (
        "A base URL may not contain a query (?), a fragment (#) or a user name (@)."
    )


def test_a_stored_account_that_breaks_the_rules_has_a_problem_naming_it(settings):
    """Rows stored before the rules (or before demo mode was switched off) report what to fix."""
    settings.DEMO_SIMULATOR = False
    simulator = ExchangeAccount(exchange="bybit", label="old sim", environment="simulator")
    assert account_target_problem(simulator) == (
        "Bybit account 'old sim' cannot open positions: The built-in simulator is only available in demo mode "
        "(DEMO_SIMULATOR). Edit the account (Exchange accounts) to fix it; positions already open are still closed."
    )
    probe = ExchangeAccount(exchange="bingx", label="probe", base_url="https://open-api.bingx.com/x?")
    assert "BingX account 'probe' cannot open positions: A base URL may not contain a query" in (
        account_target_problem(probe)
    )
    assert account_target_problem(ExchangeAccount(exchange="bybit", base_url="https://api.bybit.com/")) == ""

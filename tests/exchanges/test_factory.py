"""Base-URL precedence and client construction."""

from __future__ import annotations

import pytest

from exchanges import BingXClient, BybitClient, Credentials, Environment, Venue, make_client, make_public_client
from exchanges.factory import resolve_base_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BYBIT_BASE_URL", "BINGX_BASE_URL", "SIMULATOR_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("venue", "environment", "expected"),
    [
        (Venue.BYBIT, Environment.MAINNET, "https://api.bybit.com"),
        (Venue.BINGX, Environment.MAINNET, "https://open-api.bingx.com"),
        (Venue.BYBIT, Environment.TESTNET, "https://api-testnet.bybit.com"),
        (Venue.BYBIT, Environment.DEMO, "https://api-demo.bybit.com"),
        (Venue.BINGX, Environment.DEMO, "https://open-api-vst.bingx.com"),
        (Venue.BYBIT, Environment.SIMULATOR, "http://127.0.0.1:8100"),
        (Venue.BINGX, Environment.SIMULATOR, "http://127.0.0.1:8100"),
    ],
)
def test_standard_urls(venue: Venue, environment: Environment, expected: str) -> None:
    """Without overrides each environment maps to its standard URL."""
    assert resolve_base_url(venue, environment) == expected


def test_bingx_has_no_testnet() -> None:
    """Asking for BingX testnet is a clear ValueError pointing at demo."""
    with pytest.raises(ValueError, match="BingX has no testnet environment; use demo"):
        resolve_base_url("bingx", "testnet")


def test_account_url_beats_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """The account's own base_url wins over env vars and the standard URL, even on BingX testnet."""
    monkeypatch.setenv("BYBIT_BASE_URL", "http://env.example")
    monkeypatch.setenv("SIMULATOR_URL", "http://sim.example")
    assert resolve_base_url("bybit", "mainnet", "http://own.example/") == "http://own.example"
    assert resolve_base_url("bybit", "simulator", "http://own.example") == "http://own.example"
    assert resolve_base_url("bingx", "testnet", "http://own.example") == "http://own.example"


def test_env_vars_replace_mainnet_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """BYBIT_BASE_URL/BINGX_BASE_URL replace the mainnet URLs and leave other environments alone."""
    monkeypatch.setenv("BYBIT_BASE_URL", "http://bybit-env.example")
    monkeypatch.setenv("BINGX_BASE_URL", "http://bingx-env.example")
    assert resolve_base_url("bybit", "mainnet") == "http://bybit-env.example"
    assert resolve_base_url("bingx", "mainnet") == "http://bingx-env.example"
    assert resolve_base_url("bybit", "demo") == "https://api-demo.bybit.com"
    assert resolve_base_url("bingx", "demo") == "https://open-api-vst.bingx.com"


def test_simulator_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIMULATOR_URL sets the simulator URL for both venues."""
    monkeypatch.setenv("SIMULATOR_URL", "http://sim.example:9000/")
    assert resolve_base_url("bybit", "simulator") == "http://sim.example:9000"
    assert resolve_base_url("bingx", "simulator") == "http://sim.example:9000"


def test_make_client_builds_the_right_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """make_client picks the venue's class and URL and passes keyword options through."""
    monkeypatch.setenv("BINGX_BASE_URL", "http://bingx-env.example")
    client = make_client("bybit", Credentials("k", "s"), environment="demo", recv_window_ms=8000)
    assert isinstance(client, BybitClient)
    assert client.transport.base_url == "https://api-demo.bybit.com"
    assert client.transport.recv_window_ms == 8000
    public = make_public_client(Venue.BINGX)
    assert isinstance(public, BingXClient)
    assert public.transport.base_url == "http://bingx-env.example"
    assert public.transport.credentials is None

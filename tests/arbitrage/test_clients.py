"""Venue clients for accounts: where each one talks to."""

from __future__ import annotations

import pytest

from arbitrage.models import ExchangeAccount
from arbitrage.services.clients import client_for_account, forget_clients, public_client
from exchanges.base import Venue


@pytest.fixture
def fresh_clients():
    forget_clients()
    yield
    forget_clients()


def test_the_simulator_url_is_the_setting_not_the_process_environment(settings, monkeypatch, fresh_clients):
    """SIMULATOR_URL comes from settings (one source for web and workers), whatever the process environment says."""
    monkeypatch.setenv("SIMULATOR_URL", "http://127.0.0.1:1")
    settings.SIMULATOR_URL = "http://127.0.0.1:2"
    settings.MARKET_DATA_ENVIRONMENT = "simulator"
    account = ExchangeAccount(pk=10**9, exchange="bybit", environment="simulator")
    account.set_credentials(api_key="k", api_secret="s")
    assert client_for_account(account).transport.base_url == "http://127.0.0.1:2"
    assert public_client(Venue.BINGX).transport.base_url == "http://127.0.0.1:2"


def test_an_accounts_own_base_url_wins(settings, fresh_clients):
    """A stored base URL is used as it is."""
    account = ExchangeAccount(pk=10**9, exchange="bybit", environment="mainnet", base_url="https://api.bytick.com")
    account.set_credentials(api_key="k", api_secret="s")
    assert client_for_account(account).transport.base_url == "https://api.bytick.com"

"""Venue clients for accounts, kept per process.

A client is reused from preflight to close, and every client of one venue host shares that host's ``Endpoint``:
its connection pool (an order leaves on a connection any account's read opened, so the critical path is one round
trip, not a TCP and TLS handshake plus one) and its measured clock. Changing an account's credentials or URL
changes ``updated_at`` and so makes a new client.

The simulator's URL is this installation's setting (``SIMULATOR_URL``), passed explicitly: ``exchanges.factory``
falls back to the process environment only when used on its own.
"""

from __future__ import annotations

import threading
from datetime import datetime

from django.conf import settings

from arbitrage.models import ExchangeAccount
from arbitrage.services import clock
from exchanges.base import Credentials, Environment, ExchangeClient, Venue
from exchanges.factory import make_client, resolve_base_url
from exchanges.transport import Endpoint

_lock = threading.Lock()
_account_clients: dict[int, tuple[datetime, ExchangeClient]] = {}
_public_clients: dict[Venue, ExchangeClient] = {}
_endpoints: dict[tuple[Venue, str], Endpoint] = {}
# As many kept connections as the venue-io pool has threads (services/parallel.py): at a trigger every one of them
# may be sending an order to the same host.
ENDPOINT_POOL_SIZE = 256


def _clock_time() -> float:
    # Resolved on every call so a test that swaps the clock is seen by clients created earlier.
    return clock.clock.time()


def _target(environment: str, base_url: str = "") -> str | None:
    if base_url:
        return base_url
    return settings.SIMULATOR_URL if environment == Environment.SIMULATOR else None


def _endpoint(venue: Venue, environment: str, base_url: str | None) -> Endpoint:
    """Precondition: ``_lock`` held."""
    key = (venue, resolve_base_url(venue, environment, base_url))
    endpoint = _endpoints.get(key)
    if endpoint is None:
        endpoint = _endpoints[key] = Endpoint(clock=_clock_time, pool_maxsize=ENDPOINT_POOL_SIZE)
    return endpoint


def endpoint_for_account(account: ExchangeAccount) -> Endpoint:
    """The shared endpoint the account's client talks through."""
    with _lock:
        return _endpoint(account.venue, account.environment, _target(account.environment, account.base_url))


def client_for_account(account: ExchangeAccount) -> ExchangeClient:
    with _lock:
        cached = _account_clients.get(account.pk)
        if cached is not None and cached[0] == account.updated_at:
            return cached[1]
        target = _target(account.environment, account.base_url)
        client = make_client(
            account.venue,
            Credentials(api_key=account.api_key, api_secret=account.api_secret),
            environment=Environment(account.environment),
            base_url=target,
            clock=_clock_time,
            endpoint=_endpoint(account.venue, account.environment, target),
        )
        if cached is not None:
            cached[1].close()
        _account_clients[account.pk] = (account.updated_at, client)
        return client


def probe_client(account: ExchangeAccount, *, api_key: str, api_secret: str) -> ExchangeClient:
    """A throw-away client for the account's venue and URL with other credentials (checking a new key)."""
    return make_client(
        account.venue,
        Credentials(api_key=api_key, api_secret=api_secret),
        environment=Environment(account.environment),
        base_url=_target(account.environment, account.base_url),
        clock=_clock_time,
    )


def public_client(venue: Venue) -> ExchangeClient:
    """Market data (rates, symbol rules) from the environment named by MARKET_DATA_ENVIRONMENT."""
    with _lock:
        client = _public_clients.get(venue)
        if client is None:
            environment = settings.MARKET_DATA_ENVIRONMENT
            client = make_client(venue, None, environment=environment, base_url=_target(environment), clock=_clock_time)
            _public_clients[venue] = client
        return client


def forget_clients() -> None:
    """Drop every cached client (tests; a settings change)."""
    with _lock:
        for _, client in _account_clients.values():
            client.close()
        for client in _public_clients.values():
            client.close()
        for endpoint in _endpoints.values():
            endpoint.close()
        _account_clients.clear()
        _public_clients.clear()
        _endpoints.clear()


__all__ = ["client_for_account", "endpoint_for_account", "forget_clients", "probe_client", "public_client"]

"""Build venue clients from an account's venue, environment and optional base-URL override."""

from __future__ import annotations

import os
import time
from typing import Any

from .base import Clock, Credentials, Environment, ExchangeClient, Venue
from .bingx import BingXClient
from .bybit import BybitClient

SIMULATOR_DEFAULT_URL = "http://127.0.0.1:8100"
_MAINNET_ENV_OVERRIDE = {Venue.BYBIT: "BYBIT_BASE_URL", Venue.BINGX: "BINGX_BASE_URL"}
_STANDARD_URLS: dict[tuple[Venue, Environment], str] = {
    (Venue.BYBIT, Environment.MAINNET): "https://api.bybit.com",
    (Venue.BINGX, Environment.MAINNET): "https://open-api.bingx.com",
    (Venue.BYBIT, Environment.TESTNET): "https://api-testnet.bybit.com",
    (Venue.BYBIT, Environment.DEMO): "https://api-demo.bybit.com",
    (Venue.BINGX, Environment.DEMO): "https://open-api-vst.bingx.com",
}
# Every host a venue serves its API from (notes §1): the only targets an account's own base URL may name, besides
# hosts an operator allows explicitly (a proxy). Anything else could aim signed requests at internal services.
OFFICIAL_HOSTS: dict[Venue, frozenset[str]] = {
    Venue.BYBIT: frozenset(
        {"api.bybit.com", "api.bytick.com", "api-testnet.bybit.com", "api-demo.bybit.com"}
        | {f"api.bybit.{tld}" for tld in ("nl", "tr", "kz", "eu", "ae", "id")}
    ),
    Venue.BINGX: frozenset({"open-api.bingx.com", "open-api.bingx.io", "open-api-vst.bingx.com"}),
}
_CLIENTS: dict[Venue, type[BybitClient] | type[BingXClient]] = {Venue.BYBIT: BybitClient, Venue.BINGX: BingXClient}


def resolve_base_url(venue: Venue | str, environment: Environment | str, base_url: str | None = None) -> str:
    """The URL a client should talk to, first match wins:

    1. the account's own ``base_url``;
    2. for the simulator, ``$SIMULATOR_URL`` (default ``http://127.0.0.1:8100``);
    3. for mainnet, ``$BYBIT_BASE_URL`` / ``$BINGX_BASE_URL`` when set;
    4. the environment's standard URL. BingX has no testnet: that combination raises ``ValueError``.
    """
    venue, environment = Venue(venue), Environment(environment)
    if base_url:
        return base_url.rstrip("/")
    if environment is Environment.SIMULATOR:
        return (os.environ.get("SIMULATOR_URL") or SIMULATOR_DEFAULT_URL).rstrip("/")
    if environment is Environment.MAINNET:
        override = os.environ.get(_MAINNET_ENV_OVERRIDE[venue])
        if override:
            return override.rstrip("/")
    standard = _STANDARD_URLS.get((venue, environment))
    if standard is None:
        raise ValueError(
            f"{venue.label} has no {environment.value} environment; use demo (BingX VST) or set the account's base URL"
        )
    return standard


def make_client(
    venue: Venue | str,
    credentials: Credentials | None,
    *,
    environment: Environment | str = Environment.MAINNET,
    base_url: str | None = None,
    clock: Clock = time.time,
    **kwargs: Any,
) -> ExchangeClient:
    """A client for ``venue`` in ``environment``; extra keyword arguments (timeout, recv_window_ms, logger) pass on."""
    venue = Venue(venue)
    url = resolve_base_url(venue, environment, base_url)
    return _CLIENTS[venue](credentials, base_url=url, clock=clock, **kwargs)


def make_public_client(venue: Venue | str, **kwargs: Any) -> ExchangeClient:
    """A credential-less mainnet client (or its ``*_BASE_URL`` override) for market data."""
    return make_client(venue, None, environment=Environment.MAINNET, **kwargs)

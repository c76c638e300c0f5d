"""Per-account request limits as data: how many calls per second each venue allows for the calls the money path
makes, so one budget per venue account can be shared by every process that calls it.

Both venues count per UID, per endpoint, over a rolling second.

Sources:
- Bybit: https://bybit-exchange.github.io/docs/v5/rate-limit (``docs/v5/rate-limit/rate-limit.mdx`` in
  bybit-exchange/docs at 072c197d): linear ``POST /v5/order/create`` 10/s, ``GET /v5/order/realtime`` and
  ``/v5/order/history`` 50/s each, ``GET /v5/position/list`` 50/s, ``POST /v5/position/set-leverage`` 10/s. These
  are the defaults; Bybit can raise some for a UID ("upgradable"), never lower them.
- BingX: the endpoint pages of https://bingx-api.github.io/docs/ (BingX-API/docs-v3 at d84f9547, each endpoint's
  ``rate-limitation``): ``POST`` and ``GET /openApi/swap/v2/trade/order`` 5/s each, ``GET
  /openApi/swap/v2/user/positions`` 5/s, ``GET``/``POST /openApi/swap/v2/trade/leverage`` 5/s. A support article
  (31103871611289) announces 10 orders/s per user from 2025-10-16; UNCONFIRMED on the venue, so 5 it stays.
"""

from __future__ import annotations

import enum

from . import bingx, bybit
from .base import Venue


class RequestKind(enum.StrEnum):
    """What a call does, for budgeting. Where two endpoints share a kind (Bybit realtime and history, BingX leverage
    read and set), each endpoint has the kind's limit on its own."""

    ORDER = "order"
    ORDER_QUERY = "order query"
    POSITIONS = "positions"
    LEVERAGE = "leverage"
    LEDGER = "ledger"  # the funding ledger: Bybit's transaction log, BingX's income history


REQUEST_LIMITS: dict[Venue, dict[RequestKind, int]] = {
    Venue.BYBIT: {
        RequestKind.ORDER: 10,
        RequestKind.ORDER_QUERY: 50,
        RequestKind.POSITIONS: 50,
        RequestKind.LEVERAGE: 10,
        RequestKind.LEDGER: 25,
    },
    Venue.BINGX: {
        RequestKind.ORDER: 5,
        RequestKind.ORDER_QUERY: 5,
        RequestKind.POSITIONS: 5,
        RequestKind.LEVERAGE: 5,
        RequestKind.LEDGER: 5,
    },
}
"""Calls per second, per account and per endpoint."""

_KINDS: dict[Venue, dict[tuple[str, str], RequestKind]] = {
    Venue.BYBIT: {
        ("POST", bybit.PATH_ORDER_CREATE): RequestKind.ORDER,
        ("GET", bybit.PATH_ORDER_REALTIME): RequestKind.ORDER_QUERY,
        ("GET", bybit.PATH_ORDER_HISTORY): RequestKind.ORDER_QUERY,
        ("GET", bybit.PATH_POSITIONS): RequestKind.POSITIONS,
        ("POST", bybit.PATH_SET_LEVERAGE): RequestKind.LEVERAGE,
        ("GET", bybit.PATH_TRANSACTION_LOG): RequestKind.LEDGER,
    },
    Venue.BINGX: {
        ("POST", bingx.PATH_ORDER): RequestKind.ORDER,
        ("GET", bingx.PATH_ORDER): RequestKind.ORDER_QUERY,
        ("GET", bingx.PATH_POSITIONS): RequestKind.POSITIONS,
        ("GET", bingx.PATH_LEVERAGE): RequestKind.LEVERAGE,
        ("POST", bingx.PATH_LEVERAGE): RequestKind.LEVERAGE,
        ("GET", bingx.PATH_INCOME): RequestKind.LEDGER,
    },
}


def request_kind(venue: Venue | str, method: str, path: str) -> RequestKind | None:
    """The kind of a client call (``"POST", "/v5/order/create"`` -> ORDER), or ``None`` for calls not budgeted here.

    ``path`` is the endpoint path without a query string, as the clients' ``PATH_*`` constants spell it.
    """
    return _KINDS[Venue(venue)].get((method.upper(), path))

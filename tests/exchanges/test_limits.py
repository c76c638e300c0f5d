"""Request limits as data: the documented per-account numbers and the mapping from client endpoints to kinds."""

from __future__ import annotations

import pytest

from exchanges import bingx, bybit
from exchanges.base import Venue
from exchanges.limits import REQUEST_LIMITS, RequestKind, request_kind


def test_documented_limits() -> None:
    """Bybit 10/50/50/10/25 per second (transaction log 25/s), BingX 5 for everything (the announced 10 orders/s is
    not confirmed)."""
    assert REQUEST_LIMITS[Venue.BYBIT] == {
        RequestKind.ORDER: 10,
        RequestKind.ORDER_QUERY: 50,
        RequestKind.POSITIONS: 50,
        RequestKind.LEVERAGE: 10,
        RequestKind.LEDGER: 25,
    }
    assert REQUEST_LIMITS[Venue.BINGX] == dict.fromkeys(RequestKind, 5)


@pytest.mark.parametrize(
    ("venue", "method", "path", "kind"),
    [
        ("bybit", "POST", bybit.PATH_ORDER_CREATE, RequestKind.ORDER),
        ("bybit", "GET", bybit.PATH_ORDER_REALTIME, RequestKind.ORDER_QUERY),
        ("bybit", "GET", bybit.PATH_ORDER_HISTORY, RequestKind.ORDER_QUERY),
        ("bybit", "GET", bybit.PATH_POSITIONS, RequestKind.POSITIONS),
        ("bybit", "POST", bybit.PATH_SET_LEVERAGE, RequestKind.LEVERAGE),
        ("bybit", "GET", bybit.PATH_TRANSACTION_LOG, RequestKind.LEDGER),
        ("bybit", "GET", bybit.PATH_WALLET_BALANCE, None),
        ("bybit", "GET", bybit.PATH_ORDER_CREATE, None),
        (Venue.BINGX, "POST", bingx.PATH_ORDER, RequestKind.ORDER),
        (Venue.BINGX, "get", bingx.PATH_ORDER, RequestKind.ORDER_QUERY),
        (Venue.BINGX, "GET", bingx.PATH_POSITIONS, RequestKind.POSITIONS),
        (Venue.BINGX, "GET", bingx.PATH_LEVERAGE, RequestKind.LEVERAGE),
        (Venue.BINGX, "POST", bingx.PATH_LEVERAGE, RequestKind.LEVERAGE),
        (Venue.BINGX, "GET", bingx.PATH_INCOME, RequestKind.LEDGER),
        (Venue.BINGX, "GET", bingx.PATH_BALANCE, None),
    ],
)
def test_request_kind(venue, method, path, kind) -> None:
    """Each client endpoint constant maps to its kind (method included); anything else is not budgeted here."""
    assert request_kind(venue, method, path) is kind


def test_unknown_venue_is_refused() -> None:
    """A typo in the venue fails loudly instead of answering "not budgeted"."""
    with pytest.raises(ValueError):
        request_kind("kraken", "GET", "/")

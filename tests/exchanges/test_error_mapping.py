"""Every venue error code the notes list maps to the right exception, with a message naming venue and operation."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from exchanges.base import PositionMode, Side
from exchanges.errors import (
    AuthenticationError,
    ClockSkewError,
    DuplicateOrder,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientMargin,
    InvalidLeverage,
    InvalidRequest,
    OrderNotFound,
    OrderProcessing,
    PermissionDenied,
    PositionConflict,
    RateLimited,
    ReduceOnlyRejected,
    SymbolNotFound,
    UnknownOutcome,
)

from .conftest import BINGX_URL, BYBIT_URL, bingx_contract, bingx_err, bingx_ok, bybit_err, bybit_instrument, bybit_ok


def _order(client: Any, *, reduce_only: bool = False, mode: PositionMode = PositionMode.ONE_WAY) -> Any:
    return client.place_market_order(
        symbol="BTCUSDT",
        side=Side.SELL,
        quantity=Decimal("0.01"),
        client_order_id="arb-1",
        position_mode=mode,
        reduce_only=reduce_only,
    )


# name -> (operation label, HTTP method, path answering with the error, the call)
BYBIT_OPS: dict[str, tuple[str, str, str, Callable[[Any], Any]]] = {
    "balance": ("balance", "GET", "/v5/account/wallet-balance", lambda c: c.balance()),
    "funding": ("funding info", "GET", "/v5/market/tickers", lambda c: c.funding_info("BTCUSDT")),
    "leverage": (
        "set leverage",
        "POST",
        "/v5/position/set-leverage",
        lambda c: c.set_leverage("BTCUSDT", 10, position_mode=PositionMode.ONE_WAY),
    ),
    "order": ("place order", "POST", "/v5/order/create", _order),
    "close": ("place order", "POST", "/v5/order/create", lambda c: _order(c, reduce_only=True)),
    "get": ("get order", "GET", "/v5/order/realtime", lambda c: c.get_order(symbol="BTCUSDT", client_order_id="arb-1")),
}

BYBIT_CASES = [
    ("funding", 10001, "params error: symbol invalid", SymbolNotFound),
    ("leverage", 10001, "leverage invalid", InvalidLeverage),
    ("order", 10001, "params error", InvalidRequest),
    ("balance", 10002, "invalid request, please check your server timestamp or recv_window param", ClockSkewError),
    ("order", 10002, "req_timestamp[1],server_timestamp[2],recv_window[5000]", ClockSkewError),
    ("balance", 10003, "API key is invalid.", AuthenticationError),
    ("balance", 10004, "Error sign, please check your signature generation algorithm.", AuthenticationError),
    ("balance", 10005, "Permission denied, please check your API key permissions.", PermissionDenied),
    ("balance", 10006, "Too many visits!", RateLimited),
    ("order", 10006, "Too many visits!", RateLimited),
    ("balance", 10010, "Unmatched IP, please check your API key's bound IP addresses.", PermissionDenied),
    ("balance", 10016, "Server error.", ExchangeUnavailable),
    ("order", 10016, "Server error.", UnknownOutcome),
    ("get", 110001, "Order does not exist.", OrderNotFound),
    ("order", 110004, "Wallet balance is insufficient.", InsufficientMargin),
    ("order", 110007, "Available balance is insufficient.", InsufficientMargin),
    ("leverage", 110012, "Insufficient available balance.", InsufficientMargin),
    ("leverage", 110044, "Available margin is insufficient.", InsufficientMargin),
    ("order", 110045, "Wallet balance is insufficient.", InsufficientMargin),
    ("order", 110074, "This contract is not live.", SymbolNotFound),
    (
        "order",
        110086,
        "Current order leverage exceeds the maximum available for your current Risk Limit tier.",
        InvalidLeverage,
    ),
    ("leverage", 110086, "leverage exceeds the max of the risk tier", InvalidLeverage),
    ("leverage", 110013, "Cannot set leverage due to risk limit level.", InvalidLeverage),
    ("leverage", 110024, "You have an existing position, so position mode cannot be switched.", PositionConflict),
    ("leverage", 110028, "You have existing open orders.", PositionConflict),
    ("close", 110017, "current position is zero, cannot fix reduce-only order qty", ReduceOnlyRejected),
    ("order", 110017, "orderQty will be truncated to zero.", InvalidRequest),
    ("close", 110023, "This contract only supports position reduction operation.", ReduceOnlyRejected),
    ("close", 110042, "Currently,trade is restricted to reduce-only mode.", ReduceOnlyRejected),
    ("order", 110072, "OrderLinkedID is duplicate", DuplicateOrder),
    ("order", 110094, "Order value is below the minimum.", InvalidRequest),
    # A code the dialect does not map is no proof of refusal: unknown on an order, a plain rejection on a read.
    ("order", 170999, "some code fundarb never heard of", UnknownOutcome),
    ("close", 170999, "some code fundarb never heard of", UnknownOutcome),
    ("balance", 170999, "some code fundarb never heard of", InvalidRequest),
]


@pytest.mark.parametrize(("op", "code", "message", "expected"), BYBIT_CASES)
def test_bybit_codes(mocked, bybit, op, code, message, expected) -> None:
    """Bybit retCode (with message where overloaded) maps to the right exception and a venue+operation message."""
    label, method, path, call = BYBIT_OPS[op]
    mocked.get(f"{BYBIT_URL}/v5/market/instruments-info", json=bybit_ok({"list": [bybit_instrument()]}))
    mocked.get(f"{BYBIT_URL}/v5/market/time", json=bybit_ok({"timeNano": "1700000000000000000"}))
    mocked.add(method, f"{BYBIT_URL}{path}", json=bybit_err(code, message))
    with pytest.raises(expected) as caught:
        call(bybit)
    assert type(caught.value) is expected
    assert str(caught.value).startswith(f"Bybit {label} failed (code {code}): ")
    assert caught.value.code == str(code)
    assert caught.value.hint, "every error tells the user what to do"
    if expected is UnknownOutcome:
        assert "looks the order up" in caught.value.hint, "never advise resending an order of unknown outcome"
        assert "may or may not have been placed" in caught.value.reason


BINGX_OPS: dict[str, tuple[str, str, str, Callable[[Any], Any]]] = {
    "balance": ("balance", "GET", "/openApi/swap/v3/user/balance", lambda c: c.balance()),
    "funding": ("funding info", "GET", "/openApi/swap/v2/quote/premiumIndex", lambda c: c.funding_info("BTCUSDT")),
    "leverage": (
        "set leverage",
        "POST",
        "/openApi/swap/v2/trade/leverage",
        lambda c: c.set_leverage("BTCUSDT", 10, position_mode=PositionMode.ONE_WAY),
    ),
    "order": ("place order", "POST", "/openApi/swap/v2/trade/order", _order),
    "close": ("place order", "POST", "/openApi/swap/v2/trade/order", lambda c: _order(c, reduce_only=True)),
    "hedge-close": (
        "place order",
        "POST",
        "/openApi/swap/v2/trade/order",
        lambda c: _order(c, reduce_only=True, mode=PositionMode.HEDGE),
    ),
    "get": (
        "get order",
        "GET",
        "/openApi/swap/v2/trade/order",
        lambda c: c.get_order(symbol="BTCUSDT", client_order_id="arb-1"),
    ),
}

HEDGE_SIDE = "In the Hedge mode, the 'Side' field can only be set to LONG or SHORT."
ONE_WAY_SIDE = "In the One-way mode, the 'Side' field can only be set to BOTH."

BINGX_CASES = [
    ("balance", 100421, "Null timestamp or timestamp mismatch", ClockSkewError),
    ("order", 100421, "timestamp mismatch", ClockSkewError),
    ("balance", 100001, "Signature verification failed", AuthenticationError),
    ("balance", 100412, "Null signature", AuthenticationError),
    ("balance", 100413, "Incorrect apiKey", AuthenticationError),
    ("balance", 100004, "Permission denied as the API key was created without the permission", PermissionDenied),
    ("balance", 100419, "IP does not match IP whitelist", PermissionDenied),
    ("balance", 100410, "rate limitation", RateLimited),
    ("order", 101481, "clientOrderID cannot be repeated", DuplicateOrder),
    ("order", 101209, "The same order number can be submitted only once within 1s", DuplicateOrder),
    ("order", 101209, "The maximum position value for this leverage is 100000 USDT", InvalidLeverage),
    ("order", 109201, "Duplicate order submission", DuplicateOrder),
    ("order", 109201, "something else", UnknownOutcome),
    ("get", 80016, "order does not exist", OrderNotFound),
    ("get", 80019, "order is processing", OrderProcessing),
    ("order", 80019, "The order is being processed", UnknownOutcome),
    ("order", 101204, "Insufficient margin", InsufficientMargin),
    ("leverage", 109400, "margin is not enough", InsufficientMargin),
    ("leverage", 109400, HEDGE_SIDE, PositionConflict),
    ("leverage", 109400, ONE_WAY_SIDE, PositionConflict),
    ("order", 109400, "invalid parameter", InvalidRequest),
    ("order", 109401, "user has pending orders or position", PositionConflict),
    ("order", 101212, "pending orders exist", PositionConflict),
    ("funding", 109500, "symbol not exist", SymbolNotFound),
    ("order", 101400, "This trading pair is not available for trading", SymbolNotFound),
    ("order", 101400, "The minimum order amount is 2 USDT", InvalidRequest),
    ("leverage", 101414, "The maximum leverage of the trading pair is lower", InvalidLeverage),
    ("balance", 100500, "Internal system error", ExchangeUnavailable),
    ("balance", 80012, "service unavailable", ExchangeUnavailable),
    ("balance", 101500, "rpc timeout", ExchangeUnavailable),
    ("order", 100500, "Internal system error", UnknownOutcome),
    ("order", 80012, "service busy", UnknownOutcome),
    ("order", 101500, "rpc timeout", UnknownOutcome),
    ("order", 80012, '{"Code":101253,"Msg":"margin is not enough"}', InsufficientMargin),
    ("order", 100400, "Invalid parameters", InvalidRequest),
    ("order", 80014, "positionSide: This field is required", InvalidRequest),
    ("close", 80017, "position does not exist", ReduceOnlyRejected),
    ("order", 80017, "position does not exist", PositionConflict),
    ("close", 80001, "Reduce Only order failed: no position to reduce", ReduceOnlyRejected),
    ("hedge-close", 80001, "No position to close", ReduceOnlyRejected),
    ("order", 80001, "request failed", UnknownOutcome),
    ("order", 109999, "some code fundarb never heard of", UnknownOutcome),
    ("hedge-close", 109999, "some code fundarb never heard of", UnknownOutcome),
    ("balance", 109999, "some code fundarb never heard of", InvalidRequest),
]


@pytest.mark.parametrize(("op", "code", "message", "expected"), BINGX_CASES)
def test_bingx_codes(mocked, bingx, op, code, message, expected) -> None:
    """BingX code (with message where overloaded) maps to the right exception and a venue+operation message."""
    label, method, path, call = BINGX_OPS[op]
    mocked.get(f"{BINGX_URL}/openApi/swap/v2/quote/contracts", json=bingx_ok([bingx_contract("BTC-USDT")]))
    mocked.get(f"{BINGX_URL}/openApi/swap/v2/server/time", json=bingx_ok({"serverTime": 1700000000000}))
    if path != "/openApi/swap/v2/trade/leverage":
        mocked.get(
            f"{BINGX_URL}/openApi/swap/v2/trade/leverage", json=bingx_ok({"longLeverage": 5, "shortLeverage": 5})
        )
    else:
        mocked.get(f"{BINGX_URL}{path}", json=bingx_ok({"longLeverage": 5, "shortLeverage": 5}))
    mocked.add(method, f"{BINGX_URL}{path}", json=bingx_err(code, message))
    with pytest.raises(expected) as caught:
        call(bingx)
    assert type(caught.value) is expected
    assert str(caught.value).startswith(f"BingX {label} failed (code {code}): ")
    assert caught.value.code == str(code)
    assert caught.value.hint, "every error tells the user what to do"
    if expected is UnknownOutcome:
        assert "looks the order up" in caught.value.hint, "never advise resending an order of unknown outcome"
        assert "may or may not have been placed" in caught.value.reason


HTTP_CASES = [
    (401, "", "balance", AuthenticationError),
    (403, "<html>Forbidden</html>", "balance", PermissionDenied),
    (403, "access too frequent", "balance", RateLimited),
    (429, "", "balance", RateLimited),
    (418, "", "balance", RateLimited),
    (500, "<html>oops</html>", "balance", ExchangeUnavailable),
    (502, "<html>Bad gateway</html>", "balance", ExchangeUnavailable),
    (404, "<html>not found</html>", "balance", InvalidRequest),
    (500, "", "order", UnknownOutcome),
    (504, "<html>Gateway Time-out</html>", "order", UnknownOutcome),
]


@pytest.mark.parametrize("venue", ["bybit", "bingx"])
@pytest.mark.parametrize(("status", "body", "op", "expected"), HTTP_CASES)
def test_http_statuses(mocked, bybit, bingx, venue, status, body, op, expected) -> None:
    """HTTP-level failures map by status (and 'too frequent' text), naming venue and operation."""
    client, base, ops, label = (
        (bybit, BYBIT_URL, BYBIT_OPS, "Bybit") if venue == "bybit" else (bingx, BINGX_URL, BINGX_OPS, "BingX")
    )
    operation, method, path, call = ops[op]
    mocked.add(method, f"{base}{path}", body=body, status=status)
    with pytest.raises(expected) as caught:
        call(client)
    assert type(caught.value) is expected
    assert str(caught.value).startswith(f"{label} {operation} failed")
    assert caught.value.http_status == status


def test_every_error_is_an_exchange_error() -> None:
    """All mapped classes derive from ExchangeError so callers can catch one base."""
    for _, _, _, expected in BYBIT_CASES + BINGX_CASES:
        assert issubclass(expected, ExchangeError)

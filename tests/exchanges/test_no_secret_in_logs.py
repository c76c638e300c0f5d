"""No API key, secret or signature ever reaches a log line, an exception message or a repr."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from exchanges.base import Credentials, PositionMode, Side
from exchanges.bingx import BingXClient
from exchanges.errors import ExchangeError

from .conftest import (
    API_KEY,
    API_SECRET,
    BINGX_URL,
    BYBIT_URL,
    NOW_MS,
    bingx_contract,
    bingx_ok,
    bybit_instrument,
    bybit_ok,
    bybit_position_row,
)
from .loopback import venue_server

SINCE = datetime(2023, 11, 10, tzinfo=UTC)


def _operations(client: Any) -> list[Callable[[], Any]]:
    def order(mode: PositionMode, reduce_only: bool) -> Callable[[], Any]:
        return lambda: client.place_market_order(
            symbol="BTCUSDT",
            side=Side.SELL,
            quantity=Decimal("0.01"),
            client_order_id="arb-1",
            position_mode=mode,
            reduce_only=reduce_only,
        )

    return [
        client.server_time,
        lambda: client.sync_clock(samples=2),
        client.exchange_now,
        lambda: client.symbol_rules("BTCUSDT"),
        client.all_symbol_rules,
        lambda: client.funding_info("BTCUSDT"),
        client.all_funding_info,
        lambda: client.position_mode("BTCUSDT"),
        lambda: client.leverage("BTCUSDT"),
        lambda: client.set_leverage("BTCUSDT", 5, position_mode=PositionMode.ONE_WAY),
        lambda: client.set_leverage("BTCUSDT", 5, position_mode=PositionMode.HEDGE),
        lambda: client.positions("BTCUSDT"),
        client.balance,
        order(PositionMode.ONE_WAY, False),
        order(PositionMode.HEDGE, True),
        lambda: client.get_order(symbol="BTCUSDT", client_order_id="arb-1"),
        lambda: client.funding_payments(since=SINCE, until=SINCE.replace(day=12), symbol="BTCUSDT"),
        client.key_permissions,
    ]


def _bybit_success(mocked) -> None:
    order = {
        "orderId": "1",
        "orderLinkId": "arb-1",
        "symbol": "BTCUSDT",
        "side": "Sell",
        "orderStatus": "Filled",
        "qty": "0.01",
        "cumExecQty": "0.01",
        "avgPrice": "1",
        "reduceOnly": False,
        "cumFeeDetail": {"USDT": "0.1"},
    }
    routes = {
        ("GET", "/v5/market/time"): bybit_ok({"timeNano": str(NOW_MS * 10**6)}),
        ("GET", "/v5/market/instruments-info"): bybit_ok({"list": [bybit_instrument()], "nextPageCursor": ""}),
        ("GET", "/v5/market/tickers"): bybit_ok(
            {
                "list": [
                    {
                        "symbol": "BTCUSDT",
                        "fundingRate": "0.0001",
                        "nextFundingTime": "1700006400000",
                        "fundingIntervalHour": "8",
                        "markPrice": "1",
                    }
                ]
            }
        ),
        ("GET", "/v5/position/list"): bybit_ok({"list": [bybit_position_row(0, side="Buy", size="1")]}),
        ("POST", "/v5/position/set-leverage"): bybit_ok({}),
        ("GET", "/v5/account/wallet-balance"): bybit_ok(
            {"list": [{"totalAvailableBalance": "1", "totalEquity": "1", "totalWalletBalance": "1", "coin": []}]}
        ),
        ("POST", "/v5/order/create"): bybit_ok({"orderId": "1", "orderLinkId": "arb-1"}),
        ("GET", "/v5/order/realtime"): bybit_ok({"list": [order]}),
        ("GET", "/v5/account/transaction-log"): bybit_ok({"list": [], "nextPageCursor": ""}),
        ("GET", "/v5/user/query-api"): bybit_ok({"readOnly": 0, "permissions": {"ContractTrade": ["Order"]}}),
    }
    for (method, path), body in routes.items():
        mocked.add(method, f"{BYBIT_URL}{path}", json=body)


def _bingx_success(mocked) -> None:
    order = {
        "orderId": 1,
        "symbol": "BTC-USDT",
        "side": "SELL",
        "status": "FILLED",
        "origQty": "1",
        "executedQty": "1",
        "avgPrice": "1",
        "commission": "-0.1",
        "clientOrderId": "arb-1",
    }
    routes = {
        ("GET", "/openApi/swap/v2/server/time"): bingx_ok({"serverTime": NOW_MS}),
        ("GET", "/openApi/swap/v2/quote/contracts"): bingx_ok([bingx_contract("BTC-USDT")]),
        ("GET", "/openApi/swap/v2/quote/premiumIndex"): bingx_ok(
            {"symbol": "BTC-USDT", "markPrice": "1", "lastFundingRate": "0.0001", "nextFundingTime": 1700006400000}
        ),
        ("GET", "/openApi/swap/v1/positionSide/dual"): bingx_ok({"dualSidePosition": "false"}),
        ("GET", "/openApi/swap/v2/trade/leverage"): bingx_ok(
            {"longLeverage": 5, "shortLeverage": 5, "maxLongLeverage": 50, "maxShortLeverage": 50}
        ),
        ("POST", "/openApi/swap/v2/trade/leverage"): bingx_ok({"leverage": 5}),
        ("GET", "/openApi/swap/v2/user/positions"): bingx_ok(
            [{"symbol": "BTC-USDT", "positionSide": "BOTH", "positionAmt": "1", "avgPrice": "1"}]
        ),
        ("GET", "/openApi/swap/v3/user/balance"): bingx_ok(
            [{"asset": "USDT", "balance": "1", "equity": "1", "availableMargin": "1"}]
        ),
        ("POST", "/openApi/swap/v2/trade/order"): bingx_ok({"order": {"orderId": 1}}),
        ("GET", "/openApi/swap/v2/trade/order"): bingx_ok({"order": order}),
        ("GET", "/openApi/swap/v2/user/income"): bingx_ok([]),
        ("GET", "/openApi/v1/account/apiPermissions"): {
            "apiKey": API_KEY,
            "permissions": [2, 3],
            "ipAddresses": [],
            "note": "",
        },
    }
    for (method, path), body in routes.items():
        mocked.add(method, f"{BINGX_URL}{path}", json=body)


def _hostile(mocked, base: str, code_field: str, message_field: str) -> None:
    """Every endpoint fails in a way that tempts a leak: echoed credentials, URLs in exception text, HTML."""
    echo = {
        code_field: 10003 if code_field == "retCode" else 100413,
        message_field: f"API key {API_KEY} invalid; secret {API_SECRET}",
    }
    leaky = requests.ConnectionError(f"Max retries exceeded with url: /x?signature=deadbeef&apiKey={API_KEY}")
    for method in ("GET", "POST"):
        url = re.compile(re.escape(base) + r"/.*")
        mocked.add(method, url, json=echo)
        mocked.add(method, url, body=leaky)
        mocked.add(method, url, body=f"<html>{API_KEY}</html>", status=502)
        mocked.add(method, url, body=requests.ReadTimeout(f"read timed out {API_SECRET}"))


def _texts_of(exc: BaseException) -> list[str]:
    texts = []
    while exc is not None:
        texts += [str(exc), repr(exc), repr(exc.args)]
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return texts


def _signatures(mocked) -> set[str]:
    found = set()
    for call in mocked.calls:
        if "X-BAPI-SIGN" in call.request.headers:
            found.add(call.request.headers["X-BAPI-SIGN"])
        found |= {value for key, value in parse_qsl(urlsplit(call.request.url).query) if key == "signature"}
    return found


@pytest.mark.parametrize("venue", ["bybit", "bingx"])
def test_no_secret_anywhere(mocked, bybit, bingx, caplog, venue) -> None:
    """A full run of every operation, succeeding and failing, leaks no key, secret or signature."""
    caplog.set_level(logging.DEBUG)
    client = bybit if venue == "bybit" else bingx
    (_bybit_success if venue == "bybit" else _bingx_success)(mocked)
    texts = [repr(client), str(client), repr(client.transport.credentials)]
    for operation in _operations(client):
        texts.append(repr(operation()))
    mocked.reset()
    base, code, message = (BYBIT_URL, "retCode", "retMsg") if venue == "bybit" else (BINGX_URL, "code", "msg")
    _hostile(mocked, base, code, message)
    failures = 0
    for _ in range(3):
        for operation in _operations(client):
            try:
                operation()
            except ExchangeError as exc:
                failures += 1
                texts += _texts_of(exc)
    assert failures > 30
    signatures = _signatures(mocked)
    assert signatures, "the run must have signed requests"
    texts += [caplog.text] + [record.getMessage() for record in caplog.records]
    everything = "\n".join(texts)
    for secret in [API_KEY, API_SECRET, *signatures]:
        assert secret not in everything


def test_urllib3_debug_log_has_no_bingx_signature(caplog) -> None:
    """urllib3's DEBUG request line (which includes the query string) has BingX's signature redacted."""
    caplog.set_level(logging.DEBUG)
    with venue_server() as server:
        client = BingXClient(Credentials(API_KEY, API_SECRET), base_url=server.url)
        try:
            client.leverage("BTCUSDT")
        finally:
            client.close()
        signatures = {
            value for target in server.targets for key, value in parse_qsl(urlsplit(target).query) if key == "signature"
        }
    assert signatures
    assert any(record.name == "urllib3.connectionpool" for record in caplog.records)
    for secret in [API_KEY, API_SECRET, *signatures]:
        assert secret not in caplog.text

"""Fixtures for the venue-client tests: fixed clock, fake credentials, ``responses`` mocks and envelope builders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from exchanges.base import Credentials
from exchanges.bingx import BingXClient
from exchanges.bybit import BybitClient

API_KEY = "fundarbTESTkey0123456789abcdef"
API_SECRET = "fundarbTESTsecret9876543210fedcba"
NOW = 1_700_000_000.0
NOW_MS = 1_700_000_000_000
BYBIT_URL = "https://bybit.test"
BINGX_URL = "https://bingx.test"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _quiet(client: Any, sleeps: list[float]) -> Any:
    client.transport.sleep = sleeps.append
    return client


@pytest.fixture
def bybit(sleeps: list[float]) -> Iterator[BybitClient]:
    client = _quiet(BybitClient(Credentials(API_KEY, API_SECRET), base_url=BYBIT_URL, clock=lambda: NOW), sleeps)
    yield client
    client.close()


@pytest.fixture
def bingx(sleeps: list[float]) -> Iterator[BingXClient]:
    client = _quiet(BingXClient(Credentials(API_KEY, API_SECRET), base_url=BINGX_URL, clock=lambda: NOW), sleeps)
    yield client
    client.close()


def bybit_ok(result: Any, **extra: Any) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": NOW_MS + 5, **extra}


def bybit_err(code: int, message: str) -> dict[str, Any]:
    return {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": NOW_MS}


def bingx_ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "msg": "", "timestamp": NOW_MS + 7, "data": data}


def bingx_err(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "msg": message, "timestamp": NOW_MS, "data": {}}


def params_of(call: Any) -> dict[str, str]:
    """The query parameters a recorded ``responses`` call carried."""
    return dict(parse_qsl(urlsplit(call.request.url).query, keep_blank_values=True))


def body_of(call: Any) -> dict[str, Any]:
    body = call.request.body
    return json.loads(body.decode() if isinstance(body, bytes) else body)


def calls_to(mocked: responses.RequestsMock, path: str) -> list[Any]:
    return [call for call in mocked.calls if urlsplit(call.request.url).path == path]


# --- canned venue payloads --------------------------------------------------------------------------------------


def bybit_instrument(symbol: str = "BTCUSDT", max_leverage: str = "100.00", **overrides: Any) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "settleCoin": "USDT",
        "fundingInterval": 480,
        "leverageFilter": {"minLeverage": "1", "maxLeverage": max_leverage, "leverageStep": "0.01"},
        "lotSizeFilter": {
            "minOrderQty": "0.001",
            "maxOrderQty": "1190.000",
            "maxMktOrderQty": "500.000",
            "qtyStep": "0.001",
            "minNotionalValue": "5",
        },
        **overrides,
    }


def bybit_position_row(idx: int, *, side: str = "", size: str = "0", leverage: str = "10") -> dict[str, Any]:
    return {
        "positionIdx": idx,
        "symbol": "BTCUSDT",
        "side": side,
        "size": size,
        "avgPrice": "43000.5" if size != "0" else "0",
        "markPrice": "43100.1",
        "leverage": leverage,
        "unrealisedPnl": "1.25",
    }


def bingx_contract(symbol: str = "DOGE-USDT", **overrides: Any) -> dict[str, Any]:
    return {
        "contractId": "100",
        "symbol": symbol,
        "quantityPrecision": 0,
        "pricePrecision": 5,
        "tradeMinQuantity": 9,
        "tradeMinUSDT": "2",
        "currency": "USDT",
        "asset": symbol.split("-")[0],
        "status": 1,
        "apiStateOpen": "true",
        "apiStateClose": "true",
        "makerFeeRate": 0.0002,
        "takerFeeRate": 0.0005,
        "maxLongLeverage": 50,
        "maxShortLeverage": "75",
        **overrides,
    }

"""Fixtures for the venue-client tests: fixed clock, fake credentials, ``responses`` mocks and envelope builders."""

from __future__ import annotations

import copy
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


# As published: bybit-exchange/docs, docs/v5/position/position.mdx "Response Example" (commit c931196,
# https://bybit-exchange.github.io/docs/v5/position). Its only sample is an inverse (BTCUSD) row.
BYBIT_POSITION_LIST_SAMPLE: dict[str, Any] = json.loads(
    """
{
    "retCode": 0,
    "retMsg": "OK",
    "result": {
        "list": [
            {
                "positionIdx": 0,
                "riskId": 1,
                "riskLimitValue": "150",
                "symbol": "BTCUSD",
                "side": "Sell",
                "size": "300",
                "avgPrice": "27464.50441675",
                "positionValue": "0.01092319",
                "tradeMode": 0,
                "positionStatus": "Normal",
                "autoAddMargin": 1,
                "adlRankIndicator": 2,
                "leverage": "10",
                "breakEvenPrice":"93556.73034991",
                "positionBalance": "0.00139186",
                "markPrice": "28224.50",
                "liqPrice": "",
                "bustPrice": "999999.00",
                "positionMM": "0.0000015",
                "positionMMByMp": "0.0000015",
                "positionIM": "0.00010923",
                "positionIMByMp": "0.00010923",
                "tpslMode": "Full",
                "takeProfit": "0.00",
                "stopLoss": "0.00",
                "trailingStop": "0.00",
                "unrealisedPnl": "-0.00029413",
                "curRealisedPnl": "0.00013123",
                "cumRealisedPnl": "-0.00096902",
                "seq": 5723621632,
                "isReduceOnly": false,
                "mmrSysUpdateTime": "",
                "leverageSysUpdatedTime": "",
                "sessionAvgPrice": "",
                "createdTime": "1676538056258",
                "updatedTime": "1697673600012"
            }
        ],
        "nextPageCursor": "",
        "category": "inverse"
    },
    "retExtInfo": {},
    "time": 1697684980172
}
"""
)


def bybit_position_sample(*rows: dict[str, Any]) -> dict[str, Any]:
    """The docs' answer for linear BTCUSDT: its row once per entry of ``rows``, with that entry's fields changed
    (no entries: the row as published). Only the symbol and category differ from the docs: linear rows carry the
    same fields."""
    document = copy.deepcopy(BYBIT_POSITION_LIST_SAMPLE)
    (row,) = document["result"]["list"]
    listed = [{**row, "symbol": "BTCUSDT", **fields} for fields in rows or ({},)]
    document["result"] |= {"category": "linear", "list": listed}
    return document


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

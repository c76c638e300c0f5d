"""Signing: the pure functions against the notes' vectors, and the bytes on the wire against their signatures."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from exchanges.base import Credentials, PositionMode, Side
from exchanges.bingx import BingXClient
from exchanges.bingx import sign as bingx_sign
from exchanges.bybit import BybitClient
from exchanges.bybit import sign as bybit_sign
from exchanges.errors import InvalidRequest

from .conftest import API_KEY, API_SECRET, BINGX_URL, BYBIT_URL, NOW, bingx_ok, bybit_instrument, bybit_ok, calls_to

BINGX_SAMPLE_SECRET = "mheO6dR8ovSsxZQCOYEFCtelpuxcWGTfHw7te326y6jOwq5WpvFQ9JNljoTwBXZGv5It07m9RXSPpDQEK2w"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "symbol=BTC-USDT&timestamp=1667872120843&side=LONG&leverage=6",
            "4f581ecdb1fa09b9d6e57886b6f70cffed17f82b93399722939e49a38edec2bf",
        ),
        (
            "symbol=BTC-USDT&timestamp=1668159715051side=LONG&leverage=6",
            "8b756b01e7a30f02e19c58a91ab01b29528694316b08a51ecb8dd072942bd47d",
        ),
        (
            "recvWindow=0&symbol=BTC-USDT&timestamp=1696751141337",
            "f8d883609dfd31c824feb4de865b071008dedb1d461451fa70847875c8e7a7a2",
        ),
        (
            "leverage=5&side=BOTH&symbol=BTC-USDT&timestamp=1700000000000",
            "70e583eb9aec3917caea498b7fa6e32e214d6dd7f3d7a236221dedeeb4914a84",
        ),
    ],
)
def test_bingx_sign_matches_vectors(query: str, expected: str) -> None:
    """bingx.sign reproduces the official and verified HMAC-SHA256 hex vectors."""
    assert bingx_sign(BINGX_SAMPLE_SECRET, query) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("category=linear&symbol=BTCUSDT", "8246a593895fdfbe234404b5964466f60c219ba371d95e4cb691394e078f2346"),
        (
            '{"category":"linear","symbol":"BTCUSDT","buyLeverage":"5","sellLeverage":"5"}',
            "c9d7c372b6438ae307df73cc69f0ce295889363017f63a035275483ba3ef21de",
        ),
    ],
)
def test_bybit_sign_matches_vectors(payload: str, expected: str) -> None:
    """bybit.sign reproduces the verified GET and POST vectors (timestamp+key+recvWindow+payload)."""
    assert bybit_sign("test_secret", "1700000000000", "test_key", "5000", payload) == expected


def test_bybit_get_signs_the_exact_query_sent(mocked, bybit) -> None:
    """A Bybit GET signs the query string byte for byte as sent, in insertion order, with no body."""
    mocked.get(f"{BYBIT_URL}/v5/position/list", json=bybit_ok({"list": [{"positionIdx": 0, "symbol": "BTCUSDT"}]}))
    bybit.position_mode("BTCUSDT")
    request = mocked.calls[0].request
    query = urlsplit(request.url).query
    assert query == "category=linear&symbol=BTCUSDT"
    headers = request.headers
    assert headers["X-BAPI-API-KEY"] == API_KEY
    assert headers["X-BAPI-RECV-WINDOW"] == "5000"
    assert headers["X-BAPI-TIMESTAMP"] == "1700000000000"
    expected = bybit_sign(API_SECRET, headers["X-BAPI-TIMESTAMP"], API_KEY, "5000", query)
    assert headers["X-BAPI-SIGN"] == expected
    assert not request.body


def test_bybit_post_signs_the_compact_json_body_sent(mocked, bybit) -> None:
    """A Bybit POST sends compact JSON and signs exactly those bytes."""
    mocked.get(f"{BYBIT_URL}/v5/market/instruments-info", json=bybit_ok({"list": [bybit_instrument()]}))
    mocked.post(f"{BYBIT_URL}/v5/position/set-leverage", json=bybit_ok({}))
    bybit.set_leverage("BTCUSDT", 5, position_mode=PositionMode.ONE_WAY)
    request = calls_to(mocked, "/v5/position/set-leverage")[0].request
    assert request.body == b'{"category":"linear","symbol":"BTCUSDT","buyLeverage":"5","sellLeverage":"5"}'
    assert request.headers["Content-Type"] == "application/json"
    expected = bybit_sign(API_SECRET, "1700000000000", API_KEY, "5000", request.body.decode())
    assert request.headers["X-BAPI-SIGN"] == expected


def test_bybit_cursor_is_sent_verbatim(mocked) -> None:
    """A venue cursor containing percent escapes is sent back unchanged (no re-encoding by requests)."""
    client = BybitClient(None, base_url=BYBIT_URL)
    cursor = "abc%3D%3D%2C1"
    mocked.get(
        f"{BYBIT_URL}/v5/market/instruments-info",
        json=bybit_ok({"list": [bybit_instrument()], "nextPageCursor": cursor}),
    )
    mocked.get(
        f"{BYBIT_URL}/v5/market/instruments-info?category=linear&limit=1000&cursor={cursor}",
        json=bybit_ok({"list": [bybit_instrument("ETHUSDT")], "nextPageCursor": ""}),
    )
    assert set(client.all_symbol_rules()) == {"BTCUSDT", "ETHUSDT"}
    assert urlsplit(mocked.calls[1].request.url).query == f"category=linear&limit=1000&cursor={cursor}"


def test_bingx_signature_is_last_and_covers_the_query_sent(mocked, bingx) -> None:
    """BingX puts every parameter in the query sorted by name, appends signature last, and signs everything
    before it."""
    mocked.post(f"{BINGX_URL}/openApi/swap/v2/trade/order", json=bingx_ok({"order": {"orderId": 1}}))
    bingx.place_market_order(
        symbol="BTCUSDT",
        side=Side.BUY,
        quantity=Decimal("0.001"),
        client_order_id="abc-1",
        position_mode=PositionMode.ONE_WAY,
    )
    request = mocked.calls[0].request
    query = urlsplit(request.url).query
    signed, _, signature = query.rpartition("&signature=")
    assert signed == (
        "clientOrderId=abc-1&positionSide=BOTH&quantity=0.001&recvWindow=5000&side=BUY&symbol=BTC-USDT"
        "&timestamp=1700000000000&type=MARKET"
    )
    assert signature == bingx_sign(API_SECRET, signed)
    assert request.headers["X-BX-APIKEY"] == API_KEY
    assert not request.body


def test_bingx_set_leverage_sends_the_sorted_vector(mocked) -> None:
    """With the docs' sample secret, set leverage sends its parameters sorted and signs exactly those bytes: the
    notes' sorted vector plus recvWindow (digest computed independently with ``openssl dgst -sha256 -hmac``)."""
    client = BingXClient(Credentials(API_KEY, BINGX_SAMPLE_SECRET), base_url=BINGX_URL, clock=lambda: NOW)
    leverage = f"{BINGX_URL}/openApi/swap/v2/trade/leverage"
    mocked.get(leverage, json=bingx_ok({"longLeverage": 1, "shortLeverage": 1, "maxLongLeverage": 50}))
    mocked.post(leverage, json=bingx_ok({"leverage": 5, "symbol": "BTC-USDT"}))
    client.set_leverage("BTCUSDT", 5, position_mode=PositionMode.ONE_WAY)
    (call,) = [c for c in calls_to(mocked, "/openApi/swap/v2/trade/leverage") if c.request.method == "POST"]
    assert urlsplit(call.request.url).query == (
        "leverage=5&recvWindow=5000&side=BOTH&symbol=BTC-USDT&timestamp=1700000000000"
        "&signature=21bffbabc7e52710cc5913452e29272fdee5b2e41ace16630bcfb501bc181eff"
    )
    assert not call.request.body
    client.close()


def test_bingx_refuses_values_that_need_url_encoding(mocked, bingx) -> None:
    """A BingX parameter that would need URL encoding is refused before anything is sent."""
    with pytest.raises(InvalidRequest, match="BingX get order failed"):
        bingx.get_order(symbol="BTCUSDT", client_order_id="a b&c")
    assert len(mocked.calls) == 0

"""Signature, key and timestamp checks over HTTP, and the per-account rate limits, with each venue's codes."""

from __future__ import annotations

import time

from exchanges.base import Venue
from exchanges.limits import REQUEST_LIMITS, request_kind
from exchanges.simulator import Simulator

from .conftest import BINGX_KEY, BYBIT_KEY
from .signing import BingxRaw, BybitRaw, hex_hmac

POSITIONS = "/openApi/swap/v2/user/positions"


def test_bybit_wrong_secret_unknown_key_missing_headers(sim: Simulator, bybit: BybitRaw) -> None:
    """Wrong secret 10004, unknown key 10003, no auth headers at all 10003."""
    wrong = BybitRaw(sim.base_url, BYBIT_KEY, "not-the-secret")
    assert wrong.get("/v5/position/list", category="linear", symbol="BTCUSDT").json()["retCode"] == 10004
    stranger = BybitRaw(sim.base_url, "who-is-this", "x")
    assert stranger.get("/v5/position/list", category="linear", symbol="BTCUSDT").json()["retCode"] == 10003
    bare = bybit.session.get(f"{sim.base_url}/v5/position/list?category=linear&symbol=BTCUSDT").json()
    assert bare["retCode"] == 10003


def test_bybit_signs_the_bytes_sent(sim: Simulator, bybit: BybitRaw) -> None:
    """A POST whose body differs from the signed string by one space is refused: the server checks raw bytes."""
    body = '{"category":"linear","symbol":"BTCUSDT","buyLeverage":"5","sellLeverage":"5"}'
    ts = str(int(time.time() * 1000))
    headers = {
        "X-BAPI-API-KEY": BYBIT_KEY,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": hex_hmac(bybit.secret, f"{ts}{BYBIT_KEY}5000{body}"),
        "Content-Type": "application/json",
    }
    url = f"{sim.base_url}/v5/position/set-leverage"
    assert bybit.session.post(url, data=body.replace(":", ": "), headers=headers).json()["retCode"] == 10004
    assert bybit.session.post(url, data=body, headers=headers).json()["retCode"] == 0


def test_bybit_timestamp_window(bybit: BybitRaw) -> None:
    """Older than recvWindow or 1 s or more ahead: 10002 with the req/server/recv_window message."""
    now = int(time.time() * 1000)
    stale = bybit.get("/v5/position/list", timestamp=now - 6000, category="linear", symbol="BTCUSDT").json()
    assert stale["retCode"] == 10002
    assert f"req_timestamp[{now - 6000}]" in stale["retMsg"] and "recv_window[5000]" in stale["retMsg"]
    ahead = bybit.get("/v5/position/list", timestamp=now + 2000, category="linear", symbol="BTCUSDT").json()
    assert ahead["retCode"] == 10002
    fine = bybit.get("/v5/position/list", timestamp=now - 3000, category="linear", symbol="BTCUSDT").json()
    assert fine["retCode"] == 0


def test_bingx_auth_errors(sim: Simulator, bingx: BingxRaw) -> None:
    """Wrong secret 100001, unknown key 100413, no signature 100412, stale timestamp 100421."""
    assert BingxRaw(sim.base_url, BINGX_KEY, "nope").get(POSITIONS).json()["code"] == 100001
    assert BingxRaw(sim.base_url, "stranger", "x").get(POSITIONS).json()["code"] == 100413
    unsigned = bingx.session.get(f"{sim.base_url}{POSITIONS}?timestamp=1", headers={"X-BX-APIKEY": BINGX_KEY})
    assert unsigned.json()["code"] == 100412
    stale = bingx.get(POSITIONS, timestamp=int(time.time() * 1000) - 7000).json()
    assert (stale["code"], stale["msg"]) == (100421, "Null timestamp or timestamp mismatch")
    widened = bingx.get(POSITIONS, timestamp=int(time.time() * 1000) - 7000, recvWindow=10000).json()
    assert widened["code"] == 0


def test_bingx_form_body_and_mixed_signing(sim: Simulator, bingx: BingxRaw) -> None:
    """POST parameters in a form body, or split between query and body, verify like the docs describe."""
    url = f"{sim.base_url}/openApi/swap/v2/trade/leverage"
    form = {"Content-Type": "application/x-www-form-urlencoded", "X-BX-APIKEY": BINGX_KEY}
    body = f"symbol=BTC-USDT&side=BOTH&leverage=6&timestamp={int(time.time() * 1000)}"
    signed = f"{body}&signature={hex_hmac(bingx.secret, body)}"
    assert bingx.session.post(url, data=signed, headers=form).json()["code"] == 0
    query = f"symbol=BTC-USDT&timestamp={int(time.time() * 1000)}"
    rest = "side=BOTH&leverage=7"
    mixed = f"{url}?{query}&signature={hex_hmac(bingx.secret, query + rest)}"
    assert bingx.session.post(mixed, data=rest, headers=form).json()["code"] == 0
    assert bingx.ok(bingx.get("/openApi/swap/v2/trade/leverage", symbol="BTC-USDT"))["longLeverage"] == 7


def test_bingx_verifies_the_bytes_as_sent_in_any_order(sim: Simulator, bingx: BingxRaw) -> None:
    """Sorted or not, a query signed as sent verifies; signing one order and sending another does not."""
    url = f"{sim.base_url}/openApi/swap/v2/trade/leverage"
    headers = {"X-BX-APIKEY": BINGX_KEY}
    stamp = int(time.time() * 1000)
    ordered = f"leverage=6&recvWindow=5000&side=BOTH&symbol=BTC-USDT&timestamp={stamp}"
    unordered = f"symbol=BTC-USDT&timestamp={stamp}&side=BOTH&leverage=6&recvWindow=5000"
    for query in (ordered, unordered):
        signed = f"{url}?{query}&signature={hex_hmac(bingx.secret, query)}"
        assert bingx.session.post(signed, headers=headers).json()["code"] == 0
    mismatched = f"{url}?{unordered}&signature={hex_hmac(bingx.secret, ordered)}"
    assert bingx.session.post(mismatched, headers=headers).json()["code"] == 100001


def test_bybit_rate_limit_10_per_second(bybit: BybitRaw) -> None:
    """The 11th order within a second is 10006 "Too many visits!", with the limit headers on every call."""
    answers = [bybit.order("BTCUSDT", "Buy", "0.001") for _ in range(11)]
    assert [a.json()["retCode"] for a in answers] == [0] * 10 + [10006]
    assert answers[-1].json()["retMsg"] == "Too many visits!"
    assert [a.headers["X-Bapi-Limit-Status"] for a in answers[:3]] == ["9", "8", "7"]
    assert answers[0].headers["X-Bapi-Limit"] == "10"
    assert int(answers[-1].headers["X-Bapi-Limit-Reset-Timestamp"]) > int(time.time() * 1000) - 1000
    # Reads have their own budget.
    assert bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT").json()["retCode"] == 0


def test_bingx_rate_limit_5_per_second(bingx: BingxRaw) -> None:
    """The 6th call to one endpoint within a second is HTTP 429 with code 100410 and the limit headers."""
    answers = [bingx.get(POSITIONS) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].json()["code"] == 100410
    assert answers[0].headers["X-RateLimit-Requests-Remain"] == "4"
    expires_ms = int(answers[-1].headers["X-RateLimit-Requests-Expire"])
    assert 0 < expires_ms - time.time() * 1000 <= 1000
    time.sleep(expires_ms / 1000 - time.time() + 0.01)
    assert bingx.get(POSITIONS).status_code == 200


def test_clock_skew_moves_the_window(sim: Simulator, bybit: BybitRaw, bingx: BingxRaw) -> None:
    """A venue clock 10 s ahead rejects local timestamps (10002 / 100421) and reports its own time; a client
    that adopts the venue's time is accepted again."""
    sim.faults("bybit").skew(10_000)
    sim.faults("bingx").skew(-2_000)
    venue_ms = int(BybitRaw(sim.base_url).get("/v5/market/time").json()["result"]["timeSecond"]) * 1000
    assert venue_ms - time.time() * 1000 > 8_000
    assert bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT").json()["retCode"] == 10002
    bybit.offset_ms = 10_000
    assert bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT").json()["retCode"] == 0
    # BingX tolerates 5 s either way, so 2 s of skew passes.
    assert bingx.get(POSITIONS).json()["code"] == 0


def test_the_simulator_enforces_the_documented_limits(sim: Simulator) -> None:
    """Every budgeted endpoint the simulator serves has exactly the documented limit (exchanges.limits)."""
    for api in sim.app.apis.values():
        kinds = {route: request_kind(api.venue, *route) for route in api.routes}
        budgeted = {route: kind for route, kind in kinds.items() if kind is not None}
        assert len(budgeted) == len(REQUEST_LIMITS[Venue(api.venue)]) + 1  # two endpoints share one kind
        for route, kind in budgeted.items():
            assert api.routes[route].limit == REQUEST_LIMITS[Venue(api.venue)][kind], route

"""Each fault kind, as a client on the wire sees it."""

from __future__ import annotations

import time

import pytest
import requests

from exchanges.simulator import Simulator

from .conftest import BINGX_KEY, BYBIT_KEY
from .signing import BingxRaw, BybitRaw

BINGX_ORDER = "POST /openApi/swap/v2/trade/order"
BYBIT_ORDER = "/v5/order/create"


def test_fail_next_with_code_applies_nothing(sim: Simulator, bingx: BingxRaw) -> None:
    """``fail_next`` answers the venue code once, with the venue's message, and places nothing."""
    sim.faults("bingx").fail_next(BINGX_ORDER, code=101204)
    failed = bingx.order("BTC-USDT", "BUY", "0.001").json()
    assert (failed["code"], failed["msg"]) == (101204, "Insufficient margin")
    assert sim.orders("bingx", BINGX_KEY) == []
    assert bingx.ok(bingx.get("/openApi/swap/v2/user/positions")) == []


def test_fail_next_only_matches_its_method(sim: Simulator, bingx: BingxRaw) -> None:
    """``"POST /path"`` leaves GETs on the same path alone."""
    sim.faults("bingx").fail_next(BINGX_ORDER, code=80012)
    assert bingx.get("/openApi/swap/v2/trade/order", symbol="BTC-USDT", clientOrderId="x").json()["code"] == 80016
    assert bingx.order("BTC-USDT", "BUY", "0.001").json()["code"] == 80012


def test_fail_next_http_5xx_is_a_bare_gateway_page(sim: Simulator, bybit: BybitRaw) -> None:
    """With an HTTP status >= 500 and no code, the answer is an HTML page, not JSON."""
    sim.faults("bybit").fail_next(BYBIT_ORDER, http_status=503, count=2)
    for _ in range(2):
        response = bybit.order("BTCUSDT", "Buy", "0.001")
        assert response.status_code == 503 and response.headers["Content-Type"] == "text/html"
    assert bybit.order("BTCUSDT", "Buy", "0.001").json()["retCode"] == 0
    assert len(sim.orders("bybit", BYBIT_KEY)) == 1


def test_error_rate(sim: Simulator, bybit: BybitRaw, bingx: BingxRaw) -> None:
    """Rate 1: every call fails with the venue's internal error (or the given HTTP status); rate 0 heals."""
    sim.faults("bybit").error_rate(1.0)
    assert bybit.get("/v5/market/time").json()["retCode"] == 10016
    sim.faults("bingx").error_rate(1.0, http_status=502)
    assert bingx.get("/openApi/swap/v2/server/time").status_code == 502
    sim.faults("bingx").error_rate(0.0)
    assert bingx.get("/openApi/swap/v2/server/time").json()["code"] == 0
    sim.faults("bybit").error_rate(0.5)
    codes = {bybit.get("/v5/market/time").json()["retCode"] for _ in range(30)}
    assert codes == {0, 10016}


def test_timeout_applies_then_holds_the_answer(sim: Simulator, bybit: BybitRaw) -> None:
    """The order is placed; the answer comes too late for the client's read timeout."""
    sim.faults("bybit").timeout(BYBIT_ORDER, seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        bybit.order("BTCUSDT", "Buy", "0.001", orderLinkId="slow", timeout=0.3)
    found = bybit.ok(bybit.get("/v5/order/realtime", category="linear", symbol="BTCUSDT", orderLinkId="slow"))
    assert found["list"][0]["orderStatus"] == "Filled"


def test_drop_response_applies_the_order(sim: Simulator, bingx: BingxRaw) -> None:
    """The connection closes unanswered, but the order exists: the unknown outcome that happened."""
    sim.faults("bingx").drop_response(BINGX_ORDER)
    with pytest.raises(requests.exceptions.ConnectionError):
        bingx.order("BTC-USDT", "BUY", "0.001", clientOrderId="lost-answer")
    order = bingx.ok(bingx.get("/openApi/swap/v2/trade/order", symbol="BTC-USDT", clientOrderId="lost-answer"))
    assert order["order"]["status"] == "FILLED"


def test_drop_request_applies_nothing(sim: Simulator, bybit: BybitRaw) -> None:
    """The connection closes unanswered and nothing was placed: the unknown outcome that did not happen."""
    sim.faults("bybit").drop_request(BYBIT_ORDER)
    with pytest.raises(requests.exceptions.ConnectionError):
        bybit.order("BTCUSDT", "Buy", "0.001", orderLinkId="never")
    assert (
        bybit.ok(bybit.get("/v5/order/history", category="linear", symbol="BTCUSDT", orderLinkId="never"))["list"] == []
    )
    assert sim.positions("bybit", BYBIT_KEY) == []


def test_processing_hides_the_order_for_some_calls(sim: Simulator, bingx: BingxRaw, bybit: BybitRaw) -> None:
    """BingX answers 80019 and Bybit an empty list until the order "shows up"."""
    sim.faults("bingx").processing(calls=2)
    created = bingx.ok(bingx.order("BTC-USDT", "BUY", "0.001", clientOrderId="slow-1"))["order"]
    assert (created["status"], created["executedQty"]) == ("NEW", "0")
    query = {"symbol": "BTC-USDT", "clientOrderId": "slow-1"}
    codes = [bingx.get("/openApi/swap/v2/trade/order", **query).json()["code"] for _ in range(3)]
    assert codes == [80019, 80019, 0]
    sim.faults("bybit").processing(seconds=0.3)
    bybit.ok(bybit.order("BTCUSDT", "Buy", "0.001", orderLinkId="slow-2"))
    params = {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "slow-2"}
    assert bybit.ok(bybit.get("/v5/order/realtime", **params))["list"] == []
    time.sleep(0.35)
    assert bybit.ok(bybit.get("/v5/order/realtime", **params))["list"][0]["orderStatus"] == "Filled"


def test_partial_fill(sim: Simulator, bybit: BybitRaw, bingx: BingxRaw) -> None:
    """Only a fraction fills; the rest is cancelled (nothing left working) and the position holds the fill."""
    sim.faults("bybit").partial_fill("0.4")
    bybit.ok(bybit.order("BTCUSDT", "Buy", "0.010", orderLinkId="part"))
    row = bybit.ok(bybit.get("/v5/order/realtime", category="linear", symbol="BTCUSDT", orderLinkId="part"))
    row = row["list"][0]
    assert (row["orderStatus"], row["qty"], row["cumExecQty"], row["leavesQty"]) == (
        "PartiallyFilled",
        "0.01",
        "0.004",
        "0",
    )
    assert sim.positions("bybit", BYBIT_KEY)[0]["size"] == "0.004"
    sim.faults("bingx").partial_fill("0.5")
    order = bingx.ok(bingx.order("ETH-USDT", "SELL", "0.11"))["order"]
    assert (order["status"], order["executedQty"]) == ("PARTIALLY_FILLED", "0.05")
    queried = bingx.ok(bingx.get("/openApi/swap/v2/trade/order", symbol="ETH-USDT", orderId=order["orderId"]))
    assert queried["order"]["origQty"] == "0.11" and queried["order"]["status"] == "PARTIALLY_FILLED"


def test_latency_is_half_in_half_out(sim: Simulator, bybit: BybitRaw) -> None:
    """A call takes the configured latency; clearing the faults removes it."""
    sim.faults("bybit").latency(200)
    started = time.monotonic()
    bybit.get("/v5/market/time")
    assert 0.2 <= time.monotonic() - started < 0.35
    sim.clear_faults("bybit")
    started = time.monotonic()
    bybit.get("/v5/market/time")
    assert time.monotonic() - started < 0.1


def test_unknown_fault_kind_is_refused(sim: Simulator) -> None:
    """A typo in a fault kind fails loudly instead of silently doing nothing."""
    from exchanges.simulator import ControlError

    with pytest.raises(ControlError):
        sim._call("add_fault", venue="bybit", kind="explode")
    with pytest.raises(ControlError):
        sim.faults("kraken").latency(5)

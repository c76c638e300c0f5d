"""Each fault kind, as a client on the wire sees it."""

from __future__ import annotations

import time

import pytest
import requests

from exchanges.simulator import Simulator

from .conftest import BINGX_KEY, BYBIT_KEY
from .signing import BingxRaw, BybitRaw

BINGX_ORDER = "POST /openApi/swap/v2/trade/order"
BINGX_QUERY = "/openApi/swap/v2/trade/order"
BYBIT_ORDER = "/v5/order/create"
POSITIONS = "/openApi/swap/v2/user/positions"


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


def test_not_found_hides_a_filled_order_from_every_order_query(
    sim: Simulator, bybit: BybitRaw, bingx: BingxRaw
) -> None:
    """The order fills and the position shows it at once, but order queries answer "unknown order" (Bybit an empty
    list, BingX 80016) by either id until the time is up."""
    sim.faults("bybit").not_found(0.5)
    sim.faults("bingx").not_found(0.5)
    placed = bybit.ok(bybit.order("BTCUSDT", "Buy", "0.001", orderLinkId="late-1"))
    created = bingx.ok(bingx.order("BTC-USDT", "BUY", "0.001", clientOrderId="late-2"))["order"]
    assert created["status"] == "FILLED"
    assert sim.positions("bybit", BYBIT_KEY)[0]["size"] == "0.001"
    assert bingx.ok(bingx.get("/openApi/swap/v2/user/positions"))[0]["positionAmt"] == "0.001"
    bybit_queries = [
        (path, ids)
        for path in ("/v5/order/realtime", "/v5/order/history")
        for ids in ({"orderLinkId": "late-1"}, {"orderId": placed["orderId"]})
    ]
    for path, ids in bybit_queries:
        assert bybit.ok(bybit.get(path, category="linear", symbol="BTCUSDT", **ids))["list"] == []
    for ids in ({"clientOrderId": "late-2"}, {"orderId": created["orderId"]}):
        answer = bingx.get(BINGX_QUERY, symbol="BTC-USDT", **ids).json()
        assert (answer["code"], answer["msg"]) == (80016, "order does not exist")
    time.sleep(0.55)
    for path, ids in bybit_queries:
        assert (
            bybit.ok(bybit.get(path, category="linear", symbol="BTCUSDT", **ids))["list"][0]["orderLinkId"] == "late-1"
        )
    for ids in ({"clientOrderId": "late-2"}, {"orderId": created["orderId"]}):
        assert bingx.ok(bingx.get(BINGX_QUERY, symbol="BTC-USDT", **ids))["order"]["status"] == "FILLED"


def test_not_found_counts_orders(sim: Simulator, bingx: BingxRaw) -> None:
    """``count`` orders are affected, the next one is visible at once."""
    sim.faults("bingx").not_found(30, count=2)
    for n in range(3):
        bingx.ok(bingx.order("BTC-USDT", "BUY", "0.001", clientOrderId=f"n-{n}"))
    codes = [bingx.get(BINGX_QUERY, symbol="BTC-USDT", clientOrderId=f"n-{n}").json()["code"] for n in range(3)]
    assert codes == [80016, 80016, 0]


def test_outage_is_timed_and_applies_nothing(sim: Simulator, bybit: BybitRaw) -> None:
    """Every call to the endpoint is a bare gateway page until the time is up, however many arrive; others pass."""
    sim.faults("bybit").outage(BYBIT_ORDER, seconds=0.4, http_status=502)
    for _ in range(4):
        response = bybit.order("BTCUSDT", "Buy", "0.001")
        assert response.status_code == 502 and response.headers["Content-Type"] == "text/html"
    assert bybit.ok(bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT"))["list"][0]["size"] == "0"
    assert sim.orders("bybit", BYBIT_KEY) == []
    time.sleep(0.45)
    assert bybit.order("BTCUSDT", "Buy", "0.001").json()["retCode"] == 0


def test_rate_block_answers_the_venues_own_refusal(sim: Simulator, bybit: BybitRaw, bingx: BingxRaw) -> None:
    """Bybit 10006 and BingX HTTP 429 + 100410, with the limit headers pointing at the block's end; not applied."""
    until_ms = sim.faults("bybit").rate_block(BYBIT_ORDER, seconds=0.4)["rules"][0]["until_ms"]
    refused = bybit.order("BTCUSDT", "Buy", "0.001")
    assert (refused.status_code, refused.json()["retCode"], refused.json()["retMsg"]) == (
        200,
        10006,
        "Too many visits!",
    )
    assert (refused.headers["X-Bapi-Limit"], refused.headers["X-Bapi-Limit-Status"]) == ("10", "0")
    assert int(refused.headers["X-Bapi-Limit-Reset-Timestamp"]) == until_ms
    until_ms = sim.faults("bingx").rate_block(POSITIONS, seconds=0.4)["rules"][0]["until_ms"]
    limited = bingx.get(POSITIONS)
    assert (limited.status_code, limited.json()["code"]) == (429, 100410)
    assert limited.headers["X-RateLimit-Requests-Remain"] == "0"
    assert int(limited.headers["X-RateLimit-Requests-Expire"]) == until_ms
    assert sim.orders("bybit", BYBIT_KEY) == []
    time.sleep(0.45)
    assert bybit.order("BTCUSDT", "Buy", "0.001").json()["retCode"] == 0
    assert bingx.get(POSITIONS).status_code == 200


@pytest.mark.parametrize(("venue", "status", "body"), [("bybit", 403, "access too frequent"), ("bingx", 418, "")])
def test_rate_block_escalates_to_a_venue_wide_ban(sim: Simulator, venue: str, status: int, body: str) -> None:
    """Past ``ban_after`` refused calls, every call to the venue (any endpoint, any account, public too) answers the
    ban status for ``ban_seconds``."""
    sim.add_account(venue, "one", "s1")
    sim.add_account(venue, "two", "s2")
    raw = {"bybit": BybitRaw, "bingx": BingxRaw}[venue]
    one, two, public = raw(sim.base_url, "one", "s1"), raw(sim.base_url, "two", "s2"), raw(sim.base_url)
    wallet = {"bybit": "/v5/account/wallet-balance", "bingx": "/openApi/swap/v3/user/balance"}[venue]
    wallet_params = {"accountType": "UNIFIED"} if venue == "bybit" else {}
    server_time = {"bybit": "/v5/market/time", "bingx": "/openApi/swap/v2/server/time"}[venue]
    sim.faults(venue).rate_block(wallet, seconds=0.3, ban_after=2, ban_seconds=0.6)
    statuses = [one.get(wallet, **wallet_params).status_code for _ in range(3)]
    assert statuses == ([200, 200] if venue == "bybit" else [429, 429]) + [status]
    for answer in (two.get(wallet, **wallet_params), public.get(server_time)):
        assert answer.status_code == status and body in answer.text
    assert sim.faults(venue).describe()["banned_until_ms"] > 0
    time.sleep(0.65)
    assert public.get(server_time).status_code == 200
    assert two.get(wallet, **wallet_params).status_code == 200


def test_fail_after_apply_places_then_answers_the_code(sim: Simulator, bybit: BybitRaw, bingx: BingxRaw) -> None:
    """The order exists although the venue answered an error: BingX 80019 in its own words, Bybit 10016."""
    sim.faults("bingx").fail_after_apply(BINGX_ORDER, code=80019)
    answer = bingx.order("BTC-USDT", "BUY", "0.001", clientOrderId="placed-anyway").json()
    assert (answer["code"], answer["msg"]) == (80019, "The order is being processed. Please try again later.")
    assert [o["client_id"] for o in sim.orders("bingx", BINGX_KEY)] == ["placed-anyway"]
    assert bingx.ok(bingx.get(BINGX_QUERY, symbol="BTC-USDT", clientOrderId="placed-anyway"))["order"]["status"]
    sim.faults("bybit").fail_after_apply(BYBIT_ORDER, code=10016, message="Server Timeout")
    failed = bybit.order("BTCUSDT", "Buy", "0.001", orderLinkId="done-anyway").json()
    assert (failed["retCode"], failed["retMsg"]) == (10016, "Server Timeout")
    assert sim.positions("bybit", BYBIT_KEY)[0]["size"] == "0.001"


def test_fail_after_apply_waits_for_a_call_the_venue_accepts(sim: Simulator, bingx: BingxRaw) -> None:
    """A call the venue refuses answers its own refusal and leaves the rule for the next accepted one."""
    sim.faults("bingx").fail_after_apply(BINGX_ORDER, code=80019)
    assert bingx.order("BTC-USDT", "BUY", "50").json()["code"] == 101204  # insufficient margin: nothing applied
    assert bingx.order("BTC-USDT", "BUY", "0.001").json()["code"] == 80019
    assert bingx.order("BTC-USDT", "BUY", "0.001").json()["code"] == 0
    assert len(sim.orders("bingx", BINGX_KEY)) == 2


def test_clear_faults_ends_timed_rules_and_bans(sim: Simulator, bingx: BingxRaw) -> None:
    """clear_faults lifts outages, rate blocks and a ban at once, long before they would end."""
    faults = sim.faults("bingx")
    faults.rate_block(POSITIONS, seconds=60, ban_after=0, ban_seconds=60)
    assert bingx.get(POSITIONS).status_code == 418
    faults.outage("/openApi/swap/v2/server/time", seconds=60)
    sim.clear_faults("bingx")
    assert faults.describe()["rules"] == [] and faults.describe()["banned_until_ms"] == 0
    assert bingx.get(POSITIONS).status_code == 200
    assert bingx.get("/openApi/swap/v2/server/time").status_code == 200


def test_timed_fault_arguments_are_checked(sim: Simulator) -> None:
    """An outage needs a 5xx, timed rules need a duration, a ban needs its length."""
    from exchanges.simulator import ControlError

    faults = sim.faults("bybit")
    for bad in (
        lambda: faults.outage("*", seconds=1, http_status=200),
        lambda: faults.outage("*", seconds=0),
        lambda: faults.rate_block("*", seconds=1, ban_after=3),
        lambda: sim._call("add_fault", venue="bybit", kind="fail_after_apply"),
    ):
        with pytest.raises(ControlError):
            bad()

"""Every Bybit v5 endpoint the simulator serves, in both position modes, with the venue's codes."""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator import Simulator

from .conftest import BYBIT_KEY
from .signing import BybitRaw


def test_market_time_and_envelope(sim: Simulator) -> None:
    """``/v5/market/time`` answers in the v5 envelope with seconds and nanoseconds."""
    payload = BybitRaw(sim.base_url).get("/v5/market/time").json()
    assert set(payload) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    assert payload["retExtInfo"] == {}
    assert int(payload["result"]["timeNano"]) // 10**9 == int(payload["result"]["timeSecond"])


def test_instruments_info_rules_and_paging(sim: Simulator) -> None:
    """Instruments carry per-venue rules; ``limit`` + ``nextPageCursor`` page through every symbol."""
    public = BybitRaw(sim.base_url)
    btc = public.ok(public.get("/v5/market/instruments-info", category="linear", symbol="BTCUSDT"))["list"][0]
    assert btc["lotSizeFilter"]["qtyStep"] == "0.001"
    assert btc["lotSizeFilter"]["minNotionalValue"] == "5"
    assert btc["leverageFilter"]["maxLeverage"] == "100.00"
    assert btc["fundingInterval"] == 480
    seen, cursor = [], ""
    while True:
        params = {"category": "linear", "limit": 2, **({"cursor": cursor} if cursor else {})}
        result = public.ok(public.get("/v5/market/instruments-info", **params))
        seen += [row["symbol"] for row in result["list"]]
        cursor = result["nextPageCursor"]
        if not cursor:
            break
    assert seen == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"]
    assert public.get("/v5/market/instruments-info").json()["retCode"] == 10001


def test_tickers_funding_fields(sim: Simulator) -> None:
    """Tickers report the rate, the absolute next instant (ms string) and a whole-hour interval."""
    public = BybitRaw(sim.base_url)
    row = public.ok(public.get("/v5/market/tickers", category="linear", symbol="DOGEUSDT"))["list"][0]
    market = sim.markets()["DOGEUSDT"]["bybit"]
    assert row["nextFundingTime"] == str(market["next_ms"])
    assert row["fundingIntervalHour"] == "8"
    assert row["fundingRate"] == market["rate"]
    assert Decimal(row["markPrice"]) > 0 and Decimal(row["indexPrice"]) > 0
    assert public.get("/v5/market/tickers", category="linear", symbol="NOPEUSDT").json()["retCode"] == 10001


def test_set_leverage_rules(bybit: BybitRaw) -> None:
    """Setting works, the same value again is 110043, above the symbol's max is 10001 with a clear message."""
    body = {"category": "linear", "symbol": "DOGEUSDT", "buyLeverage": "7", "sellLeverage": "7"}
    assert bybit.post("/v5/position/set-leverage", body).json()["retCode"] == 0
    assert bybit.post("/v5/position/set-leverage", body).json()["retCode"] == 110043
    too_high = bybit.post("/v5/position/set-leverage", {**body, "buyLeverage": "76", "sellLeverage": "76"}).json()
    assert too_high["retCode"] == 10001 and "75" in too_high["retMsg"]
    row = bybit.ok(bybit.get("/v5/position/list", category="linear", symbol="DOGEUSDT"))["list"][0]
    assert row["leverage"] == "7"


def test_position_list_one_way_flat_row(bybit: BybitRaw) -> None:
    """One-way mode returns one ``positionIdx 0`` row even when flat, with size "0" and side ""."""
    rows = bybit.ok(bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT"))["list"]
    assert [(r["positionIdx"], r["size"], r["side"]) for r in rows] == [(0, "0", "")]
    assert bybit.ok(bybit.get("/v5/position/list", category="linear", settleCoin="USDT"))["list"] == []
    assert bybit.get("/v5/position/list", category="linear").json()["retCode"] == 10001


def test_one_way_open_and_reduce_only_close(sim: Simulator, bybit: BybitRaw) -> None:
    """A Buy opens a long at mark plus slippage with the taker fee; a reduce-only Sell closes it."""
    result = bybit.ok(bybit.order("BTCUSDT", "Buy", "0.010", orderLinkId="open-1"))
    assert result["orderLinkId"] == "open-1" and result["orderId"]
    row = bybit.ok(bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT"))["list"][0]
    assert (row["positionIdx"], row["side"], row["size"]) == (0, "Buy", "0.01")
    order = bybit.ok(bybit.get("/v5/order/realtime", category="linear", symbol="BTCUSDT", orderLinkId="open-1"))
    order = order["list"][0]
    assert order["orderStatus"] == "Filled" and order["cumExecQty"] == "0.01"
    mark = Decimal(sim.markets()["BTCUSDT"]["bybit"]["mark"])
    assert Decimal(order["avgPrice"]) > mark
    fee = Decimal(order["cumExecValue"]) * Decimal("0.00055")
    assert Decimal(order["cumFeeDetail"]["USDT"]) == fee.quantize(Decimal("0.00000001"))
    assert order["reduceOnly"] is False and order["positionIdx"] == 0
    bybit.ok(bybit.order("BTCUSDT", "Sell", "0.02", reduceOnly=True, orderLinkId="close-1"))
    row = bybit.ok(bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT"))["list"][0]
    assert (row["size"], row["side"]) == ("0", "")
    closed = bybit.ok(bybit.get("/v5/order/history", category="linear", symbol="BTCUSDT", orderLinkId="close-1"))
    assert closed["list"][0]["qty"] == "0.01" and closed["list"][0]["reduceOnly"] is True


def test_order_rejections(bybit: BybitRaw) -> None:
    """Flat reduce-only 110017, duplicate link id 110072, idx mismatch 10001, small 10001/110094, margin 110007."""
    flat = bybit.order("BTCUSDT", "Sell", "0.001", reduceOnly=True).json()
    assert flat["retCode"] == 110017
    assert flat["retMsg"] == "current position is zero, cannot fix reduce-only order qty"
    bybit.ok(bybit.order("BTCUSDT", "Buy", "0.001", orderLinkId="dup"))
    assert bybit.order("BTCUSDT", "Buy", "0.001", orderLinkId="dup").json()["retCode"] == 110072
    mismatch = bybit.order("BTCUSDT", "Buy", "0.001", positionIdx=1).json()
    assert (mismatch["retCode"], mismatch["retMsg"]) == (10001, "position idx not match position mode")
    assert bybit.order("BTCUSDT", "Buy", "0.0001").json()["retCode"] == 10001
    assert bybit.order("XRPUSDT", "Buy", "1").json()["retCode"] == 110094
    assert bybit.order("BTCUSDT", "Buy", "100").json()["retCode"] == 110007
    assert bybit.order("BTCUSDT", "Buy", "0.001", orderLinkId="x" * 37).json()["retCode"] == 10001


def test_order_lookup_not_found_is_empty(bybit: BybitRaw) -> None:
    """Unknown ids give an empty list, not an error; orderId lookups work too."""
    for path in ("/v5/order/realtime", "/v5/order/history"):
        assert bybit.ok(bybit.get(path, category="linear", symbol="BTCUSDT", orderLinkId="nope"))["list"] == []
    order_id = bybit.ok(bybit.order("BTCUSDT", "Buy", "0.001"))["orderId"]
    found = bybit.ok(bybit.get("/v5/order/history", category="linear", symbol="BTCUSDT", orderId=order_id))
    assert found["list"][0]["orderId"] == order_id


def test_hedge_mode_rows_and_orders(bybit_hedge: BybitRaw) -> None:
    """Hedge mode has rows ``positionIdx`` 1 and 2; Buy/1 opens long, Sell/2 opens short, Sell/1 closes the long."""
    client = bybit_hedge
    rows = client.ok(client.get("/v5/position/list", category="linear", symbol="ETHUSDT"))["list"]
    assert [r["positionIdx"] for r in rows] == [1, 2]
    assert client.order("ETHUSDT", "Buy", "0.1").json()["retCode"] == 10001  # positionIdx 0 in hedge mode
    client.ok(client.order("ETHUSDT", "Buy", "0.1", positionIdx=1))
    client.ok(client.order("ETHUSDT", "Sell", "0.2", positionIdx=2))
    rows = client.ok(client.get("/v5/position/list", category="linear", symbol="ETHUSDT"))["list"]
    assert [(r["positionIdx"], r["side"], r["size"]) for r in rows] == [(1, "Buy", "0.1"), (2, "Sell", "0.2")]
    client.ok(client.order("ETHUSDT", "Sell", "0.1", positionIdx=1, reduceOnly=True))
    client.ok(client.order("ETHUSDT", "Buy", "0.2", positionIdx=2, reduceOnly=True))
    assert client.ok(client.get("/v5/position/list", category="linear", settleCoin="USDT"))["list"] == []
    assert client.order("ETHUSDT", "Sell", "0.1", positionIdx=1, reduceOnly=True).json()["retCode"] == 110017


def test_switch_mode(sim: Simulator, bybit: BybitRaw) -> None:
    """Mode 3 switches to hedge, the same mode again is 110025, a position blocks switching with 110024."""
    body = {"category": "linear", "symbol": "BTCUSDT", "mode": 3}
    assert bybit.post("/v5/position/switch-mode", body).json()["retCode"] == 0
    assert bybit.post("/v5/position/switch-mode", body).json()["retCode"] == 110025
    rows = bybit.ok(bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT"))["list"]
    assert [r["positionIdx"] for r in rows] == [1, 2]
    bybit.ok(bybit.order("BTCUSDT", "Buy", "0.001", positionIdx=1))
    blocked = bybit.post("/v5/position/switch-mode", {**body, "mode": 0}).json()
    assert blocked["retCode"] == 110024
    # By coin: every symbol without a position follows; BTCUSDT keeps hedge because it holds a position.
    assert (
        bybit.post("/v5/position/switch-mode", {"category": "linear", "coin": "USDT", "mode": 3}).json()["retCode"] == 0
    )
    assert sim.account("bybit", BYBIT_KEY)["hedge"] is True
    assert (
        bybit.post("/v5/position/switch-mode", {"category": "linear", "coin": "USDT", "mode": 9}).json()["retCode"]
        == 10001
    )


def test_wallet_balance(bybit: BybitRaw) -> None:
    """UNIFIED wallet: totals and the USDT coin row move with fees and initial margin."""
    result = bybit.ok(bybit.get("/v5/account/wallet-balance", accountType="UNIFIED", coin="USDT"))["list"][0]
    assert result["totalWalletBalance"] == "10000" and result["totalAvailableBalance"] == "10000"
    assert result["coin"][0]["coin"] == "USDT"
    bybit.ok(bybit.order("BTCUSDT", "Buy", "0.01"))
    result = bybit.ok(bybit.get("/v5/account/wallet-balance", accountType="UNIFIED", coin="USDT"))["list"][0]
    assert Decimal(result["totalWalletBalance"]) < 10000
    assert Decimal(result["totalInitialMargin"]) > 0
    assert Decimal(result["totalAvailableBalance"]) < Decimal(result["totalEquity"])
    assert bybit.get("/v5/account/wallet-balance", accountType="CONTRACT").json()["retCode"] == 10001


def test_query_api_permissions(sim: Simulator, bybit: BybitRaw) -> None:
    """Trade-only keys: ContractTrade Order+Position, no Wallet rights, readOnly 0; a read-only key cannot trade."""
    result = bybit.ok(bybit.get("/v5/user/query-api"))
    assert result["permissions"]["ContractTrade"] == ["Order", "Position"]
    assert result["permissions"]["Wallet"] == [] and result["readOnly"] == 0
    sim.set_permissions("bybit", BYBIT_KEY, can_trade=False, can_withdraw=True)
    result = bybit.ok(bybit.get("/v5/user/query-api"))
    assert result["readOnly"] == 1 and "Withdraw" in result["permissions"]["Wallet"]
    assert bybit.order("BTCUSDT", "Buy", "0.001").json()["retCode"] == 10005


def test_unknown_path_is_404(sim: Simulator) -> None:
    """Wrong paths answer HTTP 404 like the venue."""
    response = BybitRaw(sim.base_url).get("/v5/nothing/here")
    assert response.status_code == 404

"""Every BingX swap endpoint the simulator serves, in both position modes, with the venue's codes."""

from __future__ import annotations

import json
from decimal import Decimal

from exchanges.simulator import Simulator

from .conftest import BINGX_KEY
from .signing import BingxRaw

ORDER = "/openApi/swap/v2/trade/order"
LEVERAGE = "/openApi/swap/v2/trade/leverage"
DUAL = "/openApi/swap/v1/positionSide/dual"


def test_server_time_and_envelope(sim: Simulator) -> None:
    """Server time in ``data.serverTime`` (ms) inside ``{code, msg, data, timestamp}``."""
    payload = BingxRaw(sim.base_url).get("/openApi/swap/v2/server/time").json()
    assert payload["code"] == 0 and payload["msg"] == ""
    assert abs(payload["data"]["serverTime"] - payload["timestamp"]) < 1000


def test_contracts(sim: Simulator) -> None:
    """Contract rules: hyphenated symbols, precision, minimums and per-venue max leverage."""
    public = BingxRaw(sim.base_url)
    rows = public.ok(public.get("/openApi/swap/v2/quote/contracts"))
    assert [r["symbol"] for r in rows] == ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT"]
    btc = public.ok(public.get("/openApi/swap/v2/quote/contracts", symbol="BTC-USDT"))[0]
    assert (btc["quantityPrecision"], btc["tradeMinQuantity"], btc["tradeMinUSDT"]) == (4, 0.0001, 2)
    assert (btc["maxLongLeverage"], btc["status"], btc["apiStateOpen"], btc["asset"]) == (125, 1, "true", "BTC")
    doge = public.ok(public.get("/openApi/swap/v2/quote/contracts", symbol="DOGE-USDT"))[0]
    assert doge["maxShortLeverage"] == 50 and doge["takerFeeRate"] == 0.0005


def test_premium_index_object_or_list(sim: Simulator) -> None:
    """With ``symbol`` the data is an object, without it a list; times are absolute ms."""
    public = BingxRaw(sim.base_url)
    one = public.ok(public.get("/openApi/swap/v2/quote/premiumIndex", symbol="ETH-USDT"))
    assert one["symbol"] == "ETH-USDT" and one["fundingIntervalHours"] == 8
    assert one["nextFundingTime"] == sim.markets()["ETHUSDT"]["bingx"]["next_ms"]
    assert len(public.ok(public.get("/openApi/swap/v2/quote/premiumIndex"))) == 5
    assert public.get("/openApi/swap/v2/quote/premiumIndex", symbol="NOPE-USDT").json()["code"] == 109500


def test_leverage_one_way(bingx: BingxRaw) -> None:
    """One-way mode: side BOTH only (109400 with the venue's message otherwise), max 101414, GET reads it back."""
    assert bingx.ok(bingx.post(LEVERAGE, symbol="BTC-USDT", side="BOTH", leverage=20))["leverage"] == 20
    wrong = bingx.post(LEVERAGE, symbol="BTC-USDT", side="LONG", leverage=20).json()
    assert wrong == {**wrong, "code": 109400, "msg": "In the One-way mode, the 'Side' field can only be set to BOTH"}
    assert bingx.post(LEVERAGE, symbol="BTC-USDT", side="BOTH", leverage=126).json()["code"] == 101414
    data = bingx.ok(bingx.get(LEVERAGE, symbol="BTC-USDT"))
    assert (data["longLeverage"], data["shortLeverage"], data["maxLongLeverage"]) == (20, 20, 125)


def test_leverage_hedge(bingx_hedge: BingxRaw) -> None:
    """Hedge mode: LONG and SHORT are set separately; BOTH is refused with the venue's message."""
    client = bingx_hedge
    wrong = client.post(LEVERAGE, symbol="ETH-USDT", side="BOTH", leverage=3).json()
    assert (wrong["code"], wrong["msg"]) == (
        109400,
        "In the Hedge mode, the 'Side' field can only be set to LONG or SHORT",
    )
    client.ok(client.post(LEVERAGE, symbol="ETH-USDT", side="LONG", leverage=3))
    client.ok(client.post(LEVERAGE, symbol="ETH-USDT", side="SHORT", leverage=4))
    data = client.ok(client.get(LEVERAGE, symbol="ETH-USDT"))
    assert (data["longLeverage"], data["shortLeverage"]) == (3, 4)
    wrong_order = client.order("ETH-USDT", "BUY", "0.1", "BOTH").json()
    assert (wrong_order["code"], wrong_order["msg"]) == (
        109400,
        "In the Hedge mode, the 'PositionSide' field can only be set to LONG or SHORT",
    )


def test_dual_side_position(bingx: BingxRaw) -> None:
    """positionSide/dual reads and switches the mode; an open position blocks it with 109401."""
    assert bingx.ok(bingx.get(DUAL)) == {"dualSidePosition": "false"}
    assert bingx.ok(bingx.post(DUAL, dualSidePosition="true")) == {"dualSidePosition": "true"}
    assert bingx.ok(bingx.get(DUAL)) == {"dualSidePosition": "true"}
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.001", "LONG"))
    assert bingx.post(DUAL, dualSidePosition="false").json()["code"] == 109401


def test_one_way_orders_and_query(sim: Simulator, bingx: BingxRaw) -> None:
    """BOTH orders open and reduce-only close; ids are exact int64 JSON numbers above 2**53."""
    response = bingx.order("BTC-USDT", "SELL", "0.01", clientOrderID="LEG-A")
    order = bingx.ok(response)["order"]
    assert order["orderId"] > 2**53 and str(order["orderId"]) in response.text
    assert f'"orderId":{order["orderId"]}' in response.text  # a number, not a string
    assert float(order["orderId"]) != order["orderId"]  # parsing it as a double would corrupt it
    assert order["clientOrderID"] == "leg-a" and order["status"] == "FILLED"
    assert (order["side"], order["positionSide"], order["executedQty"]) == ("SELL", "BOTH", "0.01")
    rows = bingx.ok(bingx.get("/openApi/swap/v2/user/positions", symbol="BTC-USDT"))
    assert [(r["positionSide"], r["positionAmt"]) for r in rows] == [("SHORT", "0.01")]
    queried = bingx.ok(bingx.get(ORDER, symbol="BTC-USDT", clientOrderId="LEG-A"))["order"]
    assert queried["orderId"] == order["orderId"] and queried["clientOrderId"] == "leg-a"
    assert Decimal(queried["commission"]) < 0 and queried["status"] == "FILLED"
    fee = Decimal(queried["cumQuote"]) * Decimal("0.0005")
    assert -Decimal(queried["commission"]) == fee.quantize(Decimal("0.00000001"))
    by_id = bingx.ok(bingx.get(ORDER, symbol="BTC-USDT", orderId=order["orderId"]))["order"]
    assert by_id["clientOrderId"] == "leg-a"
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.02", reduceOnly="true", clientOrderId="leg-a-close"))
    assert bingx.ok(bingx.get("/openApi/swap/v2/user/positions", symbol="BTC-USDT")) == []
    assert json.loads(response.text)["data"]["order"]["orderId"] == order["orderId"]


def test_order_rejections(bingx: BingxRaw) -> None:
    """Missing positionSide is LONG (109400 in one-way), duplicates 101481, margin 101204, not found 80016."""
    missing = bingx.post(ORDER, symbol="BTC-USDT", side="BUY", type="MARKET", quantity="0.001").json()
    assert missing["code"] == 109400
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.001", clientOrderId="dup-1"))
    duplicate = bingx.order("BTC-USDT", "BUY", "0.001", clientOrderId="DUP-1").json()
    assert (duplicate["code"], duplicate["msg"]) == (101481, "clientOrderID cannot be repeated")
    assert bingx.order("BTC-USDT", "BUY", "100").json()["code"] == 101204
    assert bingx.order("ETH-USDT", "SELL", "0.01", reduceOnly="true").json()["code"] == 80017
    assert bingx.get(ORDER, symbol="BTC-USDT", clientOrderId="nope").json()["code"] == 80016


def test_quantity_precision_is_truncated(bingx: BingxRaw) -> None:
    """Excess precision is truncated, not rejected; the minimum notional is checked after truncation."""
    order = bingx.ok(bingx.order("BTC-USDT", "BUY", "0.00129"))["order"]
    assert order["executedQty"] == "0.0012"
    assert bingx.order("XRP-USDT", "BUY", "1.9").json()["code"] == 101400  # 1 XRP is 0.6 USDT < 2 USDT


def test_hedge_orders(bingx_hedge: BingxRaw) -> None:
    """Hedge: LONG/SHORT open, the opposite side on the same positionSide closes; reduceOnly is refused."""
    client = bingx_hedge
    client.ok(client.order("ETH-USDT", "BUY", "0.1", "LONG"))
    client.ok(client.order("ETH-USDT", "SELL", "0.3", "SHORT"))
    rows = client.ok(client.get("/openApi/swap/v2/user/positions"))
    assert sorted((r["positionSide"], r["positionAmt"]) for r in rows) == [("LONG", "0.1"), ("SHORT", "0.3")]
    refused = client.order("ETH-USDT", "SELL", "0.1", "LONG", reduceOnly="true").json()
    assert refused["code"] == 109400 and "ReduceOnly" in refused["msg"]
    client.ok(client.order("ETH-USDT", "SELL", "0.1", "LONG"))
    client.ok(client.order("ETH-USDT", "BUY", "0.3", "SHORT"))
    assert client.ok(client.get("/openApi/swap/v2/user/positions")) == []


def test_balance_v3(bingx: BingxRaw) -> None:
    """v3 balance is a list with a USDT row (and USDC); margin moves with a position."""
    rows = bingx.ok(bingx.get("/openApi/swap/v3/user/balance"))
    usdt = next(r for r in rows if r["asset"] == "USDT")
    assert usdt["balance"] == "10000" and usdt["availableMargin"] == "10000" and usdt["freezedMargin"] == "0"
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.01"))
    usdt = next(r for r in bingx.ok(bingx.get("/openApi/swap/v3/user/balance")) if r["asset"] == "USDT")
    assert Decimal(usdt["usedMargin"]) > 0 and Decimal(usdt["balance"]) < 10000


def test_income_empty_and_permissions(sim: Simulator, bingx: BingxRaw) -> None:
    """No funding yet: empty income; permissions come bare (no envelope) as integer codes, read and perpetual
    trading by default, withdraw (5) visible when granted."""
    assert bingx.ok(bingx.get("/openApi/swap/v2/user/income", incomeType="FUNDING_FEE")) == []
    permissions = "/openApi/v1/account/apiPermissions"
    assert bingx.get(permissions).json() == {
        "apiKey": BINGX_KEY,
        "permissions": [2, 3],
        "ipAddresses": [],
        "note": "",
    }
    sim.set_permissions("bingx", BINGX_KEY, can_trade=False, can_withdraw=True)
    assert bingx.get(permissions).json()["permissions"] == [2, 5]
    assert bingx.order("BTC-USDT", "BUY", "0.001").json()["code"] == 100004
    assert BingxRaw(sim.base_url, BINGX_KEY, "nope").get(permissions).json()["code"] == 100001

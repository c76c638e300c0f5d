"""BingXClient operations against responses-mocked swap endpoints, in one-way and hedge mode."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from exchanges.base import ExchangeClient, OrderStatus, PositionMode, PositionSide, Side
from exchanges.bingx import BingXClient
from exchanges.errors import (
    AuthenticationError,
    InvalidLeverage,
    MalformedResponse,
    OrderNotFound,
    PermissionDenied,
    SymbolNotFound,
)

from .conftest import API_KEY, BINGX_URL, NOW_MS, bingx_contract, bingx_err, bingx_ok, calls_to, params_of

CONTRACTS = f"{BINGX_URL}/openApi/swap/v2/quote/contracts"
PREMIUM = f"{BINGX_URL}/openApi/swap/v2/quote/premiumIndex"
LEVERAGE = f"{BINGX_URL}/openApi/swap/v2/trade/leverage"
ORDER = f"{BINGX_URL}/openApi/swap/v2/trade/order"
BIG_ORDER_ID = "1735950218312345679"  # > 2**53: a float would round it
LEVERAGE_DATA = {"longLeverage": 5, "shortLeverage": "5", "maxLongLeverage": 50, "maxShortLeverage": 75}
API_PERMISSIONS = f"{BINGX_URL}/openApi/v1/account/apiPermissions"
# As published in BingX-API/docs-v3, "Query API KEY Permissions" (https://bingx-api.github.io/docs-v3/, source
# static/js/app.4ba922b42c5d07b46306.js, module "2.查詢API KEY權限.json", responseBody): no envelope, integer codes.
API_PERMISSIONS_SAMPLE = {"apiKey": "", "permissions": [1, 2], "ipAddresses": [], "note": "demo"}


def permission_codes(*codes: object, **fields: object) -> dict[str, object]:
    """The docs' sample with other permission codes (and fields)."""
    return {**API_PERMISSIONS_SAMPLE, "permissions": list(codes), **fields}


def test_client_satisfies_the_protocol(bingx) -> None:
    """BingXClient implements every ExchangeClient method."""
    assert isinstance(bingx, ExchangeClient)


def test_server_time(mocked, bingx) -> None:
    """server_time reads data.serverTime (ms)."""
    mocked.get(f"{BINGX_URL}/openApi/swap/v2/server/time", json=bingx_ok({"serverTime": 1675319535362}))
    assert bingx.server_time() == datetime(2023, 2, 2, 6, 32, 15, 362000, tzinfo=UTC)


@pytest.mark.parametrize("shape", ["list", "object"])
def test_symbol_rules(mocked, bingx, shape) -> None:
    """Contracts parse precision->step, minimums, the lower max leverage, fee and tradability (list or object)."""
    row = bingx_contract()
    mocked.get(CONTRACTS, json=bingx_ok([row] if shape == "list" else row))
    rules = bingx.symbol_rules("DOGEUSDT")
    assert params_of(mocked.calls[0]) == {"symbol": "DOGE-USDT"}
    assert (rules.symbol, rules.qty_step, rules.min_qty, rules.min_notional) == (
        "DOGEUSDT",
        Decimal(1),
        Decimal(9),
        Decimal(2),
    )
    assert (rules.max_leverage, rules.taker_fee_rate, rules.tradable) == (50, Decimal("0.0005"), True)


@pytest.mark.parametrize(
    ("overrides", "tradable"),
    [({"status": 25}, False), ({"apiStateOpen": "false"}, False), ({"status": "1", "apiStateOpen": True}, True)],
)
def test_tradable_needs_status_1_and_api_open(mocked, bingx, overrides, tradable) -> None:
    """tradable is status==1 and apiStateOpen true, whether sent as strings, ints or bools."""
    mocked.get(CONTRACTS, json=bingx_ok([bingx_contract(**overrides)]))
    assert bingx.symbol_rules("DOGEUSDT").tradable is tradable


def test_quantity_precision_to_step(mocked, bingx) -> None:
    """quantityPrecision 4 means a 0.0001 step."""
    mocked.get(CONTRACTS, json=bingx_ok([bingx_contract("BTC-USDT", quantityPrecision="4")]))
    assert bingx.symbol_rules("BTCUSDT").qty_step == Decimal("0.0001")


def test_unknown_symbol(mocked, bingx) -> None:
    """A contract list without the symbol raises SymbolNotFound naming both spellings."""
    mocked.get(CONTRACTS, json=bingx_ok([]))
    with pytest.raises(SymbolNotFound, match=r"BingX symbol rules failed: FOOUSDT \(FOO-USDT\)"):
        bingx.symbol_rules("FOOUSDT")


def test_all_symbol_rules_skips_non_usdt(mocked, bingx) -> None:
    """all_symbol_rules keeps BASE-USDT contracts and skips other quotes and odd names."""
    rows = [bingx_contract(), bingx_contract("BTC-USDC"), bingx_contract("MØTH-USDT"), bingx_contract("ETH-USDT")]
    mocked.get(CONTRACTS, json=bingx_ok(rows))
    assert set(bingx.all_symbol_rules()) == {"DOGEUSDT", "ETHUSDT"}


def premium(symbol: str = "BTC-USDT", **overrides):
    return {
        "symbol": symbol,
        "markPrice": "43000.1",
        "indexPrice": "43001",
        "lastFundingRate": "0.00010000",
        "nextFundingTime": 1702742400000,
        **overrides,
    }


@pytest.mark.parametrize(
    ("payload", "interval"),
    [(premium(), 8), ([premium(fundingIntervalHours=4)], 4), (premium(fundingIntervalHours="1"), 1)],
)
def test_funding_info(mocked, bingx, payload, interval) -> None:
    """premiumIndex as object or list; interval from fundingIntervalHours, else 8; next time absolute."""
    mocked.get(PREMIUM, json=bingx_ok(payload))
    info = bingx.funding_info("BTCUSDT")
    assert (info.rate, info.mark_price, info.interval_hours) == (Decimal("0.0001"), Decimal("43000.1"), interval)
    assert info.next_funding_time == datetime(2023, 12, 16, 16, 0, tzinfo=UTC)


def test_all_funding_info(mocked, bingx) -> None:
    """all_funding_info maps every USDT contract to its canonical symbol."""
    mocked.get(PREMIUM, json=bingx_ok([premium(), premium("ETH-USDT"), premium("BTC-USDC")]))
    assert set(bingx.all_funding_info()) == {"BTCUSDT", "ETHUSDT"}


@pytest.mark.parametrize(
    ("value", "mode"),
    [
        ("true", PositionMode.HEDGE),
        ("false", PositionMode.ONE_WAY),
        (True, PositionMode.HEDGE),
        (False, PositionMode.ONE_WAY),
    ],
)
def test_position_mode(mocked, bingx, value, mode) -> None:
    """dualSidePosition "true"/"false" (or bools) is hedge/one-way."""
    mocked.get(f"{BINGX_URL}/openApi/swap/v1/positionSide/dual", json=bingx_ok({"dualSidePosition": value}))
    assert bingx.position_mode("BTCUSDT") is mode


def test_position_mode_unreadable(mocked, bingx) -> None:
    """An unexpected dualSidePosition value is MalformedResponse, not a guess."""
    mocked.get(f"{BINGX_URL}/openApi/swap/v1/positionSide/dual", json=bingx_ok({"dualSidePosition": "maybe"}))
    with pytest.raises(MalformedResponse, match="BingX position mode failed"):
        bingx.position_mode("BTCUSDT")


def test_leverage(mocked, bingx) -> None:
    """leverage() reads long/short leverage and the lower per-account max."""
    mocked.get(LEVERAGE, json=bingx_ok(LEVERAGE_DATA))
    info = bingx.leverage("DOGEUSDT")
    assert (info.long, info.short, info.max_leverage) == (5, 5, 50)
    assert params_of(mocked.calls[0])["symbol"] == "DOGE-USDT"


@pytest.mark.parametrize(("mode", "sides"), [(PositionMode.ONE_WAY, ["BOTH"]), (PositionMode.HEDGE, ["LONG", "SHORT"])])
def test_set_leverage_sides(mocked, bingx, mode, sides) -> None:
    """One-way sets side BOTH; hedge sets LONG then SHORT."""
    mocked.get(LEVERAGE, json=bingx_ok(LEVERAGE_DATA))
    mocked.post(LEVERAGE, json=bingx_ok({"leverage": 20, "symbol": "DOGE-USDT"}))
    bingx.set_leverage("DOGEUSDT", 20, position_mode=mode)
    posts = [call for call in calls_to(mocked, "/openApi/swap/v2/trade/leverage") if call.request.method == "POST"]
    assert [params_of(call)["side"] for call in posts] == sides
    assert all(params_of(call)["leverage"] == "20" for call in posts)


def test_set_leverage_over_account_max(mocked, bingx) -> None:
    """Leverage above the per-account max is refused before sending, with the venue's limit in the message."""
    mocked.get(LEVERAGE, json=bingx_ok(LEVERAGE_DATA))
    with pytest.raises(InvalidLeverage, match="BingX allows at most 50x for DOGEUSDT; you asked for 75x"):
        bingx.set_leverage("DOGEUSDT", 75, position_mode=PositionMode.ONE_WAY)
    assert all(call.request.method == "GET" for call in mocked.calls)


def test_set_leverage_falls_back_to_contract_max(mocked, bingx) -> None:
    """Without per-account maxima the contract's lower max leverage is the limit."""
    mocked.get(LEVERAGE, json=bingx_ok({"longLeverage": 5, "shortLeverage": 5}))
    mocked.get(CONTRACTS, json=bingx_ok([bingx_contract(maxLongLeverage="40", maxShortLeverage=60)]))
    with pytest.raises(InvalidLeverage, match="at most 40x for DOGEUSDT; you asked for 41x"):
        bingx.set_leverage("DOGEUSDT", 41, position_mode=PositionMode.ONE_WAY)


def test_hedge_short_failure_says_long_changed(mocked, bingx) -> None:
    """If SHORT fails after LONG succeeded, the error says LONG already changed."""
    mocked.get(LEVERAGE, json=bingx_ok(LEVERAGE_DATA))
    mocked.post(LEVERAGE, json=bingx_ok({}))
    mocked.post(LEVERAGE, json=bingx_err(101414, "max leverage exceeded"))
    with pytest.raises(InvalidLeverage, match="the LONG side is already at 20x but SHORT failed"):
        bingx.set_leverage("DOGEUSDT", 20, position_mode=PositionMode.HEDGE)


def position(side: str, amount: str) -> dict:
    return {
        "symbol": "BTC-USDT",
        "positionSide": side,
        "positionAmt": amount,
        "avgPrice": "43000.5",
        "markPrice": 43100.5,
        "leverage": 10,
        "unrealizedProfit": "-1.5",
    }


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([position("BOTH", "0.5")], [(PositionSide.LONG, Decimal("0.5"))]),
        ([position("BOTH", "-0.5")], [(PositionSide.SHORT, Decimal("0.5"))]),
        ([position("BOTH", "0")], []),
        (
            [position("LONG", "0.2"), position("SHORT", "0.3")],
            [(PositionSide.LONG, Decimal("0.2")), (PositionSide.SHORT, Decimal("0.3"))],
        ),
        ([position("SHORT", "-0.3"), position("LONG", "0")], [(PositionSide.SHORT, Decimal("0.3"))]),
    ],
)
def test_positions(mocked, bingx, rows, expected) -> None:
    """Only non-zero rows; LONG/SHORT from positionSide, BOTH from the sign; sizes absolute."""
    mocked.get(f"{BINGX_URL}/openApi/swap/v2/user/positions", json=bingx_ok(rows))
    found = bingx.positions("BTCUSDT")
    assert [(p.side, p.size) for p in found] == expected
    for row in found:
        assert (row.entry_price, row.mark_price, row.leverage) == (Decimal("43000.5"), Decimal("43100.5"), 10)


BALANCE_ROW = {"asset": "USDT", "balance": "1000.5", "equity": "1010.25", "availableMargin": "800.125"}


@pytest.mark.parametrize(
    "payload",
    [[{"asset": "USDC", "balance": "1", "equity": "1", "availableMargin": "1"}, BALANCE_ROW], {"balance": BALANCE_ROW}],
)
def test_balance(mocked, bingx, payload) -> None:
    """balance() picks the USDT row of the v3 list, or reads the v2 data.balance object."""
    mocked.get(f"{BINGX_URL}/openApi/swap/v3/user/balance", json=bingx_ok(payload))
    balance = bingx.balance()
    assert (balance.asset, balance.available_margin) == ("USDT", Decimal("800.125"))
    assert (balance.equity, balance.wallet_balance) == (Decimal("1010.25"), Decimal("1000.5"))


def test_balance_without_usdt(mocked, bingx) -> None:
    """No USDT (or VST) row is MalformedResponse listing the assets seen."""
    mocked.get(f"{BINGX_URL}/openApi/swap/v3/user/balance", json=bingx_ok([{**BALANCE_ROW, "asset": "USDC"}]))
    with pytest.raises(MalformedResponse, match="BingX balance failed: no USDT balance among assets"):
        bingx.balance()


@pytest.mark.parametrize(
    ("mode", "side", "reduce_only", "position_side", "reduce_param"),
    [
        (PositionMode.ONE_WAY, Side.BUY, False, "BOTH", None),
        (PositionMode.ONE_WAY, Side.SELL, True, "BOTH", "true"),
        (PositionMode.HEDGE, Side.BUY, False, "LONG", None),
        (PositionMode.HEDGE, Side.SELL, False, "SHORT", None),
        (PositionMode.HEDGE, Side.SELL, True, "LONG", None),
        (PositionMode.HEDGE, Side.BUY, True, "SHORT", None),
    ],
)
def test_place_market_order(mocked, bingx, mode, side, reduce_only, position_side, reduce_param) -> None:
    """positionSide by mode and side; reduceOnly only on one-way closes; the big order id stays exact."""
    body = (
        '{"code":0,"msg":"","timestamp":%d,"data":{"order":{"orderId":%s,"symbol":"BTC-USDT","clientOrderID":"arb-1"}}}'
    )
    mocked.post(ORDER, body=body % (NOW_MS, BIG_ORDER_ID), content_type="application/json")
    ack = bingx.place_market_order(
        symbol="BTCUSDT",
        side=side,
        quantity=Decimal("12.50"),
        client_order_id="arb-1",
        position_mode=mode,
        reduce_only=reduce_only,
    )
    params = params_of(mocked.calls[0])
    assert (params["side"], params["positionSide"], params["type"]) == (side.value.upper(), position_side, "MARKET")
    assert (params["quantity"], params["clientOrderId"], params.get("reduceOnly")) == ("12.5", "arb-1", reduce_param)
    assert ack.exchange_order_id == BIG_ORDER_ID
    assert ack.exchange_time == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def bingx_order(**overrides):
    return {
        "orderId": int(BIG_ORDER_ID),
        "symbol": "BTC-USDT",
        "side": "SELL",
        "positionSide": "LONG",
        "type": "MARKET",
        "status": "FILLED",
        "origQty": "0.0100",
        "executedQty": "0.0100",
        "avgPrice": "43000.5",
        "commission": "-0.2150",
        "time": NOW_MS,
        "clientOrderId": "arb-1",
        **overrides,
    }


def test_get_order(mocked, bingx) -> None:
    """get_order by clientOrderId: exact big id, fee = |commission|, hedge close recognised as reduce-only."""
    body = bingx_ok({"order": bingx_order()})
    mocked.get(ORDER, json=body)
    order = bingx.get_order(symbol="BTCUSDT", client_order_id="arb-1")
    assert params_of(mocked.calls[0])["clientOrderId"] == "arb-1"
    assert order.exchange_order_id == BIG_ORDER_ID
    assert (order.status, order.side, order.fee, order.reduce_only) == (
        OrderStatus.FILLED,
        Side.SELL,
        Decimal("0.2150"),
        True,
    )
    assert (order.quantity, order.filled_quantity, order.avg_price) == (
        Decimal("0.0100"),
        Decimal("0.0100"),
        Decimal("43000.5"),
    )


def test_get_order_accepts_upper_id_spelling(mocked, bingx) -> None:
    """A response spelling clientOrderID is matched case-insensitively."""
    row = bingx_order(
        clientOrderID="ARB-1", positionSide="BOTH", reduceOnly="false", side="BUY", avgPrice="0", executedQty="0"
    )
    del row["clientOrderId"]
    mocked.get(ORDER, json=bingx_ok({"order": row}))
    order = bingx.get_order(symbol="BTCUSDT", client_order_id="arb-1")
    assert (order.client_order_id, order.reduce_only, order.avg_price) == ("arb-1", False, None)


def test_get_order_other_id_is_not_found(mocked, bingx) -> None:
    """An answer for a different client order id is OrderNotFound, never someone else's order."""
    mocked.get(ORDER, json=bingx_ok({"order": bingx_order(clientOrderId="other")}))
    with pytest.raises(OrderNotFound, match="BingX get order failed"):
        bingx.get_order(symbol="BTCUSDT", client_order_id="arb-1")


def test_get_order_by_exchange_order_id(mocked, bingx) -> None:
    """With the venue's id, the query carries orderId (not clientOrderId) and both echoed ids are checked."""
    mocked.get(ORDER, json=bingx_ok({"order": bingx_order()}))
    order = bingx.get_order(symbol="BTCUSDT", client_order_id="arb-1", exchange_order_id=BIG_ORDER_ID)
    params = params_of(mocked.calls[0])
    assert params["orderId"] == BIG_ORDER_ID and "clientOrderId" not in params
    assert (order.exchange_order_id, order.client_order_id) == (BIG_ORDER_ID, "arb-1")


@pytest.mark.parametrize(
    "row",
    [bingx_order(orderId=int(BIG_ORDER_ID) + 2), bingx_order(clientOrderId="someone-else")],
    ids=["other order id", "other client id"],
)
def test_get_order_by_exchange_order_id_checks_the_echo(mocked, bingx, row) -> None:
    """An answer for another order id, or the right id under another client id, is not our order."""
    mocked.get(ORDER, json=bingx_ok({"order": row}))
    with pytest.raises(OrderNotFound, match=rf"client order id 'arb-1' \(order id {BIG_ORDER_ID}\)"):
        bingx.get_order(symbol="BTCUSDT", client_order_id="arb-1", exchange_order_id=BIG_ORDER_ID)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("NEW", OrderStatus.NEW),
        ("PENDING", OrderStatus.NEW),
        ("PARTIALLY_FILLED", OrderStatus.PARTIALLY_FILLED),
        ("FILLED", OrderStatus.FILLED),
        ("CANCELED", OrderStatus.CANCELLED),
        ("CANCELLED", OrderStatus.CANCELLED),
        ("FAILED", OrderStatus.REJECTED),
        ("REJECTED", OrderStatus.REJECTED),
        ("WORKING", OrderStatus.NEW),
        ("RUNNING", OrderStatus.NEW),
        ("EXPIRED", OrderStatus.CANCELLED),
        ("Pending", OrderStatus.NEW),
    ],
)
def test_order_status_mapping(mocked, bingx, status, expected) -> None:
    """BingX order statuses map onto OrderStatus."""
    mocked.get(ORDER, json=bingx_ok({"order": bingx_order(status=status)}))
    assert bingx.get_order(symbol="BTCUSDT", client_order_id="arb-1").status is expected


@pytest.mark.parametrize(("filled", "expected"), [("0", OrderStatus.NEW), ("0.0040", OrderStatus.PARTIALLY_FILLED)])
def test_unknown_order_status_is_live_and_logged(mocked, bingx, caplog, filled, expected) -> None:
    """An unknown status is a live (not final) order and a warning naming it, never a malformed-response error."""
    mocked.get(ORDER, json=bingx_ok({"order": bingx_order(status="WEIRD", executedQty=filled)}))
    with caplog.at_level(logging.WARNING, logger="exchanges.bingx"):
        order = bingx.get_order(symbol="BTCUSDT", client_order_id="arb-1")
    assert order.status is expected and not order.status.is_final
    assert "'WEIRD'" in caplog.text and "not recognised" in caplog.text


def test_unknown_order_side_is_malformed(mocked, bingx) -> None:
    """The side decides what the order did to the position: an unknown one is not guessed."""
    mocked.get(ORDER, json=bingx_ok({"order": bingx_order(side="BOTH")}))
    with pytest.raises(MalformedResponse, match="unknown side 'BOTH'"):
        bingx.get_order(symbol="BTCUSDT", client_order_id="arb-1")


def income(tran_id, symbol, amount, when_ms):
    return {
        "symbol": symbol,
        "incomeType": "FUNDING_FEE",
        "income": amount,
        "asset": "USDT",
        "time": when_ms,
        "tranId": tran_id,
    }


def test_funding_payments(mocked, bingx) -> None:
    """FUNDING_FEE income rows become payments (positive = received) in 7-day windows."""
    since = datetime(2023, 11, 1, tzinfo=UTC)
    start_ms = 1698796800000
    mocked.get(
        f"{BINGX_URL}/openApi/swap/v2/user/income",
        json=bingx_ok(
            [income(9007199254740993, "BTC-USDT", "-0.31", start_ms + 5), income("x2", "ETH-USDT", "0.2", start_ms + 9)]
        ),
    )
    mocked.get(f"{BINGX_URL}/openApi/swap/v2/user/income", json=bingx_ok([]))
    payments = bingx.funding_payments(since=since, until=since + timedelta(days=8))
    assert [(p.symbol, p.amount, p.payment_id) for p in payments] == [
        ("BTCUSDT", Decimal("-0.31"), "9007199254740993"),
        ("ETHUSDT", Decimal("0.2"), "x2"),
    ]
    sent = [params_of(call) for call in mocked.calls]
    assert [p["incomeType"] for p in sent] == ["FUNDING_FEE", "FUNDING_FEE"]
    assert all(int(p["endTime"]) - int(p["startTime"]) < 7 * 86400000 for p in sent)


def test_funding_payments_splits_full_pages(mocked, bingx, monkeypatch) -> None:
    """A full page is split in halves until every sub-window is complete, with duplicates removed."""
    monkeypatch.setattr("exchanges.bingx.INCOME_PAGE_SIZE", 2)
    since = datetime(2023, 11, 1, tzinfo=UTC)
    start_ms = 1698796800000
    url = f"{BINGX_URL}/openApi/swap/v2/user/income"
    mocked.get(
        url, json=bingx_ok([income("a", "BTC-USDT", "1", start_ms + 1), income("b", "BTC-USDT", "1", start_ms + 2)])
    )
    mocked.get(url, json=bingx_ok([income("a", "BTC-USDT", "1", start_ms + 1)]))
    mocked.get(url, json=bingx_ok([income("c", "BTC-USDT", "1", start_ms + 86400000 * 2)]))
    payments = bingx.funding_payments(since=since, until=since + timedelta(days=3), symbol="BTCUSDT")
    assert [p.payment_id for p in payments] == ["a", "c"]
    assert len(mocked.calls) == 3
    assert all(params_of(call)["symbol"] == "BTC-USDT" for call in mocked.calls)


@pytest.mark.parametrize(
    ("data", "trade", "withdraw", "transfer", "ip"),
    [
        (
            {
                "enableReading": True,
                "enableFutures": True,
                "enableWithdrawals": False,
                "enableInternalTransfer": False,
                "permitsUniversalTransfer": False,
                "ipRestrict": True,
            },
            True,
            False,
            False,
            True,
        ),
        (
            {
                "enableReading": True,
                "enableFutures": "true",
                "enableWithdrawals": "true",
                "enableInternalTransfer": False,
                "permitsUniversalTransfer": False,
                "ipRestrict": False,
            },
            True,
            True,
            False,
            False,
        ),
        (
            {"enableFutures": False, "enableWithdrawals": False, "enableInternalTransfer": True},
            False,
            False,
            True,
            None,
        ),
        ({"enableFutures": True}, True, True, True, None),
    ],
)
def test_key_permissions_from_enveloped_flags(mocked, bingx, data, trade, withdraw, transfer, ip) -> None:
    """The older enveloped enable* shape: enableFutures means perps; withdraw/transfer rights are assumed when not
    reported."""
    mocked.get(API_PERMISSIONS, json=bingx_ok(data))
    permissions = bingx.key_permissions()
    assert (permissions.can_trade_perpetuals, permissions.can_withdraw) == (trade, withdraw)
    assert (permissions.can_transfer, permissions.ip_restricted) == (transfer, ip)


def test_key_permissions_docs_sample(mocked, bingx) -> None:
    """The docs' own sample, bare and with codes 1 (spot) and 2 (read): the key reads but cannot trade perpetuals."""
    mocked.get(API_PERMISSIONS, json=API_PERMISSIONS_SAMPLE)
    permissions = bingx.key_permissions()
    assert (permissions.can_read, permissions.can_trade_perpetuals, permissions.can_withdraw) == (True, False, False)
    assert (permissions.can_transfer, permissions.read_only, permissions.ip_restricted) == (False, False, False)
    assert permissions.warnings == ["This key cannot trade perpetual futures; fundarb cannot open positions with it."]


def test_key_permissions_read_and_perpetuals(mocked, bingx) -> None:
    """Codes [2, 3] with a whitelisted IP: can trade perpetuals, cannot withdraw, IP-restricted; the apiKey the
    venue echoes appears in nothing fundarb shows."""
    mocked.get(API_PERMISSIONS, json=permission_codes(2, 3, apiKey=API_KEY, ipAddresses=["1.2.3.4"]))
    permissions = bingx.key_permissions()
    assert (permissions.can_trade_perpetuals, permissions.can_withdraw, permissions.can_transfer) == (
        True,
        False,
        False,
    )
    assert (permissions.read_only, permissions.ip_restricted, permissions.warnings) == (False, True, [])
    assert API_KEY not in repr(permissions) + " ".join(permissions.warnings)


@pytest.mark.parametrize(
    ("codes", "withdraw", "transfer", "flagged"),
    [
        ([2, 3, 5], True, True, "permission 5: withdraw"),
        (["2", "3", "5"], True, True, "permission 5: withdraw"),
        ([2, 3, 4], False, True, "permission 4: universal transfer"),
        ([2, 3, 7], False, True, "permission 7: sub-account internal transfer"),
        ([2, 3, 6], True, True, "unrecognised permission codes 6 are treated as able to move funds"),
    ],
)
def test_key_permissions_codes_that_move_funds(mocked, bingx, codes, withdraw, transfer, flagged) -> None:
    """Code 5 (withdraw) and any unknown code flag the key as able to withdraw; 4 and 7 as able to transfer."""
    mocked.get(API_PERMISSIONS, json=permission_codes(*codes))
    permissions = bingx.key_permissions()
    assert (permissions.can_trade_perpetuals, permissions.can_withdraw, permissions.can_transfer) == (
        True,
        withdraw,
        transfer,
    )
    assert flagged in permissions.details
    assert ("This key can WITHDRAW funds. Create a key without withdrawal rights." in permissions.warnings) is withdraw


@pytest.mark.parametrize(
    ("answer", "ip"),
    [(permission_codes(2, ipAddresses=[""]), False), ({"permissions": [2]}, None)],
)
def test_key_permissions_without_code_3_cannot_trade(mocked, bingx, answer, ip) -> None:
    """Read only: no perpetual trading; a blank whitelist entry restricts nothing, a missing list is unknown."""
    mocked.get(API_PERMISSIONS, json=answer)
    permissions = bingx.key_permissions()
    assert (permissions.can_trade_perpetuals, permissions.read_only, permissions.ip_restricted) == (False, True, ip)


def test_key_permissions_codes_inside_the_envelope(mocked, bingx) -> None:
    """The code shape wrapped in {code, msg, data} reads the same."""
    mocked.get(API_PERMISSIONS, json=bingx_ok(permission_codes(2, 3)))
    permissions = bingx.key_permissions()
    assert (permissions.can_trade_perpetuals, permissions.can_withdraw) == (True, False)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (bingx_err(100413, "Incorrect apiKey"), AuthenticationError),
        (bingx_err(100004, "Permission denied"), PermissionDenied),
        ({"apiKey": API_KEY, "note": ""}, MalformedResponse),
    ],
)
def test_key_permissions_errors_still_raise(mocked, bingx, answer, error) -> None:
    """An error envelope raises its mapped error; a bare object with neither shape is malformed, key unshown."""
    mocked.get(API_PERMISSIONS, json=answer)
    with pytest.raises(error, match="BingX key permissions failed") as caught:
        bingx.key_permissions()
    assert API_KEY not in str(caught.value)


def test_only_key_permissions_accepts_a_bare_answer(mocked, bingx) -> None:
    """Other endpoints still refuse an answer without the envelope."""
    mocked.get(f"{BINGX_URL}/openApi/account/v1/uid", json={"uid": 16844999})
    with pytest.raises(MalformedResponse, match="not the venue's JSON envelope"):
        bingx.account_id()


def test_account_id(mocked, bingx) -> None:
    """account_id reads data.uid from the docs' sample answer (no msg field in it) and keeps it exact as text."""
    sample = {"code": 0, "timestamp": 1702558965648, "data": {"uid": 16844999}}
    mocked.get(f"{BINGX_URL}/openApi/account/v1/uid", json=sample)
    assert bingx.account_id() == "16844999"


def test_account_id_missing_is_malformed(mocked, bingx) -> None:
    """No uid is MalformedResponse, never an empty identity."""
    mocked.get(f"{BINGX_URL}/openApi/account/v1/uid", json=bingx_ok({}))
    with pytest.raises(MalformedResponse, match="BingX account id failed: no user id"):
        bingx.account_id()


def test_private_calls_need_credentials(mocked) -> None:
    """Without credentials a private call raises AuthenticationError and sends nothing."""
    client = BingXClient(None, base_url=BINGX_URL)
    with pytest.raises(AuthenticationError, match="BingX positions failed: this operation needs an API key"):
        client.positions("BTCUSDT")
    assert len(mocked.calls) == 0

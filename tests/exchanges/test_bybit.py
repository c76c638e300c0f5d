"""BybitClient operations against responses-mocked v5 endpoints, in one-way and hedge mode."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from exchanges.base import (
    Credentials,
    ExchangeClient,
    OrderStatus,
    PositionMode,
    PositionSide,
    Side,
)
from exchanges.bybit import BybitClient
from exchanges.errors import AuthenticationError, InvalidLeverage, MalformedResponse, OrderNotFound, SymbolNotFound

from .conftest import (
    BYBIT_URL,
    NOW,
    body_of,
    bybit_instrument,
    bybit_ok,
    bybit_position_row,
    bybit_position_sample,
    calls_to,
    params_of,
)

INSTRUMENTS = f"{BYBIT_URL}/v5/market/instruments-info"
POSITIONS = f"{BYBIT_URL}/v5/position/list"
SET_LEVERAGE = f"{BYBIT_URL}/v5/position/set-leverage"
ONE_WAY_ROWS = [bybit_position_row(0)]
HEDGE_ROWS = [bybit_position_row(1, leverage="7"), bybit_position_row(2, leverage="9")]


def test_client_satisfies_the_protocol(bybit) -> None:
    """BybitClient implements every ExchangeClient method."""
    assert isinstance(bybit, ExchangeClient)


def test_server_time_uses_time_nano(mocked, bybit) -> None:
    """server_time reads result.timeNano exactly (microsecond precision, UTC)."""
    mocked.get(
        f"{BYBIT_URL}/v5/market/time", json=bybit_ok({"timeSecond": "1700000000", "timeNano": "1700000000123456789"})
    )
    assert bybit.server_time() == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)


def test_symbol_rules_parse_and_cache(mocked) -> None:
    """symbol_rules parses the filters (max leverage floored) and caches them for a few minutes."""
    now = [NOW]
    client = BybitClient(None, base_url=BYBIT_URL, clock=lambda: now[0])
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": [bybit_instrument(max_leverage="12.50")]}))
    rules = client.symbol_rules("BTCUSDT")
    assert (rules.max_leverage, rules.min_leverage, rules.qty_step, rules.min_qty) == (
        12,
        1,
        Decimal("0.001"),
        Decimal("0.001"),
    )
    assert (rules.min_notional, rules.max_market_qty, rules.tradable) == (Decimal("5"), Decimal("500.000"), True)
    assert params_of(mocked.calls[0]) == {"category": "linear", "symbol": "BTCUSDT"}
    client.symbol_rules("BTCUSDT")
    assert len(mocked.calls) == 1
    now[0] += 301
    client.symbol_rules("BTCUSDT")
    assert len(mocked.calls) == 2


def test_unknown_symbol_is_symbol_not_found(mocked, bybit) -> None:
    """An empty instrument list for a symbol raises SymbolNotFound naming venue and operation."""
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": []}))
    with pytest.raises(SymbolNotFound, match="Bybit symbol rules failed: FOOUSDT is not a tradable"):
        bybit.symbol_rules("FOOUSDT")


def test_all_symbol_rules_skips_other_products(mocked, bybit) -> None:
    """all_symbol_rules keeps USDT perpetuals and skips USDC perps and dated futures."""
    rows = [
        bybit_instrument(),
        bybit_instrument("BTCPERP"),
        bybit_instrument("BTCUSDT-26DEC25", contractType="LinearFutures"),
        bybit_instrument("ETHUSDT", max_leverage="50"),
    ]
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": rows, "nextPageCursor": ""}))
    rules = bybit.all_symbol_rules()
    assert set(rules) == {"BTCUSDT", "ETHUSDT"}
    assert rules["ETHUSDT"].max_leverage == 50
    assert params_of(mocked.calls[0]) == {"category": "linear", "limit": "1000"}


def ticker(symbol: str = "BTCUSDT", **overrides: str) -> dict[str, str]:
    return {
        "symbol": symbol,
        "fundingRate": "-0.00012",
        "nextFundingTime": "1700006400000",
        "fundingIntervalHour": "4",
        "markPrice": "43000.10",
        **overrides,
    }


def test_funding_info(mocked, bybit) -> None:
    """funding_info takes rate, next instant (from nextFundingTime only), interval and mark price."""
    mocked.get(f"{BYBIT_URL}/v5/market/tickers", json=bybit_ok({"category": "linear", "list": [ticker()]}))
    info = bybit.funding_info("BTCUSDT")
    assert info.rate == Decimal("-0.00012")
    assert info.next_funding_time == datetime(2023, 11, 15, 0, 0, tzinfo=UTC)
    assert (info.interval_hours, info.mark_price) == (4, Decimal("43000.10"))


def test_funding_info_refuses_a_relative_next_time(mocked, bybit) -> None:
    """A nextFundingTime that is not an epoch instant is malformed, never interval-added."""
    mocked.get(f"{BYBIT_URL}/v5/market/tickers", json=bybit_ok({"list": [ticker(nextFundingTime="3600000")]}))
    with pytest.raises(MalformedResponse, match="Bybit funding info failed"):
        bybit.funding_info("BTCUSDT")


def test_all_funding_info(mocked, bybit) -> None:
    """all_funding_info returns every USDT perpetual ticker and skips the rest."""
    rows = [ticker(), ticker("ETHUSDT", fundingIntervalHour="8"), ticker("ETHPERP"), ticker("XUSDT", fundingRate="")]
    mocked.get(f"{BYBIT_URL}/v5/market/tickers", json=bybit_ok({"list": rows}))
    infos = bybit.all_funding_info()
    assert set(infos) == {"BTCUSDT", "ETHUSDT"}
    assert infos["ETHUSDT"].interval_hours == 8


@pytest.mark.parametrize(("rows", "mode"), [(ONE_WAY_ROWS, PositionMode.ONE_WAY), (HEDGE_ROWS, PositionMode.HEDGE)])
def test_position_mode_is_detected(mocked, bybit, rows, mode) -> None:
    """positionIdx 0 means one-way; rows 1 and 2 mean hedge."""
    mocked.get(POSITIONS, json=bybit_ok({"list": rows}))
    assert bybit.position_mode("BTCUSDT") is mode


def test_position_mode_without_rows_is_malformed(mocked, bybit) -> None:
    """No rows means the mode cannot be told: MalformedResponse rather than a guess."""
    mocked.get(POSITIONS, json=bybit_ok({"list": []}))
    with pytest.raises(MalformedResponse, match="Bybit position mode failed"):
        bybit.position_mode("BTCUSDT")


@pytest.mark.parametrize(("rows", "long", "short"), [(ONE_WAY_ROWS, 10, 10), (HEDGE_ROWS, 7, 9)])
def test_leverage_reads_back_from_positions(mocked, bybit, rows, long, short) -> None:
    """leverage() reads position/list leverage per side and the symbol's max."""
    mocked.get(POSITIONS, json=bybit_ok({"list": rows}))
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": [bybit_instrument()]}))
    info = bybit.leverage("BTCUSDT")
    assert (info.long, info.short, info.max_leverage) == (long, short, 100)


@pytest.mark.parametrize(
    ("rows", "long", "short"),
    [
        (({},), Decimal("10"), Decimal("10")),
        (({"leverage": "12.5"},), Decimal("12.5"), Decimal("12.5")),
        (
            ({"positionIdx": 1, "leverage": "7"}, {"positionIdx": 2, "side": "Buy", "leverage": "12.5"}),
            7,
            Decimal("12.5"),
        ),
    ],
)
def test_leverage_from_the_docs_sample(mocked, bybit, rows, long, short) -> None:
    """The docs' position/list row reads as exact decimals, a fractional web-UI value included."""
    mocked.get(POSITIONS, json=bybit_position_sample(*rows))
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": [bybit_instrument()]}))
    info = bybit.leverage("BTCUSDT")
    assert (info.long, info.short, info.unknown_reason) == (long, short, "")
    assert isinstance(info.long, Decimal) and isinstance(info.short, Decimal)


@pytest.mark.parametrize(
    ("rows", "long", "short"),
    [
        (({"leverage": ""},), None, None),
        (({"positionIdx": 1, "leverage": "5"}, {"positionIdx": 2, "leverage": ""}), Decimal("5"), None),
    ],
)
def test_leverage_empty_under_portfolio_margin_is_unknown(mocked, bybit, rows, long, short) -> None:
    """leverage "" (portfolio margin) is no error: the side is unknown and the reason names Bybit."""
    mocked.get(POSITIONS, json=bybit_position_sample(*rows))
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": [bybit_instrument()]}))
    info = bybit.leverage("BTCUSDT")
    assert (info.long, info.short) == (long, short)
    assert info.unknown_reason == "Bybit shows no per-position leverage for this account (as under portfolio margin)"


@pytest.mark.parametrize(("leverage", "expected"), [("10", Decimal("10")), ("12.5", Decimal("12.5")), ("", None)])
def test_positions_read_leverage_as_an_optional_decimal(mocked, bybit, leverage, expected) -> None:
    """positions() keeps the docs' row with its leverage exact, or None when it is empty."""
    mocked.get(POSITIONS, json=bybit_position_sample({"leverage": leverage}))
    (position,) = bybit.positions("BTCUSDT")
    assert (position.side, position.size, position.leverage) == (PositionSide.SHORT, Decimal("300"), expected)
    assert (position.entry_price, position.mark_price) == (Decimal("27464.50441675"), Decimal("28224.50"))


@pytest.mark.parametrize("mode", list(PositionMode))
@pytest.mark.parametrize("code", [0, 110043])
def test_set_leverage_sends_equal_strings_and_accepts_not_modified(mocked, bybit, mode, code) -> None:
    """set_leverage posts buyLeverage=sellLeverage as strings; 110043 "not modified" is success."""
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": [bybit_instrument()]}))
    response = bybit_ok({}) if code == 0 else {"retCode": 110043, "retMsg": "leverage not modified", "result": {}}
    mocked.post(SET_LEVERAGE, json=response)
    bybit.set_leverage("BTCUSDT", 20, position_mode=mode)
    body = body_of(calls_to(mocked, "/v5/position/set-leverage")[0])
    assert body == {"category": "linear", "symbol": "BTCUSDT", "buyLeverage": "20", "sellLeverage": "20"}


@pytest.mark.parametrize(
    ("leverage", "message"),
    [
        (150, "Bybit allows at most 100x for BTCUSDT; you asked for 150x"),
        (Decimal("2.5"), "whole number, got 2.5"),
        (2.5, "whole number, got 2.5"),
        (True, "whole number, got True"),
        ("5", "whole number, got '5'"),
        (0, "at least 1x"),
    ],
)
def test_set_leverage_validation_sends_nothing(mocked, bybit, leverage, message) -> None:
    """Invalid leverage raises InvalidLeverage with a clear message and never reaches set-leverage."""
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": [bybit_instrument()]}))
    with pytest.raises(InvalidLeverage, match=message) as caught:
        bybit.set_leverage("BTCUSDT", leverage, position_mode=PositionMode.ONE_WAY)
    assert str(caught.value).startswith("Bybit set leverage failed")
    assert calls_to(mocked, "/v5/position/set-leverage") == []


def test_set_leverage_accepts_integral_decimal(mocked, bybit) -> None:
    """Decimal("5") and 5.0 are whole numbers and are sent as "5"."""
    mocked.get(INSTRUMENTS, json=bybit_ok({"list": [bybit_instrument()]}))
    mocked.post(SET_LEVERAGE, json=bybit_ok({}))
    bybit.set_leverage("BTCUSDT", Decimal("5"), position_mode=PositionMode.ONE_WAY)
    bybit.set_leverage("BTCUSDT", 5.0, position_mode=PositionMode.ONE_WAY)
    assert [body_of(c)["buyLeverage"] for c in calls_to(mocked, "/v5/position/set-leverage")] == ["5", "5"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([bybit_position_row(0, side="Sell", size="0.5")], [(PositionSide.SHORT, Decimal("0.5"))]),
        (ONE_WAY_ROWS, []),
        (
            [bybit_position_row(1, side="Buy", size="0.2"), bybit_position_row(2, side="Sell", size="0.3")],
            [(PositionSide.LONG, Decimal("0.2")), (PositionSide.SHORT, Decimal("0.3"))],
        ),
        ([bybit_position_row(1, side="Buy", size="0.2"), bybit_position_row(2)], [(PositionSide.LONG, Decimal("0.2"))]),
    ],
)
def test_positions_returns_only_open_rows(mocked, bybit, rows, expected) -> None:
    """positions() skips flat rows and maps Buy->LONG, Sell->SHORT with positive sizes."""
    mocked.get(POSITIONS, json=bybit_ok({"list": rows}))
    found = bybit.positions("BTCUSDT")
    assert [(p.side, p.size) for p in found] == expected
    for position in found:
        assert (position.entry_price, position.unrealised_pnl) == (Decimal("43000.5"), Decimal("1.25"))


WALLET = {
    "accountType": "UNIFIED",
    "totalEquity": "1500.5",
    "totalWalletBalance": "1400",
    "totalAvailableBalance": "900.25",
    "coin": [{"coin": "USDT", "equity": "1200.75", "walletBalance": "1100.5"}],
}


def test_balance_uses_usdt_coin_row(mocked, bybit) -> None:
    """balance() takes available from totalAvailableBalance and equity/wallet from the USDT coin row."""
    mocked.get(f"{BYBIT_URL}/v5/account/wallet-balance", json=bybit_ok({"list": [WALLET]}))
    balance = bybit.balance()
    assert (balance.asset, balance.available_margin) == ("USDT", Decimal("900.25"))
    assert (balance.equity, balance.wallet_balance) == (Decimal("1200.75"), Decimal("1100.5"))
    assert params_of(mocked.calls[0]) == {"accountType": "UNIFIED", "coin": "USDT"}


def test_balance_falls_back_to_account_totals(mocked, bybit) -> None:
    """Without a USDT coin row, equity and wallet come from the account totals."""
    mocked.get(f"{BYBIT_URL}/v5/account/wallet-balance", json=bybit_ok({"list": [{**WALLET, "coin": []}]}))
    balance = bybit.balance()
    assert (balance.equity, balance.wallet_balance) == (Decimal("1500.5"), Decimal("1400"))


def test_balance_without_available_is_malformed(mocked, bybit) -> None:
    """An empty totalAvailableBalance raises MalformedResponse instead of inventing a number."""
    account = {**WALLET, "totalAvailableBalance": ""}
    mocked.get(f"{BYBIT_URL}/v5/account/wallet-balance", json=bybit_ok({"list": [account]}))
    with pytest.raises(MalformedResponse, match="Bybit balance failed"):
        bybit.balance()


@pytest.mark.parametrize(
    ("mode", "side", "reduce_only", "idx"),
    [
        (PositionMode.ONE_WAY, Side.BUY, False, 0),
        (PositionMode.ONE_WAY, Side.SELL, True, 0),
        (PositionMode.HEDGE, Side.BUY, False, 1),
        (PositionMode.HEDGE, Side.SELL, False, 2),
        (PositionMode.HEDGE, Side.SELL, True, 1),
        (PositionMode.HEDGE, Side.BUY, True, 2),
    ],
)
def test_place_market_order_body(mocked, bybit, mode, side, reduce_only, idx) -> None:
    """Orders carry positionIdx by mode and side, reduceOnly on closes, and a plain-decimal qty."""
    mocked.post(
        f"{BYBIT_URL}/v5/order/create",
        json=bybit_ok({"orderId": "1321003749386327552", "orderLinkId": "arb-1"}),
    )
    ack = bybit.place_market_order(
        symbol="BTCUSDT",
        side=side,
        quantity=Decimal("1E-3"),
        client_order_id="arb-1",
        position_mode=mode,
        reduce_only=reduce_only,
    )
    assert body_of(mocked.calls[0]) == {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy" if side is Side.BUY else "Sell",
        "orderType": "Market",
        "qty": "0.001",
        "positionIdx": idx,
        "orderLinkId": "arb-1",
        "reduceOnly": reduce_only,
    }
    assert (ack.exchange_order_id, ack.client_order_id) == ("1321003749386327552", "arb-1")
    assert ack.exchange_time == datetime.fromtimestamp(NOW, UTC) + timedelta(milliseconds=5)


@pytest.mark.parametrize(
    ("quantity", "client_order_id", "message"),
    [
        (Decimal("0"), "ok-1", "positive"),
        (0.001, "ok-1", "must be a Decimal"),
        (Decimal("0.001"), "Upper-Case", "client order id 'Upper-Case' is invalid"),
        (Decimal("0.001"), "x" * 37, "1 to 36"),
    ],
)
def test_place_market_order_validates_before_sending(mocked, bybit, quantity, client_order_id, message) -> None:
    """Bad quantities or client order ids are refused locally; nothing is sent."""
    from exchanges.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match=message):
        bybit.place_market_order(
            symbol="BTCUSDT",
            side=Side.BUY,
            quantity=quantity,
            client_order_id=client_order_id,
            position_mode=PositionMode.ONE_WAY,
        )
    assert len(mocked.calls) == 0


def order_row(**overrides):
    return {
        "orderId": "fd4300ae-7847-404e-b947-b46980a4d140",
        "orderLinkId": "arb-1",
        "symbol": "BTCUSDT",
        "side": "Sell",
        "orderStatus": "Filled",
        "qty": "0.010",
        "cumExecQty": "0.010",
        "avgPrice": "43000.5",
        "reduceOnly": True,
        "cumExecFee": "0.99",
        "cumFeeDetail": {"USDT": "0.2365"},
        "createdTime": "1700000000456",
        **overrides,
    }


def test_get_order_from_realtime(mocked, bybit) -> None:
    """get_order finds the order by orderLinkId in /realtime and reads the fee from cumFeeDetail."""
    mocked.get(f"{BYBIT_URL}/v5/order/realtime", json=bybit_ok({"list": [order_row()]}))
    order = bybit.get_order(symbol="BTCUSDT", client_order_id="arb-1")
    assert params_of(mocked.calls[0]) == {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "arb-1"}
    assert (order.status, order.side, order.reduce_only) == (OrderStatus.FILLED, Side.SELL, True)
    assert (order.quantity, order.filled_quantity, order.avg_price) == (
        Decimal("0.010"),
        Decimal("0.010"),
        Decimal("43000.5"),
    )
    assert order.fee == Decimal("0.2365")
    assert order.created_at == datetime(2023, 11, 14, 22, 13, 20, 456000, tzinfo=UTC)


def test_get_order_falls_back_to_history_and_cum_exec_fee(mocked, bybit) -> None:
    """An empty /realtime list leads to /history; without cumFeeDetail the fee is cumExecFee."""
    mocked.get(f"{BYBIT_URL}/v5/order/realtime", json=bybit_ok({"list": []}))
    row = order_row(orderStatus="Cancelled", cumExecQty="0", avgPrice="", cumFeeDetail={}, cumExecFee="0")
    mocked.get(f"{BYBIT_URL}/v5/order/history", json=bybit_ok({"list": [row]}))
    order = bybit.get_order(symbol="BTCUSDT", client_order_id="arb-1")
    assert (order.status, order.avg_price, order.fee) == (OrderStatus.CANCELLED, None, Decimal("0"))
    assert len(calls_to(mocked, "/v5/order/history")) == 1


def test_get_order_not_found(mocked, bybit) -> None:
    """Empty realtime and history lists raise OrderNotFound naming the client order id."""
    mocked.get(f"{BYBIT_URL}/v5/order/realtime", json=bybit_ok({"list": []}))
    mocked.get(f"{BYBIT_URL}/v5/order/history", json=bybit_ok({"list": []}))
    with pytest.raises(OrderNotFound, match="Bybit get order failed: no order with client order id 'arb-9'"):
        bybit.get_order(symbol="BTCUSDT", client_order_id="arb-9")


def test_get_order_by_exchange_order_id(mocked, bybit) -> None:
    """With the venue's id, the query carries orderId only (it outranks orderLinkId) and the echo is checked."""
    order_id = order_row()["orderId"]
    mocked.get(f"{BYBIT_URL}/v5/order/realtime", json=bybit_ok({"list": []}))
    mocked.get(f"{BYBIT_URL}/v5/order/history", json=bybit_ok({"list": [order_row()]}))
    order = bybit.get_order(symbol="BTCUSDT", client_order_id="arb-1", exchange_order_id=order_id)
    assert [params_of(call) for call in mocked.calls] == [
        {"category": "linear", "symbol": "BTCUSDT", "orderId": order_id}
    ] * 2
    assert order.exchange_order_id == order_id


def test_get_order_by_exchange_order_id_skips_other_orders(mocked, bybit) -> None:
    """A row with the right orderLinkId but another orderId is someone else's order."""
    mocked.get(f"{BYBIT_URL}/v5/order/realtime", json=bybit_ok({"list": [order_row()]}))
    mocked.get(f"{BYBIT_URL}/v5/order/history", json=bybit_ok({"list": []}))
    with pytest.raises(OrderNotFound, match=r"client order id 'arb-1' \(order id other-id\)"):
        bybit.get_order(symbol="BTCUSDT", client_order_id="arb-1", exchange_order_id="other-id")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("New", OrderStatus.NEW),
        ("PartiallyFilled", OrderStatus.PARTIALLY_FILLED),
        ("Filled", OrderStatus.FILLED),
        ("Cancelled", OrderStatus.CANCELLED),
        ("Rejected", OrderStatus.REJECTED),
        ("Deactivated", OrderStatus.CANCELLED),
        ("Untriggered", OrderStatus.NEW),
        ("Triggered", OrderStatus.NEW),
        ("PartiallyFilledCanceled", OrderStatus.CANCELLED),
    ],
)
def test_order_status_mapping(mocked, bybit, status, expected) -> None:
    """Bybit orderStatus values map onto OrderStatus."""
    mocked.get(f"{BYBIT_URL}/v5/order/realtime", json=bybit_ok({"list": [order_row(orderStatus=status)]}))
    assert bybit.get_order(symbol="BTCUSDT", client_order_id="arb-1").status is expected


def test_unknown_order_status_is_live_and_logged(mocked, bybit, caplog) -> None:
    """An orderStatus outside the v5 enum is a live order and a warning, not an error the caller retries forever."""
    row = order_row(orderStatus="Hibernating", cumExecQty="0.004")
    mocked.get(f"{BYBIT_URL}/v5/order/realtime", json=bybit_ok({"list": [row]}))
    with caplog.at_level(logging.WARNING, logger="exchanges.bybit"):
        order = bybit.get_order(symbol="BTCUSDT", client_order_id="arb-1")
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert "'Hibernating'" in caplog.text


def settlement(row_id: str, symbol: str, funding: str, when_ms: int, side: str = "Buy") -> dict[str, str]:
    return {
        "id": row_id,
        "symbol": symbol,
        "type": "SETTLEMENT",
        "side": side,
        "funding": funding,
        "feeRate": "0.0001" if side == "Buy" else "-0.0001",
        "transactionTime": str(when_ms),
        "currency": "USDT",
    }


def test_funding_payments_windows_and_cursor(mocked, bybit) -> None:
    """funding_payments splits the range into <= 7-day windows, follows cursors, filters the symbol."""
    since = datetime(2023, 11, 1, tzinfo=UTC)
    until = since + timedelta(days=10)
    start_ms = 1698796800000
    first = bybit_ok(
        {"list": [settlement("a", "BTCUSDT", "-0.5", start_ms + 1000, "Sell")], "nextPageCursor": "page%3D2"}
    )
    second = bybit_ok(
        {
            "list": [
                settlement("b", "ETHUSDT", "0.25", start_ms + 2000),
                settlement("c", "BTCUSDT", "0.1", start_ms + 3000),
            ]
        }
    )
    third = bybit_ok({"list": [settlement("d", "BTCUSDT", "0.7", start_ms + 8 * 86400000)], "nextPageCursor": ""})
    for payload in (first, second, third):
        mocked.get(f"{BYBIT_URL}/v5/account/transaction-log", json=payload)
    payments = bybit.funding_payments(since=since, until=until, symbol="BTCUSDT")
    assert [(p.payment_id, p.amount) for p in payments] == [
        ("a", Decimal("-0.5")),
        ("c", Decimal("0.1")),
        ("d", Decimal("0.7")),
    ]
    assert payments[0].rate == Decimal("0.0001")  # the Sell-side negation is undone
    sent = [params_of(call) for call in mocked.calls]
    assert [p.get("cursor") for p in sent] == [None, "page=2", None]
    for params in sent:
        assert (params["accountType"], params["category"], params["type"]) == ("UNIFIED", "linear", "SETTLEMENT")
        assert int(params["endTime"]) - int(params["startTime"]) < 7 * 86400000
    assert sent[0]["startTime"] == str(start_ms)
    assert sent[2]["endTime"] == str(start_ms + 10 * 86400000)


@pytest.mark.parametrize(
    ("result", "trade", "withdraw", "transfer", "read_only"),
    [
        (
            {"readOnly": 0, "permissions": {"ContractTrade": ["Order", "Position"], "Wallet": []}},
            True,
            False,
            False,
            False,
        ),
        ({"readOnly": 1, "permissions": {"ContractTrade": ["Order", "Position"]}}, False, False, False, True),
        ({"readOnly": 0, "permissions": {"ContractTrade": ["Order"]}}, False, False, False, False),
        (
            {"readOnly": 0, "permissions": {"ContractTrade": ["Order", "Position"], "Wallet": ["AccountTransfer"]}},
            True,
            False,
            True,
            False,
        ),
        (
            {"readOnly": 0, "permissions": {"ContractTrade": ["Order", "Position"], "Wallet": ["Withdraw"]}},
            True,
            True,
            True,
            False,
        ),
        (
            {"readOnly": 0, "permissions": {"ContractTrade": ["Order", "Position"], "FiatP2P": ["Advertising"]}},
            True,
            True,
            True,
            False,
        ),
    ],
)
def test_key_permissions(mocked, bybit, result, trade, withdraw, transfer, read_only) -> None:
    """Trading needs ContractTrade Order+Position; any Wallet or unknown right is flagged conservatively."""
    mocked.get(f"{BYBIT_URL}/v5/user/query-api", json=bybit_ok({**result, "ips": ["*"]}))
    permissions = bybit.key_permissions()
    assert (permissions.can_trade_perpetuals, permissions.can_withdraw) == (trade, withdraw)
    assert (permissions.can_transfer, permissions.read_only, permissions.ip_restricted) == (transfer, read_only, False)


# The docs' sample answer of GET /v5/user/query-api (docs/v5/user/apikey-info.mdx), trimmed to the identity fields.
KEY_INFO_SAMPLE = {
    "id": "2208369",
    "note": "testnet",
    "apiKey": "XXXXXXXX",
    "readOnly": 1,
    "secret": "",
    "permissions": {"ContractTrade": ["Order", "Position"]},
    "ips": ["18.181.170.164"],
    "uta": 1,
    "userID": 1448939,
    "inviterID": 0,
    "isMaster": True,
    "parentUid": "0",
    "userIDInt64": "0",
}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [({}, "1448939"), ({"userID": 0, "userIDInt64": "9007199254740993"}, "9007199254740993")],
    ids=["userID", "userIDInt64 when userID is empty"],
)
def test_account_id(mocked, bybit, overrides, expected) -> None:
    """account_id is result.userID of the key information (not the key's own id), exact as text."""
    mocked.get(f"{BYBIT_URL}/v5/user/query-api", json=bybit_ok({**KEY_INFO_SAMPLE, **overrides}))
    assert bybit.account_id() == expected


def test_account_id_missing_is_malformed(mocked, bybit) -> None:
    """No usable user id is MalformedResponse, never an empty identity."""
    mocked.get(f"{BYBIT_URL}/v5/user/query-api", json=bybit_ok({**KEY_INFO_SAMPLE, "userID": None, "userIDInt64": ""}))
    with pytest.raises(MalformedResponse, match="Bybit account id failed: no user id"):
        bybit.account_id()


def test_private_calls_need_credentials(mocked) -> None:
    """Without credentials a private call raises AuthenticationError and sends nothing."""
    client = BybitClient(None, base_url=BYBIT_URL)
    with pytest.raises(AuthenticationError, match="Bybit balance failed: this operation needs an API key"):
        client.balance()
    assert len(mocked.calls) == 0


def test_repr_masks_credentials() -> None:
    """The client repr shows the URL and a masked key, never the secret."""
    client = BybitClient(Credentials("ABCDEFGHIJKLMNOP", "SECRETSECRETSECRET"), base_url=BYBIT_URL)
    assert "SECRET" not in repr(client) and "ABCDEFGHIJKLMNOP" not in repr(client)

"""Bybit v5 client for linear USDT perpetuals.

Reference: https://bybit-exchange.github.io/docs/v5/guide (signing) and https://bybit-exchange.github.io/docs/v5/error
(codes). GET requests sign the query string exactly as sent; POST requests sign the compact JSON body they send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any
from urllib.parse import quote

from . import symbols
from .base import (
    Balance,
    ClockSync,
    Credentials,
    FundingInfo,
    FundingPayment,
    KeyPermissions,
    LeverageInfo,
    Order,
    OrderAck,
    OrderStatus,
    Position,
    PositionMode,
    PositionSide,
    ReadyOrder,
    Side,
    SymbolRules,
    Venue,
    order_ids_text,
    order_status,
    same_order,
)
from .errors import (
    AuthenticationError,
    ClockSkewError,
    DuplicateOrder,
    ExchangeUnavailable,
    InsufficientMargin,
    InvalidLeverage,
    InvalidRequest,
    MalformedResponse,
    OrderNotFound,
    PermissionDenied,
    PositionConflict,
    RateLimited,
    ReduceOnlyRejected,
    SymbolNotFound,
    UnknownOutcome,
)
from .transport import (
    EPOCH,
    Call,
    ClientCore,
    Dialect,
    Intent,
    Prepared,
    Reader,
    Rejection,
    Reply,
    from_millis,
    optional_whole,
    query_text,
    shown,
    to_bool,
    to_decimal,
    wait_from_header,
)

PATH_SERVER_TIME = "/v5/market/time"
PATH_INSTRUMENTS = "/v5/market/instruments-info"
PATH_TICKERS = "/v5/market/tickers"
PATH_POSITIONS = "/v5/position/list"
PATH_SET_LEVERAGE = "/v5/position/set-leverage"
PATH_WALLET_BALANCE = "/v5/account/wallet-balance"
PATH_ORDER_CREATE = "/v5/order/create"
PATH_ORDER_REALTIME = "/v5/order/realtime"
PATH_ORDER_HISTORY = "/v5/order/history"
PATH_TRANSACTION_LOG = "/v5/account/transaction-log"
PATH_API_KEY_INFO = "/v5/user/query-api"

CATEGORY = "linear"
INSTRUMENTS_PAGE_SIZE = 1000
TRANSACTION_LOG_PAGE_SIZE = 50
TRANSACTION_LOG_WINDOW = timedelta(days=7)
MAX_PAGES = 100  # a cursor that never ends is a venue bug; stop instead of looping forever
CODE_LEVERAGE_NOT_MODIFIED = "110043"

OP_SET_LEVERAGE = "set leverage"
OP_PLACE_ORDER = "place order"

# Every value of the v5 enum (docs/v5/enum.mdx, "orderStatus"). Triggered is the instant a conditional order
# turns New; PartiallyFilledCanceled is spot-only; Deactivated is a conditional order cancelled before it triggered.
_ORDER_STATUS = {
    "New": OrderStatus.NEW,
    "Untriggered": OrderStatus.NEW,
    "Triggered": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "PartiallyFilledCanceled": OrderStatus.CANCELLED,
    "Deactivated": OrderStatus.CANCELLED,
    "Rejected": OrderStatus.REJECTED,
}
_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_POSITION_IDX = {PositionSide.LONG: 1, PositionSide.SHORT: 2}  # hedge mode; one-way is 0

# Permission categories that cannot move funds off the account. Anything else (Fiat*, new ones) may.
_TRADING_PERMISSIONS = frozenset(
    {"ContractTrade", "Spot", "Options", "Derivatives", "CopyTrading", "BlockTrade", "Exchange", "Earn", "NFT"}
)
_TRANSFER_ONLY_WALLET = frozenset({"AccountTransfer", "SubMemberTransfer", "SubMemberTransferList"})

# position/list documents leverage "" under portfolio margin ("leverage rules are invalid").
_NO_LEVERAGE = "Bybit shows no per-position leverage for this account (as under portfolio margin)"
_NOT_FOUND_HINT = "Check the symbol and client order id; an order the venue never received cannot be found"
_DUPLICATE_HINT = "An order with this client order id already exists: look it up instead of sending it again"
_REQUEST_HINT = "Check the symbol, quantity and leverage against the venue's rules"
_SERVER_HINT = "The venue reported a server problem; try again shortly"

_CODES: dict[str, Rejection] = {
    "10002": Rejection(ClockSkewError, "the request timestamp is outside the venue's receive window"),
    "10003": Rejection(
        AuthenticationError, "the API key is invalid or belongs to another environment (mainnet, testnet, demo)"
    ),
    "10004": Rejection(AuthenticationError, "the signature did not match: the API secret is probably wrong"),
    "10005": Rejection(PermissionDenied, "the API key lacks the permission for this operation"),
    "10006": Rejection(RateLimited, "too many requests for this account"),
    "10010": Rejection(PermissionDenied, "this machine's IP is not on the API key's whitelist"),
    "10016": Rejection(ExchangeUnavailable, "the venue reported an internal server error", _SERVER_HINT),
    "110001": Rejection(OrderNotFound, "the order does not exist", _NOT_FOUND_HINT),
    "110004": Rejection(InsufficientMargin, "the wallet balance is insufficient"),
    "110045": Rejection(InsufficientMargin, "the wallet balance is insufficient"),
    "110007": Rejection(InsufficientMargin, "the available balance is insufficient"),
    "110012": Rejection(InsufficientMargin, "the available balance is insufficient"),
    "110044": Rejection(InsufficientMargin, "the available margin is insufficient"),
    "110074": Rejection(SymbolNotFound, "the contract is not live"),
    "110086": Rejection(InvalidLeverage, "the leverage exceeds the maximum of the current risk limit tier"),
    "110013": Rejection(InvalidLeverage, "this leverage is not allowed at the current risk limit level"),
    "110011": Rejection(InvalidLeverage, "this leverage would trigger immediate liquidation"),
    "110046": Rejection(InvalidLeverage, "this leverage would trigger immediate liquidation"),
    "110090": Rejection(InvalidLeverage, "the position may exceed the maximum limit at this leverage"),
    "110036": Rejection(InvalidLeverage, "leverage cannot be changed in cross margin mode"),
    "110038": Rejection(InvalidLeverage, "leverage cannot be changed in portfolio margin mode"),
    "110024": Rejection(PositionConflict, "a position exists on this symbol"),
    "110028": Rejection(PositionConflict, "open orders exist on this symbol"),
    "110023": Rejection(ReduceOnlyRejected, "the reduce-only order was refused: probably already flat"),
    "110042": Rejection(ReduceOnlyRejected, "the reduce-only order was refused: probably already flat"),
    "110072": Rejection(DuplicateOrder, "this orderLinkId was used before", _DUPLICATE_HINT),
    "110094": Rejection(InvalidRequest, "the order value is below the symbol's minimum", _REQUEST_HINT),
}
# A code not in the table proves nothing: on an order the transport turns this into UnknownOutcome.
_UNMAPPED = Rejection(
    InvalidRequest, "the venue answered with a code fundarb does not map", _REQUEST_HINT, definite=False
)
_SYMBOL_INVALID = re.compile(r"symbol.*(invalid|not exist|not found)", re.IGNORECASE)


def sign(secret: str, timestamp: str, api_key: str, recv_window: str, payload: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``timestamp + api_key + recv_window + payload`` (v5 guide, "Authentication")."""
    message = f"{timestamp}{api_key}{recv_window}{payload}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def query_string(params: Mapping[str, Any]) -> str:
    """The GET query in insertion order, built once. Values are percent-encoded here (``%`` left alone, so a
    cursor the venue already encoded is sent back verbatim) so that nothing downstream changes the signed bytes."""
    return "&".join(f"{key}={quote(query_text(value), safe='-_.~%')}" for key, value in params.items())


class BybitDialect(Dialect):
    venue = Venue.BYBIT
    server_time_path = PATH_SERVER_TIME

    def prepare(
        self, call: Call, *, timestamp_ms: int, recv_window_ms: int, credentials: Credentials | None
    ) -> Prepared:
        headers: dict[str, str] = {}
        if call.method == "GET":
            payload = query_string(call.params)
            target = f"{call.path}?{payload}" if payload else call.path
            body = None
        else:
            payload = json.dumps(dict(call.params), separators=(",", ":"))
            target = call.path
            body = payload.encode()
            headers["Content-Type"] = "application/json"
        signature = None
        if call.signed and credentials is not None:
            timestamp, recv_window = str(timestamp_ms), str(recv_window_ms)
            signature = sign(credentials.api_secret, timestamp, credentials.api_key, recv_window, payload)
            headers |= {
                "X-BAPI-API-KEY": credentials.api_key,
                "X-BAPI-TIMESTAMP": timestamp,
                "X-BAPI-RECV-WINDOW": recv_window,
                "X-BAPI-SIGN": signature,
            }
        return Prepared(target=target, body=body, headers=headers, signature=signature)

    def unwrap(self, document: Mapping[str, Any]) -> tuple[str, str, Any] | None:
        if "retCode" not in document:
            return None
        return str(document["retCode"]), str(document.get("retMsg") or ""), document.get("result")

    def classify(self, code: str, message: str, call: Call) -> Rejection:
        if code == "10001":
            if _SYMBOL_INVALID.search(message):
                return Rejection(SymbolNotFound, "the symbol is not a Bybit linear contract")
            if call.operation == OP_SET_LEVERAGE and "leverage" in message.lower():
                return Rejection(InvalidLeverage, "the venue refused this leverage")
            return Rejection(InvalidRequest, "a parameter was rejected", _REQUEST_HINT)
        if code == "110017":
            if call.reduce_only:
                return Rejection(ReduceOnlyRejected, "the reduce-only order has nothing to reduce: probably flat")
            return Rejection(InvalidRequest, "the quantity rounds down to zero", _REQUEST_HINT)
        return _CODES.get(code) or _UNMAPPED

    def retry_after(self, headers: Mapping[str, str], *, now: float) -> float | None:
        return wait_from_header(headers.get("X-Bapi-Limit-Reset-Timestamp"), now=now)

    def server_seconds(self, reply: Reply, reader: Reader) -> float:
        return reader.whole(reply.data, "timeNano") / 1e9


class BybitClient(ClientCore):
    """Bybit v5, category ``linear`` (USDT perpetuals). Public-data methods work without credentials."""

    venue = Venue.BYBIT
    dialect = BybitDialect

    # -- time ---------------------------------------------------------------------------------------------------

    def server_time(self) -> datetime:
        """Venue time from ``timeNano``. https://bybit-exchange.github.io/docs/v5/market/time"""
        operation = "server time"
        reply = self._get(operation, PATH_SERVER_TIME, {}, signed=False)
        nanos = self.transport.reader(operation).whole(reply.data, "timeNano")
        return EPOCH + timedelta(microseconds=nanos // 1000)

    def sync_clock(self, *, samples: int = 3, max_age: float | None = None) -> ClockSync:
        """Measure the clock offset against /v5/market/time. https://bybit-exchange.github.io/docs/v5/market/time"""
        return self.transport.sync_clock(samples=samples, max_age=max_age)

    def exchange_now(self) -> datetime:
        """Local clock plus the measured offset. https://bybit-exchange.github.io/docs/v5/guide (timestamps)"""
        return self._now()

    def close(self) -> None:
        """Release pooled connections. https://bybit-exchange.github.io/docs/v5/guide"""
        self.transport.close()

    # -- market data ----------------------------------------------------------------------------------------------

    def symbol_rules(self, symbol: str) -> SymbolRules:
        """Lot size and leverage limits (cached a few minutes). https://bybit-exchange.github.io/docs/v5/market/instrument"""
        return self._rules(symbol, "symbol rules")

    def all_symbol_rules(self) -> dict[str, SymbolRules]:
        """Every linear USDT perpetual, paged by cursor. https://bybit-exchange.github.io/docs/v5/market/instrument"""
        operation = "list symbol rules"
        reader = self.transport.reader(operation)
        found: dict[str, SymbolRules] = {}
        params: dict[str, Any] = {"category": CATEGORY, "limit": INSTRUMENTS_PAGE_SIZE}
        for _ in range(MAX_PAGES):
            reply = self._get(operation, PATH_INSTRUMENTS, params, signed=False)
            rows = reader.rows(reader.get(reply.data, "list"), "list")
            for rules in self._parse_rows(rows, lambda row: self._parse_rules(row, reader), operation):
                found[rules.symbol] = rules
                self.rules.put(("rules", rules.symbol), rules)
            cursor = reader.mapping(reply.data, "result").get("nextPageCursor")
            if not cursor:
                return found
            params = {"category": CATEGORY, "limit": INSTRUMENTS_PAGE_SIZE, "cursor": cursor}
        raise self._error(MalformedResponse, operation, f"the instrument list did not end after {MAX_PAGES} pages")

    def funding_info(self, symbol: str) -> FundingInfo:
        """Current funding rate and next settlement. https://bybit-exchange.github.io/docs/v5/market/tickers"""
        operation = "funding info"
        symbol = self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_TICKERS, {"category": CATEGORY, "symbol": symbol}, signed=False)
        row = self._only_row(reader, reply, symbol, operation)
        return self._parse_funding(row, reader)

    def all_funding_info(self) -> dict[str, FundingInfo]:
        """Funding for every linear USDT perpetual. https://bybit-exchange.github.io/docs/v5/market/tickers"""
        operation = "list funding info"
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_TICKERS, {"category": CATEGORY}, signed=False)
        rows = reader.rows(reader.get(reply.data, "list"), "list")
        return {
            info.symbol: info
            for info in self._parse_rows(rows, lambda row: self._parse_funding(row, reader), operation)
        }

    # -- account state --------------------------------------------------------------------------------------------

    def position_mode(self, symbol: str) -> PositionMode:
        """One row with positionIdx 0 means one-way; rows 1 and 2 mean hedge.
        https://bybit-exchange.github.io/docs/v5/position"""
        operation = "position mode"
        rows = self._position_rows(symbol, operation)
        reader = self.transport.reader(operation)
        indexes = {reader.whole(row, "positionIdx") for row in rows}
        if indexes & {1, 2}:
            return PositionMode.HEDGE
        if indexes == {0}:
            return PositionMode.ONE_WAY
        raise self._error(MalformedResponse, operation, f"cannot tell the position mode from positionIdx {indexes}")

    def leverage(self, symbol: str) -> LeverageInfo:
        """Leverage read back from the position rows: ``""`` (portfolio margin) is unknown, a value set in the web
        UI may be fractional. https://bybit-exchange.github.io/docs/v5/position"""
        operation = "read leverage"
        symbol = self._symbol(symbol, operation)
        rows = self._position_rows(symbol, operation)
        reader = self.transport.reader(operation)
        by_index = {reader.whole(row, "positionIdx"): reader.optional_decimal(row, "leverage") for row in rows}
        long_index, short_index = (1 if 1 in by_index else 0), (2 if 2 in by_index else 0)
        if long_index not in by_index or short_index not in by_index:
            raise self._error(MalformedResponse, operation, f"no leverage rows for {symbol}")
        long, short = by_index[long_index], by_index[short_index]
        rules = self._rules(symbol, operation)
        return LeverageInfo(
            self.venue,
            symbol,
            long=long,
            short=short,
            max_leverage=rules.max_leverage,
            unknown_reason=_NO_LEVERAGE if long is None or short is None else "",
        )

    def set_leverage(self, symbol: str, leverage: int, *, position_mode: PositionMode) -> None:
        """Set buy and sell leverage to the same whole number; 110043 ("not modified") is success.
        https://bybit-exchange.github.io/docs/v5/position/leverage"""
        symbol = self._symbol(symbol, OP_SET_LEVERAGE)
        value = self._leverage_arg(leverage, OP_SET_LEVERAGE)
        rules = self._rules(symbol, OP_SET_LEVERAGE)
        self._check_leverage(
            symbol, value, minimum=rules.min_leverage, maximum=rules.max_leverage, operation=OP_SET_LEVERAGE
        )
        # Equal buy/sell leverage is required in one-way mode and in hedge mode with cross margin.
        body = {"category": CATEGORY, "symbol": symbol, "buyLeverage": str(value), "sellLeverage": str(value)}
        self.transport.request(
            Call(
                OP_SET_LEVERAGE,
                "POST",
                PATH_SET_LEVERAGE,
                body,
                intent=Intent.IDEMPOTENT_WRITE,
                ok_codes=frozenset({CODE_LEVERAGE_NOT_MODIFIED}),
            )
        )

    def positions(self, symbol: str) -> list[Position]:
        """Open (non-zero) positions on ``symbol``. https://bybit-exchange.github.io/docs/v5/position"""
        operation = "positions"
        symbol = self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        found = []
        for row in self._position_rows(symbol, operation):
            size = reader.decimal(row, "size")
            if size == 0:
                continue
            found.append(
                Position(
                    self.venue,
                    symbol,
                    side=self._position_side(row, reader),
                    size=abs(size),
                    entry_price=reader.decimal(row, "avgPrice"),
                    mark_price=reader.optional_decimal(row, "markPrice"),
                    leverage=to_decimal(row.get("leverage")),
                    unrealised_pnl=reader.optional_decimal(row, "unrealisedPnl"),
                )
            )
        return found

    def balance(self) -> Balance:
        """USDT balance of the unified account. https://bybit-exchange.github.io/docs/v5/account/wallet-balance"""
        operation = "balance"
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_WALLET_BALANCE, {"accountType": "UNIFIED", "coin": "USDT"})
        accounts = reader.rows(reader.get(reply.data, "list"), "list")
        if not accounts:
            raise self._error(MalformedResponse, operation, "no UNIFIED account in the answer")
        account = accounts[0]
        available = reader.optional_decimal(account, "totalAvailableBalance")
        if available is None:
            raise self._error(
                MalformedResponse,
                operation,
                "totalAvailableBalance is empty (isolated margin mode?)",
                hint="fundarb needs the unified account in cross or portfolio margin mode",
            )
        coins = [c for c in reader.rows(reader.mapping(account, "account").get("coin"), "coin") if _is_usdt(c)]
        if coins:
            equity, wallet = reader.decimal(coins[0], "equity"), reader.decimal(coins[0], "walletBalance")
        else:
            equity, wallet = reader.decimal(account, "totalEquity"), reader.decimal(account, "totalWalletBalance")
        return Balance(self.venue, "USDT", available_margin=available, equity=equity, wallet_balance=wallet)

    # -- orders ---------------------------------------------------------------------------------------------------

    def place_market_order(
        self,
        *,
        symbol: str,
        side: Side,
        quantity: Decimal,
        client_order_id: str,
        position_mode: PositionMode,
        reduce_only: bool = False,
    ) -> OrderAck:
        """Send one market order, never retried (except once after a timestamp rejection).
        https://bybit-exchange.github.io/docs/v5/order/create-order"""
        return self.order_send(
            self.order_ready(
                symbol=symbol,
                side=side,
                quantity=quantity,
                client_order_id=client_order_id,
                position_mode=position_mode,
                reduce_only=reduce_only,
            )
        )

    def order_ready(
        self,
        *,
        symbol: str,
        side: Side,
        quantity: Decimal,
        client_order_id: str,
        position_mode: PositionMode,
        reduce_only: bool = False,
        at: float | None = None,
    ) -> ReadyOrder:
        """A market order signed for a send at local time ``at``; sends nothing.
        https://bybit-exchange.github.io/docs/v5/order/create-order"""
        symbol = self._symbol(symbol, OP_PLACE_ORDER)
        qty, link_id = self._order_args(quantity, client_order_id, OP_PLACE_ORDER)
        if position_mode is PositionMode.HEDGE:
            # A close trades against the position the opposite side opened: Sell closes the long (idx 1).
            opened_by = side.opposite if reduce_only else side
            position_idx = _POSITION_IDX[PositionSide.opened_by(opened_by)]
        else:
            position_idx = 0
        body = {
            "category": CATEGORY,
            "symbol": symbol,
            "side": "Buy" if side is Side.BUY else "Sell",
            "orderType": "Market",
            "qty": qty,
            "positionIdx": position_idx,
            "orderLinkId": link_id,
            "reduceOnly": bool(reduce_only),
        }
        call = Call(OP_PLACE_ORDER, "POST", PATH_ORDER_CREATE, body, intent=Intent.ORDER, reduce_only=reduce_only)
        return ReadyOrder(symbol=symbol, client_order_id=link_id, request=self.transport.ready(call, at=at))

    def order_send(self, ready: ReadyOrder) -> OrderAck:
        """Send an order built by ``order_ready``. https://bybit-exchange.github.io/docs/v5/order/create-order"""
        reply = self.transport.request(ready.request.call, ready=ready.request)
        # Accepted (retCode 0) but unreadable: the order exists, so the caller must look it up, not resend.
        reader = self.transport.reader(OP_PLACE_ORDER, error=UnknownOutcome)
        order_id = reader.text(reply.data, "orderId")
        sent_time = to_decimal(reply.document.get("time"))
        return OrderAck(
            self.venue,
            ready.symbol,
            client_order_id=ready.client_order_id,
            exchange_order_id=order_id,
            exchange_time=from_millis(int(sent_time)) if sent_time else None,
        )

    def get_order(self, *, symbol: str, client_order_id: str, exchange_order_id: str | None = None) -> Order:
        """Look an order up by orderId when given, else by orderLinkId: open orders first, then history. Only a row
        echoing the id(s) asked for is the order.
        https://bybit-exchange.github.io/docs/v5/order/open-order and https://bybit-exchange.github.io/docs/v5/order/order-list"""
        operation = "get order"
        symbol = self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        params: dict[str, Any] = {"category": CATEGORY, "symbol": symbol}
        # The venue ranks orderId above orderLinkId, so send only the one we mean.
        params |= {"orderId": exchange_order_id} if exchange_order_id else {"orderLinkId": client_order_id}
        for path in (PATH_ORDER_REALTIME, PATH_ORDER_HISTORY):
            reply = self._get(operation, path, params)
            for row in reader.rows(reader.get(reply.data, "list"), "list"):
                row = reader.mapping(row, "order")
                if same_order(row.get("orderLinkId"), row.get("orderId"), client_order_id, exchange_order_id):
                    return self._parse_order(row, symbol, reader)
        raise self._error(
            OrderNotFound,
            operation,
            f"no order with {order_ids_text(client_order_id, exchange_order_id)} on {symbol}",
            hint=_NOT_FOUND_HINT,
        )

    # -- history and key ------------------------------------------------------------------------------------------

    def funding_payments(
        self, *, since: datetime, until: datetime | None = None, symbol: str | None = None
    ) -> list[FundingPayment]:
        """Funding settlements (type SETTLEMENT), in 7-day windows paged by cursor; positive = received.
        https://bybit-exchange.github.io/docs/v5/account/transaction-log"""
        operation = "funding payments"
        wanted = self._symbol(symbol, operation) if symbol is not None else None
        start, end = self._since_until(since, until, operation)
        reader = self.transport.reader(operation)
        found: dict[str, FundingPayment] = {}
        window_ms = TRANSACTION_LOG_WINDOW // timedelta(milliseconds=1)
        while start <= end:
            window_end = min(start + window_ms - 1, end)
            for row in self._transaction_log(operation, start, window_end, reader):
                payment = self._parse_funding_payment(row, reader)
                if payment is not None and (wanted is None or payment.symbol == wanted):
                    found[payment.payment_id] = payment
            start = window_end + 1
        return sorted(found.values(), key=lambda payment: (payment.time, payment.payment_id))

    def account_id(self) -> str:
        """The venue's user id (UID) behind the key: ``result.userID`` of the key-info endpoint, which any key may
        call. The docs' sample also carries ``userIDInt64`` (``"0"`` there), read only if userID is empty.
        https://bybit-exchange.github.io/docs/v5/user/apikey-info"""
        operation = "account id"
        data = self.transport.reader(operation).mapping(self._get(operation, PATH_API_KEY_INFO, {}).data, "result")
        uid = optional_whole(data.get("userID")) or optional_whole(data.get("userIDInt64"))
        if not uid or uid < 1:
            raise self._error(
                MalformedResponse, operation, f"no user id in the key information: {data.get('userID')!r}"
            )
        return str(uid)

    def key_permissions(self) -> KeyPermissions:
        """What the API key may do; any wallet or unknown right is flagged as able to move funds.
        https://bybit-exchange.github.io/docs/v5/user/apikey-info"""
        operation = "key permissions"
        reader = self.transport.reader(operation)
        data = reader.mapping(self._get(operation, PATH_API_KEY_INFO, {}).data, "result")
        read_only = to_bool(data.get("readOnly"))
        if read_only is None:
            raise self._error(MalformedResponse, operation, f"readOnly is not 0/1: {shown(data.get('readOnly'))}")
        permissions = reader.mapping(data.get("permissions") or {}, "permissions")
        granted = {name: [str(p) for p in reader.rows(rights, name)] for name, rights in permissions.items()}
        contract = set(granted.get("ContractTrade", []))
        wallet = set(granted.get("Wallet", []))
        unknown = sorted(
            name for name, rights in granted.items() if rights and name not in _TRADING_PERMISSIONS | {"Wallet"}
        )
        can_withdraw = bool(wallet - _TRANSFER_ONLY_WALLET) or bool(unknown)
        ips = [str(ip) for ip in reader.rows(data.get("ips"), "ips")]
        details = tuple(f"{name}: {', '.join(rights)}" for name, rights in sorted(granted.items()) if rights)
        if unknown:
            details += (f"unrecognised permission groups {', '.join(unknown)} are treated as able to move funds",)
        return KeyPermissions(
            can_read=True,
            can_trade_perpetuals=not read_only and {"Order", "Position"} <= contract,
            can_withdraw=can_withdraw,
            can_transfer=bool(wallet) or can_withdraw,
            read_only=read_only,
            ip_restricted=bool(ips) and ips != ["*"],
            details=details,
        )

    # -- helpers --------------------------------------------------------------------------------------------------

    def _get(self, operation: str, path: str, params: Mapping[str, Any], *, signed: bool = True) -> Reply:
        return self.transport.request(Call(operation, "GET", path, params, signed=signed))

    def _rules(self, symbol: str, operation: str) -> SymbolRules:
        symbol = self._symbol(symbol, operation)
        cached = self.rules.get(("rules", symbol))
        if cached is not None:
            return cached
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_INSTRUMENTS, {"category": CATEGORY, "symbol": symbol}, signed=False)
        rules = self._parse_rules(self._only_row(reader, reply, symbol, operation), reader)
        self.rules.put(("rules", symbol), rules)
        return rules

    def _only_row(self, reader: Reader, reply: Reply, symbol: str, operation: str) -> Mapping[str, Any]:
        for row in reader.rows(reader.get(reply.data, "list"), "list"):
            if reader.mapping(row, "row").get("symbol") == symbol:
                return row
        raise self._error(SymbolNotFound, operation, f"{symbol} is not a tradable Bybit linear perpetual")

    def _parse_rules(self, row: Mapping[str, Any], reader: Reader) -> SymbolRules:
        symbol = reader.text(row, "symbol")
        if not symbols.is_canonical(symbol) or row.get("contractType", "LinearPerpetual") != "LinearPerpetual":
            raise reader.fail(f"{symbol} is not a USDT perpetual")
        leverage = reader.mapping(reader.get(row, "leverageFilter"), "leverageFilter")
        lot = reader.mapping(reader.get(row, "lotSizeFilter"), "lotSizeFilter")
        minimum = reader.decimal(leverage, "minLeverage").to_integral_value(rounding=ROUND_CEILING)
        return SymbolRules(
            self.venue,
            symbol,
            min_leverage=max(1, int(minimum)),
            max_leverage=reader.floor(leverage, "maxLeverage"),
            qty_step=reader.decimal(lot, "qtyStep"),
            min_qty=reader.decimal(lot, "minOrderQty"),
            min_notional=reader.decimal(lot, "minNotionalValue"),
            max_market_qty=reader.optional_decimal(lot, "maxMktOrderQty"),
            tradable=row.get("status") == "Trading",
        )

    def _parse_funding(self, row: Mapping[str, Any], reader: Reader) -> FundingInfo:
        symbol = reader.text(row, "symbol")
        if not symbols.is_canonical(symbol):
            raise reader.fail(f"{symbol} is not a USDT perpetual")
        next_ms = reader.whole(row, "nextFundingTime")
        if next_ms < 10**12:  # 0 or a duration, never an instant after 2001: refuse rather than guess
            raise reader.fail(f"nextFundingTime {next_ms} is not an epoch timestamp in ms")
        return FundingInfo(
            self.venue,
            symbol,
            rate=reader.decimal(row, "fundingRate"),
            next_funding_time=from_millis(next_ms),
            interval_hours=reader.whole(row, "fundingIntervalHour"),
            mark_price=reader.decimal(row, "markPrice"),
        )

    def _position_rows(self, symbol: str, operation: str) -> list[Mapping[str, Any]]:
        symbol = self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_POSITIONS, {"category": CATEGORY, "symbol": symbol})
        rows = reader.rows(reader.get(reply.data, "list"), "list")
        rows = [row for row in rows if reader.mapping(row, "position").get("symbol", symbol) == symbol]
        if not rows:
            raise self._error(MalformedResponse, operation, f"no position rows for {symbol}")
        return rows

    def _position_side(self, row: Mapping[str, Any], reader: Reader) -> PositionSide:
        side = row.get("side")
        if side in _SIDES:
            return PositionSide.opened_by(_SIDES[side])
        index = reader.whole(row, "positionIdx")
        if index in (1, 2):
            return PositionSide.LONG if index == 1 else PositionSide.SHORT
        raise reader.fail(f"a non-zero position without a side: {shown(side)}")

    def _parse_order(self, row: Mapping[str, Any], symbol: str, reader: Reader) -> Order:
        side = _SIDES.get(str(row.get("side")))
        if side is None:
            raise reader.fail(f"unknown side {shown(row.get('side'))}")
        filled = reader.decimal(row, "cumExecQty")
        status = order_status(
            str(row.get("orderStatus")), _ORDER_STATUS, filled=filled, logger=self.transport.logger, venue=self.venue
        )
        average = reader.optional_decimal(row, "avgPrice")
        created = reader.optional_decimal(row, "createdTime")
        return Order(
            self.venue,
            symbol,
            client_order_id=reader.text(row, "orderLinkId"),
            exchange_order_id=reader.text(row, "orderId"),
            side=side,
            status=status,
            quantity=reader.decimal(row, "qty"),
            filled_quantity=filled,
            avg_price=average if average and filled else None,
            fee=_order_fee(row, reader),
            reduce_only=reader.boolean(row, "reduceOnly"),
            created_at=from_millis(int(created)) if created else None,
        )

    def _transaction_log(self, operation: str, start: int, end: int, reader: Reader) -> list[Mapping[str, Any]]:
        params: dict[str, Any] = {
            "accountType": "UNIFIED",
            "category": CATEGORY,
            "type": "SETTLEMENT",
            "startTime": start,
            "endTime": end,
            "limit": TRANSACTION_LOG_PAGE_SIZE,
        }
        rows: list[Mapping[str, Any]] = []
        for _ in range(MAX_PAGES):
            reply = self._get(operation, PATH_TRANSACTION_LOG, params)
            rows += reader.rows(reader.get(reply.data, "list"), "list")
            cursor = reader.mapping(reply.data, "result").get("nextPageCursor")
            if not cursor:
                return rows
            params = {**params, "cursor": cursor}
        raise self._error(MalformedResponse, operation, f"the transaction log did not end after {MAX_PAGES} pages")

    def _parse_funding_payment(self, row: Mapping[str, Any], reader: Reader) -> FundingPayment | None:
        if row.get("type", "SETTLEMENT") != "SETTLEMENT" or not symbols.is_canonical(row.get("symbol")):
            return None
        fee_rate = reader.optional_decimal(row, "feeRate")
        # feeRate on a SETTLEMENT row is the funding rate negated on the Sell side; undo that to get the market rate.
        rate = None
        if fee_rate is not None and row.get("side") in _SIDES:
            rate = fee_rate if row["side"] == "Buy" else -fee_rate
        return FundingPayment(
            self.venue,
            reader.text(row, "symbol"),
            amount=reader.decimal(row, "funding"),
            time=reader.millis(row, "transactionTime"),
            payment_id=reader.text(row, "id"),
            rate=rate,
        )


def _order_fee(row: Mapping[str, Any], reader: Reader) -> Decimal | None:
    detail = row.get("cumFeeDetail")
    if isinstance(detail, Mapping) and detail:
        value = detail.get("USDT", next(iter(detail.values())) if len(detail) == 1 else None)
        fee = to_decimal(value) if value is not None else None
        if fee is not None:
            return fee
    return reader.optional_decimal(row, "cumExecFee")


def _is_usdt(coin: Any) -> bool:
    return isinstance(coin, Mapping) and coin.get("coin") == "USDT"

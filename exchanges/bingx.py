"""BingX perpetual swap (USDT-M) client.

Reference: https://bingx-api.github.io/docs/#/en-us/swapV2/authentication.html (signing) and
https://bingx-api.github.io/docs/#/en-us/swapV2/base-info.html (error codes). Every parameter, POST included, goes
in the query string sorted by name, with ``signature`` last and an empty body; values are restricted to characters
that need no URL encoding, so the signed string and the bytes sent are identical.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

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
    ExchangeError,
    ExchangeUnavailable,
    InsufficientMargin,
    InvalidLeverage,
    InvalidRequest,
    MalformedResponse,
    OrderNotFound,
    OrderProcessing,
    PermissionDenied,
    PositionConflict,
    RateLimited,
    ReduceOnlyRejected,
    SymbolNotFound,
    UnknownOutcome,
)
from .transport import (
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

PATH_SERVER_TIME = "/openApi/swap/v2/server/time"
PATH_CONTRACTS = "/openApi/swap/v2/quote/contracts"
PATH_PREMIUM_INDEX = "/openApi/swap/v2/quote/premiumIndex"
PATH_POSITION_SIDE = "/openApi/swap/v1/positionSide/dual"
PATH_LEVERAGE = "/openApi/swap/v2/trade/leverage"
PATH_POSITIONS = "/openApi/swap/v2/user/positions"
PATH_BALANCE = "/openApi/swap/v3/user/balance"
PATH_ORDER = "/openApi/swap/v2/trade/order"
PATH_INCOME = "/openApi/swap/v2/user/income"
PATH_API_PERMISSIONS = "/openApi/v1/account/apiPermissions"
PATH_UID = "/openApi/account/v1/uid"

DEFAULT_FUNDING_INTERVAL_HOURS = 8
INCOME_PAGE_SIZE = 1000
INCOME_WINDOW = timedelta(days=7)

OP_SET_LEVERAGE = "set leverage"
OP_PLACE_ORDER = "place order"

# The swap docs give no full list. WORKING is in JKorf/BingX.Net (Enums/OrderStatus.cs), RUNNING in ccxt's
# parse_order_status (python/ccxt/bingx.py): both mean live. EXPIRED ("order lapsed") is in docs-v3's
# ORDER_TRADE_UPDATE status list; it is final like a cancel. Anything else is logged and treated as live.
_ORDER_STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING": OrderStatus.NEW,
    "WORKING": OrderStatus.NEW,
    "RUNNING": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "CANCELLED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.CANCELLED,
    "FAILED": OrderStatus.REJECTED,
    "REJECTED": OrderStatus.REJECTED,
}
_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
# apiPermissions codes, from the docs-v3 field description. JKorf/BingX.Net (Enums/ApiKeyPermission.cs) also has
# an undocumented 6 and no 5; an unlisted code is treated as able to move funds.
_CODE_PERPETUALS = 3
_CODE_WITHDRAW = 5
_PERMISSION_NAMES = {
    1: "spot trading",
    2: "read",
    _CODE_PERPETUALS: "perpetual futures trading",
    4: "universal transfer",
    _CODE_WITHDRAW: "withdraw",
    7: "sub-account internal transfer",
}
_TRADING_PERMISSIONS = frozenset({1, _CODE_PERPETUALS})
_TRANSFER_PERMISSIONS = frozenset({4, 7})
_NO_ENCODING_NEEDED = re.compile(r"[A-Za-z0-9._~-]*")

_NOT_FOUND_HINT = "Check the symbol and client order id; an order the venue never received cannot be found"
_DUPLICATE_HINT = "An order with this client order id already exists: look it up instead of sending it again"
_REQUEST_HINT = "Check the symbol, quantity and leverage against the venue's rules"
_SERVER_HINT = "The venue reported a server problem; try again shortly"

_CODES: dict[str, Rejection] = {
    "100421": Rejection(
        ClockSkewError,
        "the request timestamp does not match the venue's clock",
        "fundarb re-measured the clock and retried once; if this persists, the pair may be restricted from API trading",
    ),
    "100001": Rejection(AuthenticationError, "the signature check failed: the API secret is probably wrong"),
    "100412": Rejection(AuthenticationError, "the request carried no signature"),
    "100413": Rejection(AuthenticationError, "the API key is invalid"),
    "100004": Rejection(PermissionDenied, "the API key lacks the permission for this operation"),
    "100419": Rejection(PermissionDenied, "this machine's IP is not on the API key's whitelist"),
    "100410": Rejection(RateLimited, "too many requests for this account"),
    "101481": Rejection(DuplicateOrder, "this clientOrderId was used before", _DUPLICATE_HINT),
    "80016": Rejection(OrderNotFound, "the order does not exist", _NOT_FOUND_HINT),
    # On an order create this means "received, outcome pending": the order may exist, so it is no refusal.
    "80019": Rejection(OrderProcessing, "the order is still being processed", "Ask again in a moment", definite=False),
    "101204": Rejection(InsufficientMargin, "the margin is insufficient"),
    "109401": Rejection(PositionConflict, "there are open orders or a position"),
    "101212": Rejection(PositionConflict, "there are pending orders on this symbol"),
    "109500": Rejection(SymbolNotFound, "the symbol does not exist on BingX"),
    "101414": Rejection(InvalidLeverage, "the leverage exceeds the pair's maximum"),
    "100500": Rejection(ExchangeUnavailable, "the venue reported an internal error", _SERVER_HINT),
    "101500": Rejection(ExchangeUnavailable, "the venue timed out internally", _SERVER_HINT),
    "80012": Rejection(ExchangeUnavailable, "the service is unavailable or busy", _SERVER_HINT),
    "100400": Rejection(InvalidRequest, "a parameter was rejected", _REQUEST_HINT),
    "80014": Rejection(InvalidRequest, "a parameter was rejected", _REQUEST_HINT),
}
# A code not in the table proves nothing: on an order the transport turns this into UnknownOutcome.
_UNMAPPED = Rejection(
    InvalidRequest, "the venue answered with a code fundarb does not map", _REQUEST_HINT, definite=False
)
_DUPLICATE = re.compile(r"duplicate|only once|repeat", re.IGNORECASE)
_MARGIN = re.compile(r"margin is not enough|insufficient margin", re.IGNORECASE)
_MODE = re.compile(r"hedge mode|one-way mode|'side' field|positions or pending orders|position ?side", re.IGNORECASE)
_NOT_AVAILABLE = re.compile(r"not available|not exist|not found", re.IGNORECASE)
_REDUCE_REFUSED = re.compile(
    r"reduce|no position|position.{0,20}(not exist|n[o']t exist)|insufficient position|closable", re.IGNORECASE
)


def sign(secret: str, query: str) -> str:
    """Lowercase hex HMAC-SHA256 of the query string (without ``signature``). BingX "Signature" section."""
    return hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


class BingXDialect(Dialect):
    venue = Venue.BINGX
    server_time_path = PATH_SERVER_TIME

    def prepare(
        self, call: Call, *, timestamp_ms: int, recv_window_ms: int, credentials: Credentials | None
    ) -> Prepared:
        params = {key: query_text(value) for key, value in call.params.items()}
        if call.signed:
            params |= {"timestamp": str(timestamp_ms), "recvWindow": str(recv_window_ms)}
        # The venue verifies the string as received, so any order is valid; every SDK sorts (ccxt, JKorf, BingX's
        # 2023 demo), which makes sorted the well-trodden path (notes §14).
        params = dict(sorted(params.items()))
        for key, value in params.items():
            # Raw and URL-encoded forms must coincide, or the venue verifies a different string (notes §2.2).
            if not _NO_ENCODING_NEEDED.fullmatch(value):
                raise ValueError(f"BingX parameter {key}={value!r} would need URL encoding; refusing to sign it")
        query = "&".join(f"{key}={value}" for key, value in params.items())
        headers: dict[str, str] = {}
        signature = None
        if call.signed and credentials is not None:
            signature = sign(credentials.api_secret, query)
            query = f"{query}&signature={signature}" if query else f"signature={signature}"
            headers["X-BX-APIKEY"] = credentials.api_key
        target = f"{call.path}?{query}" if query else call.path
        return Prepared(target=target, body=None, headers=headers, signature=signature)

    def unwrap(self, document: Mapping[str, Any]) -> tuple[str, str, Any] | None:
        if "code" not in document:
            return None
        return str(document["code"]), str(document.get("msg") or ""), document.get("data")

    def classify(self, code: str, message: str, call: Call) -> Rejection:
        rejection = self._by_code(code, message)
        closing = call.reduce_only and rejection.error in (InvalidRequest, PositionConflict) and code != "109400"
        if closing and (code == "80017" or _REDUCE_REFUSED.search(message)):
            return Rejection(ReduceOnlyRejected, "the closing order was refused: probably already flat")
        return rejection

    @staticmethod
    def _by_code(code: str, message: str) -> Rejection:
        if code in ("101209", "109201"):
            if _DUPLICATE.search(message):
                return Rejection(DuplicateOrder, "this order was already submitted", _DUPLICATE_HINT)
            if code == "101209":
                return Rejection(InvalidLeverage, "the position value exceeds the maximum for this leverage")
        if code == "109400":
            if _MARGIN.search(message):
                return Rejection(InsufficientMargin, "the margin is insufficient")
            if _MODE.search(message):
                return Rejection(PositionConflict, "the request does not match the account's position mode")
            return Rejection(InvalidRequest, "a parameter was rejected", _REQUEST_HINT)
        if code == "80012" and _MARGIN.search(message):
            return Rejection(InsufficientMargin, "the margin is insufficient")
        if code == "101400":
            if _NOT_AVAILABLE.search(message):
                return Rejection(SymbolNotFound, "the pair is not available for trading")
            return Rejection(InvalidRequest, "the order value is below the minimum", _REQUEST_HINT)
        if code == "80017":
            return Rejection(PositionConflict, "the position does not exist")
        return _CODES.get(code) or _UNMAPPED

    def retry_after(self, headers: Mapping[str, str], *, now: float) -> float | None:
        return wait_from_header(headers.get("X-RateLimit-Requests-Expire"), now=now)

    def server_seconds(self, reply: Reply, reader: Reader) -> float:
        return reader.whole(reply.data, "serverTime") / 1000


class BingXClient(ClientCore):
    """BingX USDT-M perpetual swap. Public-data methods work without credentials."""

    venue = Venue.BINGX
    dialect = BingXDialect

    # -- time ---------------------------------------------------------------------------------------------------

    def server_time(self) -> datetime:
        """Venue time from ``data.serverTime``. https://bingx-api.github.io/docs/#/en-us/swapV2/base-info.html"""
        operation = "server time"
        reply = self._get(operation, PATH_SERVER_TIME, {}, signed=False)
        return from_millis(self.transport.reader(operation).whole(reply.data, "serverTime"))

    def sync_clock(self, *, samples: int = 3, max_age: float | None = None) -> ClockSync:
        """Measure the clock offset against server/time. https://bingx-api.github.io/docs/#/en-us/swapV2/base-info.html"""
        return self.transport.sync_clock(samples=samples, max_age=max_age)

    def exchange_now(self) -> datetime:
        """Local clock plus the measured offset. https://bingx-api.github.io/docs/#/en-us/swapV2/authentication.html"""
        return self._now()

    def close(self) -> None:
        """Release pooled connections. https://bingx-api.github.io/docs/#/en-us/swapV2/authentication.html"""
        self.transport.close()

    # -- market data ----------------------------------------------------------------------------------------------

    def symbol_rules(self, symbol: str) -> SymbolRules:
        """Precision, minimums, leverage caps (cached). https://bingx-api.github.io/docs/#/en-us/swapV2/market-api.html"""
        return self._rules(symbol, "symbol rules")

    def all_symbol_rules(self) -> dict[str, SymbolRules]:
        """Every USDT contract. https://bingx-api.github.io/docs/#/en-us/swapV2/market-api.html"""
        operation = "list symbol rules"
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_CONTRACTS, {}, signed=False)
        found: dict[str, SymbolRules] = {}
        for rules in self._parse_rows(
            _as_rows(reply.data, reader), lambda row: self._parse_rules(row, reader), operation
        ):
            found[rules.symbol] = rules
            self.rules.put(("rules", rules.symbol), rules)
        return found

    def funding_info(self, symbol: str) -> FundingInfo:
        """Funding rate and next settlement. https://bingx-api.github.io/docs/#/en-us/swapV2/market-api.html"""
        operation = "funding info"
        symbol = self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_PREMIUM_INDEX, {"symbol": symbols.to_bingx(symbol)}, signed=False)
        return self._parse_funding(self._only_row(reader, reply, symbol, operation), reader)

    def all_funding_info(self) -> dict[str, FundingInfo]:
        """Funding for every USDT contract. https://bingx-api.github.io/docs/#/en-us/swapV2/market-api.html"""
        operation = "list funding info"
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_PREMIUM_INDEX, {}, signed=False)
        rows = _as_rows(reply.data, reader)
        return {
            info.symbol: info
            for info in self._parse_rows(rows, lambda row: self._parse_funding(row, reader), operation)
        }

    # -- account state --------------------------------------------------------------------------------------------

    def position_mode(self, symbol: str) -> PositionMode:
        """Account-wide dual-side setting (``symbol`` only validated).
        https://bingx-api.github.io/docs/#/en-us/swapV2/trade-api.html"""
        operation = "position mode"
        self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_POSITION_SIDE, {})
        return PositionMode.HEDGE if reader.boolean(reply.data, "dualSidePosition") else PositionMode.ONE_WAY

    def leverage(self, symbol: str) -> LeverageInfo:
        """Current long/short leverage and the account's max. https://bingx-api.github.io/docs/#/en-us/swapV2/trade-api.html"""
        operation = "read leverage"
        symbol = self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        data = self._leverage_data(symbol, operation)
        return LeverageInfo(
            self.venue,
            symbol,
            long=reader.decimal(data, "longLeverage"),
            short=reader.decimal(data, "shortLeverage"),
            max_leverage=_account_max(data),
        )

    def set_leverage(self, symbol: str, leverage: int, *, position_mode: PositionMode) -> None:
        """Set leverage: side BOTH in one-way mode; in hedge mode LONG then SHORT, sequentially (5/s limit, and a
        failure on SHORT is reported as such). https://bingx-api.github.io/docs/#/en-us/swapV2/trade-api.html"""
        symbol = self._symbol(symbol, OP_SET_LEVERAGE)
        value = self._leverage_arg(leverage, OP_SET_LEVERAGE)
        self._check_leverage(
            symbol, value, minimum=1, maximum=self._max_leverage(symbol, OP_SET_LEVERAGE), operation=OP_SET_LEVERAGE
        )
        sides = ("LONG", "SHORT") if position_mode is PositionMode.HEDGE else ("BOTH",)
        for done, side in enumerate(sides):
            params = {"symbol": symbols.to_bingx(symbol), "side": side, "leverage": value}
            try:
                self.transport.request(
                    Call(OP_SET_LEVERAGE, "POST", PATH_LEVERAGE, params, intent=Intent.IDEMPOTENT_WRITE)
                )
            except ExchangeError as exc:
                if done:  # leverage changes are not transactional: say what already changed
                    raise _with_prefix(exc, f"the LONG side is already at {value}x but SHORT failed: ") from None
                raise

    def positions(self, symbol: str) -> list[Position]:
        """Open (non-zero) positions on ``symbol``. https://bingx-api.github.io/docs/#/en-us/swapV2/account-api.html"""
        operation = "positions"
        symbol = self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_POSITIONS, {"symbol": symbols.to_bingx(symbol)})
        found = []
        for row in reader.rows(reply.data, "data"):
            if reader.mapping(row, "position").get("symbol", symbols.to_bingx(symbol)) != symbols.to_bingx(symbol):
                continue
            amount = reader.decimal(row, "positionAmt")
            if amount == 0:
                continue
            found.append(
                Position(
                    self.venue,
                    symbol,
                    side=_position_side(row, amount, reader),
                    size=abs(amount),
                    entry_price=reader.decimal(row, "avgPrice"),
                    mark_price=reader.optional_decimal(row, "markPrice"),
                    leverage=to_decimal(row.get("leverage")),
                    unrealised_pnl=reader.optional_decimal(row, "unrealizedProfit"),
                )
            )
        return found

    def balance(self) -> Balance:
        """USDT row of the swap balance (v3 list; the v2 ``data.balance`` object is accepted too).
        https://bingx-api.github.io/docs/#/en-us/swapV2/account-api.html"""
        operation = "balance"
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_BALANCE, {})
        data = reply.data
        if isinstance(data, Mapping):
            data = [data.get("balance", data)]
        rows = {row.get("asset"): row for row in reader.rows(data, "data") if isinstance(row, Mapping)}
        # The demo (VST) host may report its play money as asset VST (notes §1, UNCONFIRMED).
        asset = "USDT" if "USDT" in rows else "VST" if "VST" in rows else None
        if asset is None:
            raise self._error(MalformedResponse, operation, f"no USDT balance among assets {sorted(map(str, rows))}")
        row = rows[asset]
        return Balance(
            self.venue,
            asset,
            available_margin=reader.decimal(row, "availableMargin"),
            equity=reader.decimal(row, "equity"),
            wallet_balance=reader.decimal(row, "balance"),
        )

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
        https://bingx-api.github.io/docs/#/en-us/swapV2/trade-api.html"""
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
        https://bingx-api.github.io/docs/#/en-us/swapV2/trade-api.html"""
        symbol = self._symbol(symbol, OP_PLACE_ORDER)
        qty, client_id = self._order_args(quantity, client_order_id, OP_PLACE_ORDER)
        params: dict[str, Any] = {"symbol": symbols.to_bingx(symbol), "side": side.value.upper()}
        if position_mode is PositionMode.HEDGE:
            # Hedge mode closes with the opposite side on the same positionSide; reduceOnly is refused there.
            opened_by = side.opposite if reduce_only else side
            params["positionSide"] = PositionSide.opened_by(opened_by).value.upper()
        else:
            params["positionSide"] = "BOTH"
        params |= {"type": "MARKET", "quantity": qty, "clientOrderId": client_id}
        if reduce_only and position_mode is PositionMode.ONE_WAY:
            params["reduceOnly"] = True
        call = Call(OP_PLACE_ORDER, "POST", PATH_ORDER, params, intent=Intent.ORDER, reduce_only=reduce_only)
        return ReadyOrder(symbol=symbol, client_order_id=client_id, request=self.transport.ready(call, at=at))

    def order_send(self, ready: ReadyOrder) -> OrderAck:
        """Send an order built by ``order_ready``. https://bingx-api.github.io/docs/#/en-us/swapV2/trade-api.html"""
        reply = self.transport.request(ready.request.call, ready=ready.request)
        # Accepted (code 0) but unreadable: the order exists, so the caller must look it up, not resend.
        reader = self.transport.reader(OP_PLACE_ORDER, error=UnknownOutcome)
        order = _order_object(reply.data, reader)
        stamp = to_decimal(reply.document.get("timestamp"))
        return OrderAck(
            self.venue,
            ready.symbol,
            client_order_id=ready.client_order_id,
            exchange_order_id=reader.text(order, "orderId"),
            exchange_time=from_millis(int(stamp)) if stamp else None,
        )

    def get_order(self, *, symbol: str, client_order_id: str, exchange_order_id: str | None = None) -> Order:
        """Look an order up by orderId when given, else by clientOrderId; the answer must echo the id(s) asked for.
        https://bingx-api.github.io/docs/#/en-us/swapV2/trade-api.html"""
        operation = "get order"
        symbol = self._symbol(symbol, operation)
        reader = self.transport.reader(operation)
        params: dict[str, Any] = {"symbol": symbols.to_bingx(symbol)}
        params |= {"orderId": exchange_order_id} if exchange_order_id else {"clientOrderId": client_order_id.lower()}
        reply = self._get(operation, PATH_ORDER, params)
        row = _order_object(reply.data, reader)
        echoed = row.get("clientOrderId", row.get("clientOrderID"))
        if not same_order(echoed, row.get("orderId"), client_order_id, exchange_order_id):
            raise self._error(
                OrderNotFound,
                operation,
                f"no order with {order_ids_text(client_order_id, exchange_order_id)} on {symbol}",
                hint=_NOT_FOUND_HINT,
            )
        return self._parse_order(row, symbol, reader)

    # -- history and key ------------------------------------------------------------------------------------------

    def funding_payments(
        self, *, since: datetime, until: datetime | None = None, symbol: str | None = None
    ) -> list[FundingPayment]:
        """FUNDING_FEE income rows, in 7-day windows; a full page is split until complete. Positive = received.
        https://bingx-api.github.io/docs/#/en-us/swapV2/account-api.html"""
        operation = "funding payments"
        wanted = self._symbol(symbol, operation) if symbol is not None else None
        start, end = self._since_until(since, until, operation)
        reader = self.transport.reader(operation)
        found: dict[str, FundingPayment] = {}
        window_ms = INCOME_WINDOW // timedelta(milliseconds=1)
        while start <= end:
            window_end = min(start + window_ms - 1, end)
            for row in self._income(operation, start, window_end, wanted, reader):
                payment = self._parse_payment(row, reader)
                if payment is not None and (wanted is None or payment.symbol == wanted):
                    found[payment.payment_id] = payment
            start = window_end + 1
        return sorted(found.values(), key=lambda payment: (payment.time, payment.payment_id))

    def account_id(self) -> str:
        """The venue's user id (UID) behind the key, from ``data.uid`` ("Query Account UID"; also in JKorf/BingX.Net
        GetUserIdAsync and ccxt's ``account/v1/uid``). https://bingx-api.github.io/docs/#/en-us/common/account-api.html"""
        operation = "account id"
        data = self.transport.reader(operation).mapping(self._get(operation, PATH_UID, {}).data, "data")
        uid = optional_whole(data.get("uid"))
        if not uid or uid < 1:
            raise self._error(MalformedResponse, operation, f"no user id in the answer: {data.get('uid')!r}")
        return str(uid)

    def key_permissions(self) -> KeyPermissions:
        """What the API key may do, from integer permission codes (the current docs' shape, answered without the
        ``code`` envelope) or from the older ``enable*`` flags. A withdrawal right, or any code fundarb does not
        know, is flagged as able to move funds. https://bingx-api.github.io/docs-v3/ (Query API KEY Permissions)"""
        operation = "key permissions"
        reader = self.transport.reader(operation)
        reply = self.transport.request(Call(operation, "GET", PATH_API_PERMISSIONS, {}, unenveloped=True))
        data = reader.mapping(reply.data, "data")
        if "permissions" in data:
            return _permissions_from_codes(data, reader)
        if any(str(name).startswith(("enable", "permits")) for name in data):
            return _permissions_from_flags(data)
        raise reader.fail("the answer carries neither permission codes nor enable* flags")

    # -- helpers --------------------------------------------------------------------------------------------------

    def _get(self, operation: str, path: str, params: Mapping[str, Any], *, signed: bool = True) -> Reply:
        return self.transport.request(Call(operation, "GET", path, params, signed=signed))

    def _rules(self, symbol: str, operation: str) -> SymbolRules:
        symbol = self._symbol(symbol, operation)
        cached = self.rules.get(("rules", symbol))
        if cached is not None:
            return cached
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_CONTRACTS, {"symbol": symbols.to_bingx(symbol)}, signed=False)
        rules = self._parse_rules(self._only_row(reader, reply, symbol, operation), reader)
        self.rules.put(("rules", symbol), rules)
        return rules

    def _leverage_data(self, symbol: str, operation: str) -> Mapping[str, Any]:
        reader = self.transport.reader(operation)
        reply = self._get(operation, PATH_LEVERAGE, {"symbol": symbols.to_bingx(symbol)})
        data = reader.mapping(reply.data, "data")
        maximum = _account_max(data)
        if maximum is not None:
            self.cache.put(("account max", symbol), maximum)
        return data

    def _max_leverage(self, symbol: str, operation: str) -> int:
        """The per-account max from trade/leverage when BingX reports it, else the contract's."""
        cached = self.cache.get(("account max", symbol))
        if cached is not None:
            return cached
        maximum = _account_max(self._leverage_data(symbol, operation))
        return maximum if maximum is not None else self._rules(symbol, operation).max_leverage

    def _only_row(self, reader: Reader, reply: Reply, symbol: str, operation: str) -> Mapping[str, Any]:
        venue_symbol = symbols.to_bingx(symbol)
        for row in _as_rows(reply.data, reader):
            if reader.mapping(row, "row").get("symbol") == venue_symbol:
                return row
        raise self._error(SymbolNotFound, operation, f"{symbol} ({venue_symbol}) is not a BingX perpetual")

    def _parse_rules(self, row: Mapping[str, Any], reader: Reader) -> SymbolRules:
        symbol = _canonical(row, reader)
        maxima = [reader.floor(row, key) for key in ("maxLongLeverage", "maxShortLeverage") if _present(row, key)]
        if not maxima:
            raise reader.fail(f"{symbol}: maxLongLeverage/maxShortLeverage are missing")
        precision = reader.whole(row, "quantityPrecision")
        return SymbolRules(
            self.venue,
            symbol,
            min_leverage=1,
            max_leverage=min(maxima),
            qty_step=Decimal(10) ** -precision,
            min_qty=reader.decimal(row, "tradeMinQuantity"),
            min_notional=reader.decimal(row, "tradeMinUSDT"),
            taker_fee_rate=reader.optional_decimal(row, "takerFeeRate"),
            tradable=str(row.get("status")) == "1" and to_bool(row.get("apiStateOpen")) is True,
        )

    def _parse_funding(self, row: Mapping[str, Any], reader: Reader) -> FundingInfo:
        symbol = _canonical(row, reader)
        next_ms = reader.whole(row, "nextFundingTime")
        if next_ms < 10**12:  # the docs call it "remaining time" once; only an absolute instant is usable
            raise reader.fail(f"nextFundingTime {next_ms} is not an epoch timestamp in ms")
        interval = reader.whole(row, "fundingIntervalHours") if _present(row, "fundingIntervalHours") else None
        return FundingInfo(
            self.venue,
            symbol,
            rate=reader.decimal(row, "lastFundingRate"),
            next_funding_time=from_millis(next_ms),
            interval_hours=interval or DEFAULT_FUNDING_INTERVAL_HOURS,
            mark_price=reader.decimal(row, "markPrice"),
        )

    def _parse_order(self, row: Mapping[str, Any], symbol: str, reader: Reader) -> Order:
        side = _SIDES.get(str(row.get("side")).upper())
        if side is None:
            raise reader.fail(f"unknown side {shown(row.get('side'))}")
        filled = reader.decimal(row, "executedQty")
        status = order_status(
            str(row.get("status")).upper(), _ORDER_STATUS, filled=filled, logger=self.transport.logger, venue=self.venue
        )
        average = reader.optional_decimal(row, "avgPrice")
        commission = reader.optional_decimal(row, "commission")
        created = reader.optional_decimal(row, "time")
        position_side = str(row.get("positionSide", "")).upper()
        closes_hedge = (position_side, side) in (("LONG", Side.SELL), ("SHORT", Side.BUY))
        return Order(
            self.venue,
            symbol,
            client_order_id=str(row.get("clientOrderId", row.get("clientOrderID"))).lower(),
            exchange_order_id=reader.text(row, "orderId"),
            side=side,
            status=status,
            quantity=reader.decimal(row, "origQty"),
            filled_quantity=filled,
            avg_price=average if average and filled else None,
            fee=abs(commission) if commission is not None else None,  # BingX reports a paid fee as negative
            reduce_only=to_bool(row.get("reduceOnly")) is True or closes_hedge,
            created_at=from_millis(int(created)) if created else None,
        )

    def _income(
        self, operation: str, start: int, end: int, symbol: str | None, reader: Reader
    ) -> list[Mapping[str, Any]]:
        """Rows in [start, end]. A full page may be truncated from either end, so split the window and ask again."""
        params: dict[str, Any] = {"incomeType": "FUNDING_FEE"}
        if symbol is not None:
            params["symbol"] = symbols.to_bingx(symbol)
        params |= {"startTime": start, "endTime": end, "limit": INCOME_PAGE_SIZE}
        rows = reader.rows(self._get(operation, PATH_INCOME, params).data, "data")
        if len(rows) < INCOME_PAGE_SIZE or end <= start:
            return rows
        middle = (start + end) // 2
        return self._income(operation, start, middle, symbol, reader) + self._income(
            operation, middle + 1, end, symbol, reader
        )

    def _parse_payment(self, row: Mapping[str, Any], reader: Reader) -> FundingPayment | None:
        venue_symbol = reader.mapping(row, "income").get("symbol")
        if row.get("incomeType", "FUNDING_FEE") != "FUNDING_FEE" or not isinstance(venue_symbol, str):
            return None
        try:
            symbol = symbols.from_bingx(venue_symbol)
        except symbols.InvalidSymbol:
            return None
        return FundingPayment(
            self.venue,
            symbol,
            amount=reader.decimal(row, "income"),
            time=reader.millis(row, "time"),
            payment_id=reader.text(row, "tranId"),
        )


def _as_rows(data: Any, reader: Reader) -> list[Any]:
    """BingX returns an object for one symbol and a list for many, inconsistently: accept both."""
    return [data] if isinstance(data, Mapping) else reader.rows(data, "data")


def _order_object(data: Any, reader: Reader) -> Mapping[str, Any]:
    data = reader.mapping(data, "data")
    return reader.mapping(data["order"], "order") if "order" in data else data


def _canonical(row: Mapping[str, Any], reader: Reader) -> str:
    name = reader.text(row, "symbol")
    try:
        return symbols.from_bingx(name)
    except symbols.InvalidSymbol as exc:
        raise reader.fail(str(exc)) from None


def _present(row: Mapping[str, Any], key: str) -> bool:
    return row.get(key) not in (None, "")


def _account_max(data: Mapping[str, Any]) -> int | None:
    values = [to_decimal(data.get(key)) for key in ("maxLongLeverage", "maxShortLeverage")]
    present = [int(value) for value in values if value is not None and value >= 1]
    return min(present) if present else None


def _position_side(row: Mapping[str, Any], amount: Decimal, reader: Reader) -> PositionSide:
    side = str(row.get("positionSide", "BOTH")).upper()
    if side == "LONG":
        return PositionSide.LONG
    if side == "SHORT":
        return PositionSide.SHORT
    if side == "BOTH":
        return PositionSide.LONG if amount > 0 else PositionSide.SHORT
    raise reader.fail(f"unknown positionSide {shown(side)}")


def _permissions_from_codes(data: Mapping[str, Any], reader: Reader) -> KeyPermissions:
    codes: set[int] = set()
    unknown: list[str] = []
    for raw in reader.rows(data.get("permissions"), "permissions"):
        code = optional_whole(raw)
        if code in _PERMISSION_NAMES:
            codes.add(code)
        else:
            unknown.append(shown(raw))
    # JKorf/BingX.Net's apiKey/query sample lists ipAddresses [""]: a blank entry restricts nothing.
    ips = [ip for ip in reader.rows(data.get("ipAddresses"), "ipAddresses") if str(ip).strip()]
    can_withdraw = _CODE_WITHDRAW in codes or bool(unknown)
    details = tuple(f"permission {code}: {_PERMISSION_NAMES[code]}" for code in sorted(codes))
    if unknown:
        details += (f"unrecognised permission codes {', '.join(unknown)} are treated as able to move funds",)
    reported_ips = "ipAddresses" in data
    if reported_ips:
        details += (f"IP whitelist entries: {len(ips)}",)
    return KeyPermissions(
        can_read=True,  # the key has just answered a signed call, whether or not code 2 is listed
        can_trade_perpetuals=_CODE_PERPETUALS in codes,
        can_withdraw=can_withdraw,
        can_transfer=bool(codes & _TRANSFER_PERMISSIONS) or can_withdraw,
        read_only=not codes & _TRADING_PERMISSIONS,
        ip_restricted=bool(ips) if reported_ips else None,
        details=details,
    )


def _permissions_from_flags(data: Mapping[str, Any]) -> KeyPermissions:
    """The older boolean shape; a transfer or withdrawal right it does not report is assumed granted."""
    flags = {name: to_bool(value) for name, value in data.items()}

    def granted(name: str, *, if_missing: bool) -> bool:
        value = flags.get(name)
        return if_missing if value is None else value

    futures = granted("enableFutures", if_missing=False)
    spot = granted("enableSpotAndMarginTrading", if_missing=False)
    details = tuple(f"{name}: {data[name]}" for name in sorted(data) if name.startswith(("enable", "permits", "ip")))
    return KeyPermissions(
        can_read=True,  # likewise: enableReading adds nothing to a key that has answered
        can_trade_perpetuals=futures,
        can_withdraw=granted("enableWithdrawals", if_missing=True),
        can_transfer=granted("enableInternalTransfer", if_missing=True)
        or granted("permitsUniversalTransfer", if_missing=True),
        read_only=not (futures or spot),
        ip_restricted=flags.get("ipRestrict"),
        details=details,
    )


def _with_prefix(exc: ExchangeError, prefix: str) -> ExchangeError:
    kwargs: dict[str, Any] = {
        "venue": exc.venue,
        "operation": exc.operation,
        "code": exc.code,
        "hint": exc.hint,
        "http_status": exc.http_status,
    }
    if isinstance(exc, RateLimited):
        kwargs["retry_after"] = exc.retry_after
    return type(exc)(prefix + exc.reason, **kwargs)

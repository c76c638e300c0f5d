"""Bybit v5 (linear USDT perpetuals) on the wire: paths, the ``retCode`` envelope, HMAC headers, rate-limit headers.

Business errors are HTTP 200 with a non-zero ``retCode``, as on the real venue.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from . import auth, trading
from .markets import RATE_CAP, interval_hours
from .ratelimit import RateLimiter
from .routing import Call, Route, VenueError, int_param
from .state import Account, MarketState, OrderState, SimState
from .wire import Request, Response, fmt, parse_decimal

VENUE = "bybit"
CREATE_ORDER = "/v5/order/create"
INTERNAL_ERROR = (10016, "Internal system error.")
DAY_MS = 86_400_000
LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
REJECTS = {
    "min_qty": (10001, "params error: qty is below the minimum order qty {detail}"),
    "max_qty": (10001, "params error: qty exceeds maxMktOrderQty {detail}"),
    "min_notional": (110094, "Order does not meet minimum order value {detail}USDT"),
    "reduce_only_nothing": (110017, "current position is zero, cannot fix reduce-only order qty"),
    "insufficient_margin": (110007, "ab not enough for new order"),
}
# For "fail the next call with code C" faults given no message: what the venue says for C.
MESSAGES = {
    10001: "params error",
    10002: "invalid request, please check your server timestamp or recv_window param",
    10003: "API key is invalid.",
    10004: "error sign!",
    10005: "Permission denied, please check your API key permissions.",
    10006: "Too many visits!",
    10016: "Internal system error.",
    110007: "ab not enough for new order",
    110017: "current position is zero, cannot fix reduce-only order qty",
    110043: "Set leverage not modified",
    110072: "OrderLinkedID is duplicate",
    110094: "Order does not meet minimum order value",
}
TOO_MANY_VISITS = (10006, MESSAGES[10006])
ORDER_STATUS = {"filled": "Filled", "partially_filled": "PartiallyFilled"}
OPEN_STATUSES = {"partially_filled"}


class BybitApi:
    venue = VENUE
    create_route = ("POST", CREATE_ORDER)
    internal_error = INTERNAL_ERROR
    code_field = "retCode"

    def __init__(self, state: SimState, limiter: RateLimiter) -> None:
        self.state = state
        self.limiter = limiter
        self.routes: dict[tuple[str, str], Route] = {
            ("GET", "/v5/market/time"): Route(self.market_time),
            ("GET", "/v5/market/instruments-info"): Route(self.instruments_info),
            ("GET", "/v5/market/tickers"): Route(self.tickers),
            ("POST", "/v5/position/set-leverage"): Route(self.set_leverage, True, 10, trade=True),
            ("GET", "/v5/position/list"): Route(self.position_list, True, 50),
            ("POST", "/v5/position/switch-mode"): Route(self.switch_mode, True, 10, trade=True),
            ("POST", CREATE_ORDER): Route(self.create_order, True, 10, trade=True),
            ("GET", "/v5/order/realtime"): Route(self.order_realtime, True, 50),
            ("GET", "/v5/order/history"): Route(self.order_history, True, 50),
            ("GET", "/v5/account/wallet-balance"): Route(self.wallet_balance, True, 50),
            ("GET", "/v5/account/transaction-log"): Route(self.transaction_log, True, 25),
            ("GET", "/v5/user/query-api"): Route(self.query_api, True, 10),
        }

    # ---- envelope, auth, dispatch ------------------------------------------------------------------------------

    def envelope(self, code: int, message: str, result: Any) -> dict[str, Any]:
        now = self.state.clock.now_ms(VENUE)
        return {"retCode": code, "retMsg": message, "result": result, "retExtInfo": {}, "time": now}

    def message_for(self, code: int) -> str:
        return MESSAGES.get(code, "simulated failure")

    def error(self, code: int, message: str, http_status: int = 200, headers: list | None = None) -> Response:
        return Response.json(self.envelope(code, message, {}), status=http_status, headers=headers)

    def handle(self, request: Request, order_faults: trading.OrderFaults | None = None) -> Response:
        """Answer one request. ``order_faults`` (processing, not found, partial fill) only accompany an order create."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            if any(path == request.path for _, path in self.routes):
                return self.error(10001, f"method {request.method} not allowed", http_status=400)
            return self.error(10017, "route not found", http_status=404)
        headers: list[tuple[str, str]] = []
        try:
            with self.state.lock:
                account = None
                if route.private:
                    account = self._authenticate(request)
                    verdict = self.limiter.hit((VENUE, str(account.uid), request.path), route.limit)
                    reset_at = self.state.clock.now_ms(VENUE) + verdict.reset_in_ms
                    headers = _limit_headers(verdict.limit, verdict.remaining, reset_at)
                    if not verdict.allowed:
                        raise VenueError(*TOO_MANY_VISITS)
                    if route.trade and not account.can_trade:
                        raise VenueError(10005, "Permission denied, please check your API key permissions.")
                params = self._params(request)
                call = Call(request, params, account, self.state.clock.now_ms(VENUE))
                result = route.handler(call) if order_faults is None else route.handler(call, order_faults)
        except VenueError as exc:
            return self.error(exc.code, exc.message, exc.http_status, headers)
        except (ValueError, ArithmeticError) as exc:
            return self.error(10001, f"params error: {exc}", headers=headers)
        return Response.json(self.envelope(0, "OK", result), headers=headers)

    def rate_limited(self, method: str, path: str, until_ms: int) -> Response:
        """The per-UID limit's refusal, as if the window stayed full until ``until_ms`` (venue clock)."""
        route = self.routes.get((method, path))
        return self.error(*TOO_MANY_VISITS, headers=_limit_headers(route.limit if route else 0, 0, until_ms))

    def banned(self) -> Response:
        """Past the IP limit: HTTP 403 "access too frequent" (docs v5/rate-limit), a gateway page, not the envelope.
        The body's exact form is UNCONFIRMED; the status and the words are documented."""
        return Response.html(403, "access too frequent")

    def _params(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            return request.query_params()
        if not request.body:
            return {}
        try:
            body = json.loads(request.body)
        except ValueError as exc:
            raise VenueError(10001, "params error: request body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise VenueError(10001, "params error: request body must be a JSON object")
        return body

    def _authenticate(self, request: Request) -> Account:
        api_key = request.headers.get("x-bapi-api-key", "")
        account = self.state.account(VENUE, api_key) if api_key else None
        if account is None:
            raise VenueError(10003, "API key is invalid.")
        timestamp = request.headers.get("x-bapi-timestamp", "")
        recv_window = request.headers.get("x-bapi-recv-window", str(auth.BYBIT_DEFAULT_RECV_WINDOW))
        server_ms = self.state.clock.now_ms(VENUE)
        if not (timestamp.isdigit() and recv_window.isdigit()) or not auth.bybit_timestamp_valid(
            timestamp=int(timestamp), recv_window=int(recv_window), server_ms=server_ms
        ):
            raise VenueError(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{timestamp}],server_timestamp[{server_ms}],recv_window[{recv_window}]",
            )
        payload = request.query if request.method == "GET" else request.body.decode(errors="replace")
        signature = request.headers.get("x-bapi-sign", "")
        if not auth.bybit_signature_valid(
            secret=account.api_secret,
            timestamp=timestamp,
            api_key=api_key,
            recv_window=recv_window,
            payload=payload,
            signature=signature,
        ):
            raise VenueError(10004, f"error sign! origin_string[{timestamp}{api_key}{recv_window}{payload}]")
        return account

    # ---- helpers -----------------------------------------------------------------------------------------------

    def _linear(self, call: Call) -> None:
        if call.params.get("category") != "linear":
            raise VenueError(10001, "params error: category only support linear")

    def _market(self, symbol: Any) -> MarketState:
        market = self.state.market(str(symbol)) if symbol else None
        if market is None:
            raise VenueError(10001, "params error: symbol invalid")
        return market

    def _page(self, rows: list, call: Call, default: int, maximum: int) -> tuple[list, str]:
        """Offset paging behind an opaque, percent-encoded cursor, like Bybit's (clients must echo it verbatim)."""
        limit = int_param(call.params, "limit", default)
        if not 1 <= limit <= maximum:
            raise VenueError(10001, f"params error: limit must be between 1 and {maximum}")
        cursor = unquote(unquote(str(call.params.get("cursor") or "")))
        start = int(cursor.split(":", 1)[1]) if cursor.startswith("page:") else 0
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        return page, f"page%3A{start + limit}" if more else ""

    # ---- market ------------------------------------------------------------------------------------------------

    def market_time(self, call: Call) -> dict[str, str]:
        return {"timeSecond": str(call.now_ms // 1000), "timeNano": str(call.now_ms * 1_000_000)}

    def instruments_info(self, call: Call) -> dict[str, Any]:
        self._linear(call)
        symbol = call.params.get("symbol")
        markets = [m for m in self.state.markets.values() if not symbol or m.spec.symbol == symbol]
        rows = [self._instrument(m) for m in markets]
        page, cursor = self._page(rows, call, 500, 1000)
        return {"category": "linear", "list": page, "nextPageCursor": cursor}

    def _instrument(self, market: MarketState) -> dict[str, Any]:
        spec, rules = market.spec, market.rules(VENUE)
        funding = market.funding[VENUE]
        return {
            "symbol": spec.symbol,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": spec.base,
            "quoteCoin": "USDT",
            "launchTime": "1584230400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(-spec.tick.as_tuple().exponent),
            "leverageFilter": {
                "minLeverage": "1",
                "maxLeverage": f"{rules.max_leverage}.00",
                "leverageStep": "0.01",
            },
            "priceFilter": {"minPrice": fmt(spec.tick), "maxPrice": "1999999.8", "tickSize": fmt(spec.tick)},
            "lotSizeFilter": {
                "maxOrderQty": fmt(rules.max_market_qty * 10),
                "minOrderQty": fmt(rules.min_qty),
                "qtyStep": fmt(rules.qty_step),
                "postOnlyMaxOrderQty": fmt(rules.max_market_qty * 10),
                "maxMktOrderQty": fmt(rules.max_market_qty),
                "minNotionalValue": fmt(rules.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": interval_hours(funding.interval) * 60,
            "settleCoin": "USDT",
            "copyTrading": "both",
            "upperFundingRate": fmt(RATE_CAP * 5),
            "lowerFundingRate": fmt(-RATE_CAP * 5),
            "isPreListing": False,
            "preListingInfo": None,
        }

    def tickers(self, call: Call) -> dict[str, Any]:
        self._linear(call)
        symbol = call.params.get("symbol")
        if symbol and self.state.market(symbol) is None:
            raise VenueError(10001, "Not supported symbols")
        rows = []
        for market in self.state.markets.values():
            if symbol and market.spec.symbol != symbol:
                continue
            mark = market.mark(VENUE)
            funding = market.funding[VENUE]
            rows.append(
                {
                    "symbol": market.spec.symbol,
                    "lastPrice": fmt(mark),
                    "indexPrice": fmt(market.index_price()),
                    "markPrice": fmt(mark),
                    "prevPrice24h": fmt(mark),
                    "price24hPcnt": "0",
                    "highPrice24h": fmt(mark),
                    "lowPrice24h": fmt(mark),
                    "prevPrice1h": fmt(mark),
                    "openInterest": "1000000",
                    "openInterestValue": fmt(mark * 1000000),
                    "turnover24h": "0",
                    "volume24h": "0",
                    "fundingRate": fmt(funding.rate),
                    "nextFundingTime": str(funding.next_ms),
                    "fundingIntervalHour": str(interval_hours(funding.interval)),
                    "fundingCap": fmt(RATE_CAP * 5),
                    "predictedDeliveryPrice": "",
                    "basisRate": "",
                    "deliveryFeeRate": "",
                    "deliveryTime": "0",
                    "bid1Price": fmt(mark - market.spec.tick),
                    "bid1Size": "10",
                    "ask1Price": fmt(mark + market.spec.tick),
                    "ask1Size": "10",
                    "basis": "",
                }
            )
        return {"category": "linear", "list": rows}

    # ---- position ----------------------------------------------------------------------------------------------

    def set_leverage(self, call: Call) -> dict[str, Any]:
        self._linear(call)
        market = self._market(call.params.get("symbol"))
        buy = parse_decimal(call.params.get("buyLeverage"))
        sell = parse_decimal(call.params.get("sellLeverage"))
        if buy is None or sell is None:
            raise VenueError(10001, "params error: buyLeverage and sellLeverage are required")
        if buy != sell:
            raise VenueError(10001, "params error: buyLeverage must equal sellLeverage in cross margin mode")
        maximum = market.rules(VENUE).max_leverage
        if not 1 <= buy <= maximum or buy != buy.quantize(Decimal("0.01")):
            raise VenueError(
                10001, f"params error: leverage {fmt(buy)} is invalid; {market.spec.symbol} allows 1 to {maximum}"
            )
        account = call.owner
        if account.leverage_of(market.spec.symbol) == [buy, sell]:
            raise VenueError(110043, "Set leverage not modified")
        account.leverage[market.spec.symbol] = [buy, sell]
        self.state.save()
        return {}

    def position_list(self, call: Call) -> dict[str, Any]:
        self._linear(call)
        account = call.owner
        symbol = call.params.get("symbol")
        if symbol:
            market = self._market(symbol)
            slots = ("long", "short") if account.is_hedge(market.spec.symbol) else ("both",)
            rows = [self._position_row(account, market, slot) for slot in slots]
        elif call.params.get("settleCoin"):
            rows = [
                self._position_row(account, self.state.markets[sym], slot) for sym, slot, _ in account.open_positions()
            ]
        else:
            raise VenueError(10001, "params error: symbol or settleCoin is required")
        page, cursor = self._page(rows, call, 20, 200)
        return {"category": "linear", "list": page, "nextPageCursor": cursor}

    def _position_row(self, account: Account, market: MarketState, slot: str) -> dict[str, Any]:
        symbol = market.spec.symbol
        position = account.position(symbol, slot)
        size = trading.signed_size(slot, position)
        long, short = account.leverage_of(symbol)
        leverage = short if slot == "short" or (slot == "both" and size < 0) else long
        side = "" if not size else ("Buy" if size > 0 else "Sell")
        value = abs(size) * position.entry
        im = trading.initial_margin(account, symbol, slot, position) if size else Decimal(0)
        return {
            "positionIdx": {"both": 0, "long": 1, "short": 2}[slot],
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": symbol,
            "side": side,
            "size": fmt(abs(size)),
            "avgPrice": fmt(position.entry),
            "positionValue": fmt(value),
            "tradeMode": 0,
            "autoAddMargin": 0,
            "positionStatus": "Normal",
            "leverage": fmt(leverage),
            "markPrice": fmt(market.mark(VENUE)),
            "liqPrice": "",
            "bustPrice": "",
            "positionIM": fmt(im),
            "positionMM": fmt((value * Decimal("0.005")).quantize(trading.MONEY)),
            "positionBalance": fmt(im),
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "sessionAvgPrice": "",
            "unrealisedPnl": fmt(trading.unrealised(market, VENUE, slot, position) if size else Decimal(0)),
            "curRealisedPnl": fmt(position.realised),
            "cumRealisedPnl": fmt(position.realised),
            "adlRankIndicator": 0,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "createdTime": str(position.created_ms or account.created_ms),
            "updatedTime": str(position.updated_ms or account.created_ms),
            "seq": position.updated_ms,
        }

    def switch_mode(self, call: Call) -> dict[str, Any]:
        self._linear(call)
        mode = int_param(call.params, "mode", -1)
        if mode not in (0, 3):
            raise VenueError(10001, "params error: mode must be 0 (one-way) or 3 (hedge)")
        hedge = mode == 3
        account = call.owner
        symbol = call.params.get("symbol")
        if symbol:
            market = self._market(symbol)
            if account.is_hedge(market.spec.symbol) == hedge:
                raise VenueError(110025, "Position mode is not modified")
            if account.has_position(market.spec.symbol):
                raise VenueError(110024, "You have existing positions, so position mode cannot be switched")
            account.symbol_hedge[market.spec.symbol] = hedge
        elif call.params.get("coin") == "USDT":
            # By coin, every symbol without a position switches; the ones holding a position keep their mode.
            switchable = [s for s in self.state.markets if account.is_hedge(s) != hedge and not account.has_position(s)]
            if not switchable:
                raise VenueError(110025, "Position mode is not modified")
            keep = {s: account.is_hedge(s) for s in self.state.markets if account.has_position(s)}
            account.hedge = hedge
            account.symbol_hedge = {s: h for s, h in keep.items() if h != hedge}
        else:
            raise VenueError(10001, "params error: symbol or coin is required")
        self.state.save()
        return {}

    # ---- orders ------------------------------------------------------------------------------------------------

    def create_order(self, call: Call, faults: trading.OrderFaults = trading.NO_FAULTS) -> dict[str, str]:
        self._linear(call)
        params = call.params
        market = self._market(params.get("symbol"))
        symbol = market.spec.symbol
        side = params.get("side")
        if side not in ("Buy", "Sell"):
            raise VenueError(10001, "params error: side invalid")
        if params.get("orderType") != "Market":
            raise VenueError(10001, "params error: the simulator only fills orderType Market")
        qty = parse_decimal(params.get("qty"))
        rules = market.rules(VENUE)
        if qty is None or qty <= 0:
            raise VenueError(10001, "params error: qty invalid")
        if qty % rules.qty_step:
            raise VenueError(10001, f"params error: qty {params.get('qty')} is not a multiple of qtyStep")
        reduce_only = params.get("reduceOnly", False)
        if isinstance(reduce_only, str):
            reduce_only = reduce_only.lower() == "true"
        account = call.owner
        position_idx = int_param(params, "positionIdx", 0)
        hedge = account.is_hedge(symbol)
        if (hedge and position_idx not in (1, 2)) or (not hedge and position_idx != 0):
            raise VenueError(10001, "position idx not match position mode")
        slot = {0: "both", 1: "long", 2: "short"}[position_idx]
        link_id = str(params.get("orderLinkId") or "")
        if link_id and not LINK_ID.match(link_id):
            raise VenueError(10001, "params error: orderLinkId must be 1-36 letters, digits, '-' or '_'")
        if link_id and any(order.client_id == link_id for order in account.orders):
            raise VenueError(110072, "OrderLinkedID is duplicate")
        request = trading.OrderRequest(symbol, side.lower(), qty, slot, bool(reduce_only), link_id)
        try:
            order = trading.place_market_order(self.state, account, request, faults)
        except trading.Reject as reject:
            code, message = REJECTS[reject.kind]
            raise VenueError(code, message.format(detail=reject.detail)) from reject
        self.state.save()
        return {"orderId": order.order_id, "orderLinkId": order.client_id}

    def _find_orders(self, call: Call, *, open_only: bool | None) -> list[dict[str, Any]]:
        self._linear(call)
        params = call.params
        if not any(params.get(name) for name in ("symbol", "baseCoin", "settleCoin")):
            raise VenueError(10001, "params error: symbol, baseCoin or settleCoin is required")
        order_id, link_id, symbol = params.get("orderId"), params.get("orderLinkId"), params.get("symbol")
        found = []
        for order in reversed(call.owner.orders):
            if order_id:
                wanted = order.order_id == order_id
            elif link_id:
                wanted = order.client_id == link_id
            else:
                wanted = not symbol or order.symbol == symbol
                if open_only is not None:
                    wanted = wanted and (order.status in OPEN_STATUSES) == open_only
            if symbol and order.symbol != symbol:
                wanted = False
            if wanted and trading.order_visible(self.state, VENUE, order):
                found.append(self._order_row(order))
        return found

    def order_realtime(self, call: Call) -> dict[str, Any]:
        open_only = int_param(call.params, "openOnly", 0) == 0
        rows = self._find_orders(call, open_only=open_only)
        page, cursor = self._page(rows, call, 20, 50)
        return {"category": "linear", "list": page, "nextPageCursor": cursor}

    def order_history(self, call: Call) -> dict[str, Any]:
        rows = self._find_orders(call, open_only=None)
        page, cursor = self._page(rows, call, 20, 50)
        return {"category": "linear", "list": page, "nextPageCursor": cursor}

    def _order_row(self, order: OrderState) -> dict[str, Any]:
        value = (order.filled * order.avg_price).quantize(trading.MONEY)
        return {
            "orderId": order.order_id,
            "orderLinkId": order.client_id,
            "blockTradeId": "",
            "symbol": order.symbol,
            "price": fmt(order.avg_price),
            "qty": fmt(order.qty),
            "side": order.side.capitalize(),
            "isLeverage": "",
            "positionIdx": {"both": 0, "long": 1, "short": 2}[order.slot],
            "orderStatus": ORDER_STATUS[order.status],
            "cancelType": "UNKNOWN",
            "rejectReason": "EC_NoError",
            "avgPrice": fmt(order.avg_price) if order.filled else "",
            # Market orders are IOC: whatever did not fill was cancelled, nothing stays working.
            "leavesQty": "0",
            "leavesValue": "0",
            "cumExecQty": fmt(order.filled),
            "cumExecValue": fmt(value),
            "cumExecFee": fmt(order.fee),
            "cumFeeDetail": {"USDT": fmt(order.fee)},
            "timeInForce": "IOC",
            "orderType": "Market",
            "stopOrderType": "",
            "orderIv": "",
            "triggerPrice": "",
            "takeProfit": "",
            "stopLoss": "",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": fmt(order.avg_price),
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
        }

    # ---- account -----------------------------------------------------------------------------------------------

    def wallet_balance(self, call: Call) -> dict[str, Any]:
        if call.params.get("accountType") != "UNIFIED":
            raise VenueError(10001, "accountType only support UNIFIED")
        account = call.owner
        s = trading.summary(self.state, account)
        mm = sum(
            (
                (abs(p.size) * p.entry * Decimal("0.005")).quantize(trading.MONEY)
                for _, _, p in account.open_positions()
            ),
            Decimal(0),
        )
        coins = call.params.get("coin")
        coin_rows = []
        if not coins or "USDT" in str(coins).split(","):
            coin_rows.append(
                {
                    "coin": "USDT",
                    "equity": fmt(s.equity),
                    "usdValue": fmt(s.equity),
                    "walletBalance": fmt(s.wallet),
                    "free": "",
                    "locked": "0",
                    "spotHedgingQty": "0",
                    "borrowAmount": "0",
                    "availableToWithdraw": "",
                    "accruedInterest": "0",
                    "totalOrderIM": "0",
                    "totalPositionIM": fmt(s.initial_margin),
                    "totalPositionMM": fmt(mm),
                    "unrealisedPnl": fmt(s.unrealised),
                    "cumRealisedPnl": fmt(s.realised),
                    "bonus": "0",
                    "marginCollateral": True,
                    "collateralSwitch": True,
                    "availableToBorrow": "",
                }
            )
        equity = s.equity or Decimal(1)
        row = {
            "accountType": "UNIFIED",
            "accountIMRate": fmt((s.initial_margin / equity).quantize(Decimal("0.0001"))),
            "accountMMRate": fmt((mm / equity).quantize(Decimal("0.0001"))),
            "accountLTV": "0",
            "totalEquity": fmt(s.equity),
            "totalWalletBalance": fmt(s.wallet),
            "totalMarginBalance": fmt(s.equity),
            "totalAvailableBalance": fmt(s.available),
            "totalPerpUPL": fmt(s.unrealised),
            "totalInitialMargin": fmt(s.initial_margin),
            "totalMaintenanceMargin": fmt(mm),
            "coin": coin_rows,
        }
        return {"list": [row]}

    def transaction_log(self, call: Call) -> dict[str, Any]:
        params = call.params
        if params.get("accountType", "UNIFIED") != "UNIFIED":
            raise VenueError(10001, "accountType only support UNIFIED")
        start = int_param(params, "startTime", 0)
        end = int_param(params, "endTime", 0)
        # Bybit's window rule: 24 h by default, anchored on whichever end is given; at most 7 days.
        if start and end:
            if end - start > 7 * DAY_MS:
                raise VenueError(10001, "params error: endTime - startTime must be within 7 days")
        elif start:
            end = start + DAY_MS
        elif end:
            start = end - DAY_MS
        else:
            end = call.now_ms
            start = end - DAY_MS
        kind = params.get("type")
        symbol = params.get("symbol")
        rows = []
        if kind in (None, "", "SETTLEMENT") and params.get("category", "linear") == "linear":
            for row in reversed(call.owner.funding):
                if start <= row.time_ms <= end and (not symbol or row.symbol == symbol):
                    rate = row.rate if row.side == "long" else -row.rate
                    rows.append(
                        {
                            "id": row.row_id,
                            "symbol": row.symbol,
                            "category": "linear",
                            "side": "Buy" if row.side == "long" else "Sell",
                            "transactionTime": str(row.time_ms),
                            "type": "SETTLEMENT",
                            "qty": fmt(row.size),
                            "size": fmt(row.size),
                            "currency": "USDT",
                            "tradePrice": fmt(row.mark),
                            "funding": fmt(row.amount),
                            "fee": "0",
                            "cashFlow": "0",
                            "change": fmt(row.amount),
                            "cashBalance": fmt(row.balance_after),
                            "feeRate": fmt(rate),
                            "bonusChange": "",
                            "tradeId": "",
                            "orderId": "",
                            "orderLinkId": "",
                        }
                    )
        page, cursor = self._page(rows, call, 20, 50)
        return {"list": page, "nextPageCursor": cursor}

    def query_api(self, call: Call) -> dict[str, Any]:
        account = call.owner
        wallet = (["AccountTransfer", "SubMemberTransfer"] if account.can_transfer else []) + (
            ["Withdraw"] if account.can_withdraw else []
        )
        return {
            "id": str(account.uid),
            "note": "fundarb simulator",
            "apiKey": account.api_key,
            "readOnly": 0 if account.can_trade else 1,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"] if account.can_trade else [],
                "Spot": [],
                "Wallet": wallet,
                "Options": [],
                "Derivatives": [],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": [],
                "NFT": [],
                "Affiliate": [],
                "Earn": [],
            },
            "ips": ["*"],
            "type": 1,
            "deadlineDay": 90,
            "expiredAt": "",
            "createdAt": str(account.created_ms),
            "unified": 0,
            "uta": 1,
            "userID": account.uid,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }


def _limit_headers(limit: int, remaining: int, reset_at_ms: int) -> list[tuple[str, str]]:
    """What every private answer carries (docs v5/rate-limit); the reset is absolute ms on the venue clock."""
    return [
        ("X-Bapi-Limit-Status", str(remaining)),
        ("X-Bapi-Limit", str(limit)),
        ("X-Bapi-Limit-Reset-Timestamp", str(reset_at_ms)),
    ]

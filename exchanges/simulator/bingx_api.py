"""BingX USDT-M perpetual swap on the wire: paths, the ``code`` envelope, query-string signing, rate-limit headers.

Business errors are HTTP 200 with a non-zero ``code``. The one exception is the per-account rate limit: HTTP 429
carrying code 100410 in the body, so a client that reads either signal backs off.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import auth, trading
from .markets import MAKER_FEE, interval_hours
from .ratelimit import RateLimiter
from .routing import Call, Route, VenueError, int_param
from .state import Account, MarketState, OrderState, SimState
from .trading import round_down
from .wire import Request, Response, fmt, num, parse_decimal

VENUE = "bingx"
ORDER_PATH = "/openApi/swap/v2/trade/order"
INTERNAL_ERROR = (100500, "Internal system error")
WEEK_MS = 7 * 86_400_000
HEDGE_SIDE_MSG = "In the Hedge mode, the 'Side' field can only be set to LONG or SHORT"
ONE_WAY_SIDE_MSG = "In the One-way mode, the 'Side' field can only be set to BOTH"
HEDGE_POSITION_SIDE_MSG = "In the Hedge mode, the 'PositionSide' field can only be set to LONG or SHORT"
ONE_WAY_POSITION_SIDE_MSG = "In the One-way mode, the 'PositionSide' field can only be set to BOTH"
REJECTS = {
    "min_qty": (101400, "The minimum order quantity is {detail}"),
    "max_qty": (101400, "The maximum order quantity is {detail}"),
    "min_notional": (101400, "The minimum order amount is {detail} USDT"),
    "reduce_only_nothing": (80017, "position not exist"),
    "insufficient_margin": (101204, "Insufficient margin"),
}
# For "fail the next call with code C" faults given no message: what the venue says for C.
MESSAGES = {
    80012: "service unavailable, please try again later",
    80016: "order does not exist",
    80019: "The order is being processed. Please try again later.",
    100001: "Signature verification failed",
    100410: "rate limit exceeded, please retry later",
    100413: "Incorrect apiKey",
    100421: "Null timestamp or timestamp mismatch",
    100500: "Internal system error",
    101204: "Insufficient margin",
    101414: "The maximum leverage of this pair is lower",
    101481: "clientOrderID cannot be repeated",
    109400: "Invalid parameters",
    109401: "user has pending orders or position",
}
RATE_LIMITED = (100410, MESSAGES[100410])
ORDER_STATUS = {"filled": "FILLED", "partially_filled": "PARTIALLY_FILLED"}


class BingxApi:
    venue = VENUE
    create_route = ("POST", ORDER_PATH)
    internal_error = INTERNAL_ERROR
    code_field = "code"

    def __init__(self, state: SimState, limiter: RateLimiter) -> None:
        self.state = state
        self.limiter = limiter
        self.routes: dict[tuple[str, str], Route] = {
            ("GET", "/openApi/swap/v2/server/time"): Route(self.server_time),
            ("GET", "/openApi/swap/v2/quote/contracts"): Route(self.contracts),
            ("GET", "/openApi/swap/v2/quote/premiumIndex"): Route(self.premium_index),
            ("GET", "/openApi/swap/v2/trade/leverage"): Route(self.get_leverage, True, 5),
            ("POST", "/openApi/swap/v2/trade/leverage"): Route(self.set_leverage, True, 5, trade=True),
            ("GET", "/openApi/swap/v1/positionSide/dual"): Route(self.get_dual, True, 2),
            ("POST", "/openApi/swap/v1/positionSide/dual"): Route(self.set_dual, True, 2, trade=True),
            ("POST", ORDER_PATH): Route(self.create_order, True, 5, trade=True),
            ("GET", ORDER_PATH): Route(self.query_order, True, 5),
            ("GET", "/openApi/swap/v2/user/positions"): Route(self.positions, True, 5),
            ("GET", "/openApi/swap/v3/user/balance"): Route(self.balance, True, 5),
            ("GET", "/openApi/swap/v2/user/income"): Route(self.income, True, 5),
            ("GET", "/openApi/v1/account/apiPermissions"): Route(self.api_permissions, True, 5, bare=True),
            ("GET", "/openApi/account/v1/uid"): Route(self.uid, True, 5),
        }

    # ---- envelope, auth, dispatch ------------------------------------------------------------------------------

    def envelope(self, code: int, message: str, data: Any = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"code": code, "msg": message}
        if data is not None:
            payload["data"] = data
        payload["timestamp"] = self.state.clock.now_ms(VENUE)
        return payload

    def message_for(self, code: int) -> str:
        return MESSAGES.get(code, "simulated failure")

    def error(self, code: int, message: str, http_status: int = 200, headers: list | None = None) -> Response:
        return Response.json(self.envelope(code, message), status=http_status, headers=headers)

    def handle(self, request: Request, order_faults: trading.OrderFaults | None = None) -> Response:
        """Answer one request. ``order_faults`` (processing, not found, partial fill) only accompany an order create."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            return self.error(100400, f"{request.method} {request.path} is not an endpoint", http_status=404)
        headers: list[tuple[str, str]] = []
        try:
            with self.state.lock:
                account = None
                if route.private:
                    account = self._authenticate(request)
                    verdict = self.limiter.hit((VENUE, str(account.uid), request.method, request.path), route.limit)
                    headers = _limit_headers(verdict.remaining, self.state.clock.now_ms(VENUE) + verdict.reset_in_ms)
                    if not verdict.allowed:
                        raise VenueError(*RATE_LIMITED, http_status=429)
                    if route.trade and not account.can_trade:
                        raise VenueError(100004, "Permission denied as the API key was created without the permission")
                # On a clash between the query string and a form body, the query string wins.
                params = {**request.form_params(), **request.query_params()}
                params.pop("signature", None)
                call = Call(request, params, account, self.state.clock.now_ms(VENUE))
                result = route.handler(call) if order_faults is None else route.handler(call, order_faults)
        except VenueError as exc:
            return self.error(exc.code, exc.message, exc.http_status, headers)
        except (ValueError, ArithmeticError) as exc:
            return self.error(100400, f"Invalid parameters: {exc}", headers=headers)
        return Response.json(result if route.bare else self.envelope(0, "", result), headers=headers)

    def rate_limited(self, method: str, path: str, until_ms: int) -> Response:
        """The per-account limit's refusal, as if the window stayed full until ``until_ms`` (venue clock)."""
        return self.error(*RATE_LIMITED, http_status=429, headers=_limit_headers(0, until_ms))

    def banned(self) -> Response:
        """HTTP 418: "received 429 and continued access, so the user is banned" (docs-v3, HTTP status list). The
        body's form is UNCONFIRMED; a bare page, like the other gateway answers."""
        return Response.html(418, "banned after continuing past HTTP 429")

    def _authenticate(self, request: Request) -> Account:
        api_key = request.headers.get("x-bx-apikey", "")
        account = self.state.account(VENUE, api_key) if api_key else None
        if account is None:
            raise VenueError(100413, "Incorrect apiKey")
        body = "" if "json" in request.headers.get("content-type", "") else request.body.decode(errors="replace")
        signed, signature = auth.bingx_split_signature(request.query, body)
        if not signature:
            raise VenueError(100412, "Null signature")
        params = {**request.form_params(), **request.query_params()}
        timestamp = str(params.get("timestamp", ""))
        recv_window = str(params.get("recvWindow", ""))
        if not timestamp.isdigit() or (recv_window and not recv_window.isdigit()):
            raise VenueError(100421, "Null timestamp or timestamp mismatch")
        window = int(recv_window) if recv_window else None
        server_ms = self.state.clock.now_ms(VENUE)
        if not auth.bingx_timestamp_valid(timestamp=int(timestamp), recv_window=window, server_ms=server_ms):
            raise VenueError(100421, "Null timestamp or timestamp mismatch")
        if not auth.bingx_signature_valid(secret=account.api_secret, signed=signed, signature=signature):
            raise VenueError(100001, "Signature verification failed")
        return account

    # ---- helpers -----------------------------------------------------------------------------------------------

    def _market(self, symbol: Any, required: bool = True) -> MarketState | None:
        if not symbol:
            if required:
                raise VenueError(100400, "symbol is required")
            return None
        market = self.state.market_by_bingx_symbol(str(symbol))
        if market is None:
            raise VenueError(109500, f"symbol not exist: {symbol}")
        return market

    def _required_market(self, call: Call) -> MarketState:
        market = self._market(call.params.get("symbol"))
        assert market is not None
        return market

    def _precision(self, step: Decimal) -> int:
        return max(0, -step.normalize().as_tuple().exponent)

    # ---- market ------------------------------------------------------------------------------------------------

    def server_time(self, call: Call) -> dict[str, int]:
        return {"serverTime": call.now_ms}

    def contracts(self, call: Call) -> list[dict[str, Any]]:
        symbol = call.params.get("symbol")
        rows = []
        for market in self.state.markets.values():
            spec, rules = market.spec, market.rules(VENUE)
            if symbol and spec.bingx_symbol != symbol:
                continue
            rows.append(
                {
                    "contractId": str(100 + self.state.specs.index(spec)),
                    "symbol": spec.bingx_symbol,
                    "size": fmt(rules.qty_step),
                    "quantityPrecision": self._precision(rules.qty_step),
                    "pricePrecision": self._precision(spec.tick),
                    "feeRate": num(rules.taker_fee),
                    "makerFeeRate": num(MAKER_FEE),
                    "takerFeeRate": num(rules.taker_fee),
                    "tradeMinLimit": 0,
                    "tradeMinQuantity": num(rules.min_qty),
                    "tradeMinUSDT": num(rules.min_notional),
                    "maxLongLeverage": rules.max_leverage,
                    "maxShortLeverage": rules.max_leverage,
                    "currency": "USDT",
                    "asset": spec.base,
                    "status": 1,
                    "apiStateOpen": "true",
                    "apiStateClose": "true",
                    "ensureTrigger": False,
                    "triggerFeeRate": "0.00020000",
                    "brokerState": False,
                    "launchTime": 1584230400000,
                    "maintainTime": 0,
                    "offTime": 0,
                    "displayName": spec.bingx_symbol,
                }
            )
        return rows

    def premium_index(self, call: Call) -> dict[str, Any] | list[dict[str, Any]]:
        market = self._market(call.params.get("symbol"), required=False)
        markets = [market] if market else list(self.state.markets.values())
        rows = []
        for m in markets:
            funding = m.funding[VENUE]
            rows.append(
                {
                    "symbol": m.spec.bingx_symbol,
                    "markPrice": fmt(m.mark(VENUE)),
                    "indexPrice": fmt(m.index_price()),
                    "lastFundingRate": fmt(funding.rate),
                    "nextFundingTime": funding.next_ms,
                    "fundingIntervalHours": interval_hours(funding.interval),
                    "updateTime": call.now_ms,
                }
            )
        return rows[0] if market else rows

    # ---- leverage and mode -------------------------------------------------------------------------------------

    def _leverage_data(self, account: Account, market: MarketState) -> dict[str, Any]:
        long, short = account.leverage_of(market.spec.symbol)
        maximum = market.rules(VENUE).max_leverage
        available = trading.summary(self.state, account).available
        mark = market.mark(VENUE)
        return {
            "longLeverage": int(long),
            "shortLeverage": int(short),
            "maxLongLeverage": maximum,
            "maxShortLeverage": maximum,
            "availableLongVol": fmt(round_down(available * long / mark, market.rules(VENUE).qty_step)),
            "availableShortVol": fmt(round_down(available * short / mark, market.rules(VENUE).qty_step)),
            "availableLongVal": fmt((available * long).quantize(Decimal("0.01"))),
            "availableShortVal": fmt((available * short).quantize(Decimal("0.01"))),
            "maxPositionLongVal": "2000000",
            "maxPositionShortVal": "2000000",
        }

    def get_leverage(self, call: Call) -> dict[str, Any]:
        return self._leverage_data(call.owner, self._required_market(call))

    def set_leverage(self, call: Call) -> dict[str, Any]:
        market = self._required_market(call)
        account = call.owner
        side = str(call.params.get("side", "")).upper()
        if account.hedge and side not in ("LONG", "SHORT"):
            raise VenueError(109400, HEDGE_SIDE_MSG)
        if not account.hedge and side != "BOTH":
            raise VenueError(109400, ONE_WAY_SIDE_MSG)
        raw = str(call.params.get("leverage", ""))
        if not raw.isdigit() or int(raw) < 1:
            raise VenueError(100400, "leverage must be a whole number of at least 1")
        leverage = int(raw)
        maximum = market.rules(VENUE).max_leverage
        if leverage > maximum:
            raise VenueError(101414, f"The maximum leverage of {market.spec.bingx_symbol} is {maximum}x")
        pair = account.leverage_of(market.spec.symbol)
        if side in ("BOTH", "LONG"):
            pair[0] = Decimal(leverage)
        if side in ("BOTH", "SHORT"):
            pair[1] = Decimal(leverage)
        self.state.save()
        data = self._leverage_data(account, market)
        volumes = {key: value for key, value in data.items() if key.startswith(("available", "maxPosition"))}
        return {"leverage": leverage, "symbol": market.spec.bingx_symbol, **volumes}

    def get_dual(self, call: Call) -> dict[str, str]:
        return {"dualSidePosition": "true" if call.owner.hedge else "false"}

    def set_dual(self, call: Call) -> dict[str, str]:
        raw = str(call.params.get("dualSidePosition", "")).lower()
        if raw not in ("true", "false"):
            raise VenueError(100400, "dualSidePosition must be true or false")
        account = call.owner
        hedge = raw == "true"
        if account.hedge != hedge:
            if account.has_position():
                raise VenueError(109401, "user has pending orders or position")
            account.hedge = hedge
            self.state.save()
        return {"dualSidePosition": raw}

    # ---- orders ------------------------------------------------------------------------------------------------

    def create_order(self, call: Call, faults: trading.OrderFaults = trading.NO_FAULTS) -> dict[str, Any]:
        params = call.params
        market = self._required_market(call)
        account = call.owner
        side = str(params.get("side", "")).upper()
        if side not in ("BUY", "SELL"):
            raise VenueError(100400, "side must be BUY or SELL")
        if str(params.get("type", "")).upper() != "MARKET":
            raise VenueError(100400, "the simulator only fills type MARKET")
        # A missing positionSide means LONG on BingX, which is why it fails in one-way mode.
        position_side = str(params.get("positionSide") or "LONG").upper()
        if account.hedge and position_side not in ("LONG", "SHORT"):
            raise VenueError(109400, HEDGE_POSITION_SIDE_MSG)
        if not account.hedge and position_side != "BOTH":
            raise VenueError(109400, ONE_WAY_POSITION_SIDE_MSG)
        reduce_only = str(params.get("reduceOnly", "false")).lower() == "true"
        if account.hedge and reduce_only:
            raise VenueError(109400, "In the Hedge mode, the 'ReduceOnly' field can not be filled.")
        client_id = str(params.get("clientOrderId") or params.get("clientOrderID") or "").lower()
        if len(client_id) > 40:
            raise VenueError(100400, "clientOrderID must be 1 to 40 characters")
        if client_id and any(order.client_id == client_id for order in account.orders):
            raise VenueError(101481, "clientOrderID cannot be repeated")
        rules = market.rules(VENUE)
        quantity = parse_decimal(params.get("quantity"))
        if quantity is None or quantity <= 0:
            raise VenueError(100400, "quantity must be positive")
        # Excess precision is truncated, not rejected.
        quantity = round_down(quantity, rules.qty_step)
        request = trading.OrderRequest(
            market.spec.symbol, side.lower(), quantity, position_side.lower(), reduce_only, client_id
        )
        try:
            order = trading.place_market_order(self.state, account, request, faults)
        except trading.Reject as reject:
            code, message = REJECTS[reject.kind]
            raise VenueError(code, message.format(detail=reject.detail)) from reject
        self.state.save()
        processing = faults.processing
        return {
            "order": {
                "orderId": int(order.order_id),
                "symbol": market.spec.bingx_symbol,
                "side": side,
                "positionSide": position_side,
                "type": "MARKET",
                "clientOrderID": order.client_id,
                "status": "NEW" if processing else ORDER_STATUS[order.status],
                "avgPrice": "0" if processing else fmt(order.avg_price),
                "executedQty": "0" if processing else fmt(order.filled),
                "quantity": fmt(order.qty),
                "price": "0",
                "stopPrice": "0",
                "workingType": "MARK_PRICE",
                "timeInForce": "",
                "reduceOnly": reduce_only,
            }
        }

    def query_order(self, call: Call) -> dict[str, Any]:
        market = self._required_market(call)
        order_id = call.params.get("orderId")
        client_id = str(call.params.get("clientOrderId") or call.params.get("clientOrderID") or "").lower()
        if not order_id and not client_id:
            raise VenueError(100400, "orderId or clientOrderId is required")
        for order in call.owner.orders:
            if order.symbol != market.spec.symbol:
                continue
            if (order_id and order.order_id == str(order_id)) or (not order_id and order.client_id == client_id):
                if trading.order_unknown(self.state, VENUE, order):
                    raise VenueError(80016, MESSAGES[80016])
                if trading.order_hidden(self.state, VENUE, order):
                    raise VenueError(80019, "The order is being processed. Please try again later.")
                return {"order": self._order_row(call.owner, order, market)}
        raise VenueError(80016, MESSAGES[80016])

    def _order_row(self, account: Account, order: OrderState, market: MarketState) -> dict[str, Any]:
        long, short = account.leverage_of(order.symbol)
        return {
            "symbol": market.spec.bingx_symbol,
            "orderId": int(order.order_id),
            "side": order.side.upper(),
            "positionSide": order.slot.upper(),
            "type": "MARKET",
            "origQty": fmt(order.qty),
            "price": "0",
            "executedQty": fmt(order.filled),
            "avgPrice": fmt(order.avg_price),
            "cumQuote": fmt((order.filled * order.avg_price).quantize(trading.MONEY)),
            "stopPrice": "",
            "profit": fmt(order.realised),
            "commission": fmt(-order.fee),
            "status": ORDER_STATUS[order.status],
            "time": order.created_ms,
            "updateTime": order.updated_ms,
            "clientOrderId": order.client_id,
            "leverage": f"{int(long if order.side == 'buy' else short)}X",
            "workingType": "MARK_PRICE",
            "onlyOnePosition": False,
            "reduceOnly": order.reduce_only,
            "postOnly": False,
            "stopGuaranteed": "",
            "triggerOrderId": 0,
        }

    # ---- account -----------------------------------------------------------------------------------------------

    def positions(self, call: Call) -> list[dict[str, Any]]:
        market = self._market(call.params.get("symbol"), required=False)
        account = call.owner
        rows = []
        for symbol, slot, position in account.open_positions(market.spec.symbol if market else None):
            m = self.state.markets[symbol]
            size = trading.signed_size(slot, position)
            long, short = account.leverage_of(symbol)
            im = trading.initial_margin(account, symbol, slot, position)
            upl = trading.unrealised(m, VENUE, slot, position)
            value = abs(size) * m.mark(VENUE)
            rows.append(
                {
                    "positionId": position.position_id,
                    "symbol": m.spec.bingx_symbol,
                    "currency": "USDT",
                    # One-way positions are reported as LONG or SHORT by direction, with a positive amount.
                    "positionSide": "LONG" if size > 0 else "SHORT",
                    "isolated": False,
                    "positionAmt": fmt(abs(size)),
                    "availableAmt": fmt(abs(size)),
                    "unrealizedProfit": fmt(upl),
                    "realisedProfit": fmt(position.realised),
                    "initialMargin": fmt(im),
                    "margin": fmt(im),
                    "avgPrice": fmt(position.entry),
                    "liquidationPrice": 0,
                    "leverage": int(long if size > 0 else short),
                    "positionValue": fmt(value),
                    "markPrice": fmt(m.mark(VENUE)),
                    "riskRate": "0",
                    "maxMarginReduction": "0",
                    "pnlRatio": fmt((upl / im).quantize(Decimal("0.0001"))) if im else "0",
                    "updateTime": position.updated_ms,
                    "createTime": position.created_ms,
                }
            )
        return rows

    def balance(self, call: Call) -> list[dict[str, Any]]:
        account = call.owner
        s = trading.summary(self.state, account)
        usdt = {
            "userId": str(account.uid),
            "asset": "USDT",
            "balance": fmt(s.wallet),
            "equity": fmt(s.equity),
            "unrealizedProfit": fmt(s.unrealised),
            "realisedProfit": fmt(s.realised),
            "availableMargin": fmt(s.available),
            "usedMargin": fmt(s.initial_margin),
            "freezedMargin": "0",
            "shortUid": str(account.uid),
        }
        zero = {k: "0" for k in usdt if k not in ("userId", "asset", "shortUid")}
        usdc = {**usdt, **zero, "asset": "USDC"}
        return [usdt, usdc]

    def income(self, call: Call) -> list[dict[str, Any]]:
        params = call.params
        income_type = params.get("incomeType")
        market = self._market(params.get("symbol"), required=False)
        end = int_param(params, "endTime", call.now_ms)
        start = int_param(params, "startTime", end - WEEK_MS)
        limit = int_param(params, "limit", 100)
        if not 1 <= limit <= 1000:
            raise VenueError(100400, "limit must be between 1 and 1000")
        rows = []
        if income_type in (None, "", "FUNDING_FEE"):
            for row in call.owner.funding:
                if market and row.symbol != market.spec.symbol:
                    continue
                if start <= row.time_ms <= end:
                    rows.append(
                        {
                            "symbol": self.state.markets[row.symbol].spec.bingx_symbol,
                            "incomeType": "FUNDING_FEE",
                            "income": fmt(row.amount),
                            "asset": "USDT",
                            "info": "Funding Fee",
                            "time": row.time_ms,
                            "tranId": row.row_id,
                            "tradeId": row.row_id,
                        }
                    )
        return rows[-limit:]

    def api_permissions(self, call: Call) -> dict[str, Any]:
        """docs-v3 "Query API KEY Permissions": no envelope, integer codes (2 read, 3 perpetual futures trading,
        4 universal transfer, 5 withdraw, 7 sub-account internal transfer)."""
        account = call.owner
        codes = [2]
        if account.can_trade:
            codes.append(3)
        if account.can_transfer:
            codes += [4, 7]
        if account.can_withdraw:
            codes.append(5)
        return {"apiKey": account.api_key, "permissions": sorted(codes), "ipAddresses": [], "note": ""}

    def uid(self, call: Call) -> dict[str, int]:
        return {"uid": call.owner.uid}


def _limit_headers(remaining: int, expire_at_ms: int) -> list[tuple[str, str]]:
    # The Expire unit is UNCONFIRMED (notes §15): absolute epoch ms on the venue clock is unambiguous whatever unit
    # a client guesses from the magnitude.
    return [("X-RateLimit-Requests-Remain", str(remaining)), ("X-RateLimit-Requests-Expire", str(expire_at_ms))]

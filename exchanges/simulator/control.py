"""The control API: what tests, benchmarks and ``make run`` use to set the simulated world up and look inside it.

Over HTTP it is ``POST /_sim/<operation>`` with a JSON object of keyword arguments (``GET`` with query parameters
works for the read-only ones), answered ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` with
HTTP 400. It is not signed: the simulator is a local test double. ``Controller`` implements the operations;
``ControlMethods`` gives them a typed Python face, shared by the in-process ``Simulator`` and the HTTP
``SimulatorControl``, so both are driven the same way.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from typing import Any

import requests

from . import trading
from .faults import FaultRule, VenueFaults
from .markets import VENUES
from .ratelimit import RateLimiter
from .state import Account, SimState
from .wire import Request, Response, fmt

CONTROL_PREFIX = "/_sim/"


class ControlError(ValueError):
    """A control call that cannot be honoured (unknown account, bad venue...)."""


def _venue(venue: str) -> str:
    if venue not in VENUES:
        raise ControlError(f"unknown venue {venue!r}; expected one of {', '.join(VENUES)}")
    return venue


def _plain(value: Any) -> Any:
    """Decimals as strings, recursively: what JSON carries and what the in-process API returns too."""
    if isinstance(value, Decimal):
        return fmt(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Controller:
    OPERATIONS = (
        "health",
        "add_account",
        "account",
        "set_position_mode",
        "set_balance",
        "set_permissions",
        "set_next_funding",
        "set_settle_delay",
        "set_funding_rate",
        "set_funding_interval",
        "set_mark_price",
        "markets",
        "set_faults",
        "add_fault",
        "clear_faults",
        "describe_faults",
        "orders",
        "positions",
        "funding_ledger",
        "settlements",
        "reset",
    )
    READ_ONLY = (
        "health",
        "account",
        "markets",
        "describe_faults",
        "orders",
        "positions",
        "funding_ledger",
        "settlements",
    )

    def __init__(
        self,
        state: SimState,
        faults: dict[str, VenueFaults],
        limiter: RateLimiter,
        wake_funding: Callable[[], None],
    ) -> None:
        self.state = state
        self.faults = faults
        self.limiter = limiter
        self.wake_funding = wake_funding

    def call(self, operation: str, kwargs: dict[str, Any]) -> Any:
        if operation not in self.OPERATIONS:
            raise ControlError(f"unknown control operation {operation!r}")
        try:
            return _plain(getattr(self, operation)(**kwargs))
        except TypeError as exc:
            raise ControlError(f"{operation}: {exc}") from exc

    def handle(self, request: Request) -> Response:
        operation = request.path[len(CONTROL_PREFIX) :].strip("/").replace("-", "_")
        try:
            if request.method == "GET":
                if operation not in self.READ_ONLY:
                    raise ControlError(f"{operation} changes state: use POST")
                kwargs: dict[str, Any] = request.query_params()
            else:
                kwargs = json.loads(request.body) if request.body else {}
                if not isinstance(kwargs, dict):
                    raise ControlError("the body must be a JSON object of keyword arguments")
            result = self.call(operation, kwargs)
        except (ControlError, ValueError, ArithmeticError) as exc:
            return Response.json({"ok": False, "error": str(exc)}, status=400)
        return Response.json({"ok": True, "result": result})

    # ---- helpers -----------------------------------------------------------------------------------------------

    def _account(self, venue: str, api_key: str) -> Account:
        account = self.state.account(_venue(venue), api_key)
        if account is None:
            raise ControlError(f"no {venue} account with that API key")
        return account

    def _funding(self, symbol: str, venue: str):
        market = self.state.market(symbol)
        if market is None:
            raise ControlError(f"unknown symbol {symbol!r}")
        return market.funding[_venue(venue)]

    # ---- operations --------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {"venues": list(VENUES), "time": {v: self.state.clock.now_ms(v) for v in VENUES}}

    def add_account(
        self,
        venue: str,
        api_key: str,
        api_secret: str,
        hedge: bool = False,
        balance: Any = None,
        can_trade: bool = True,
        can_withdraw: bool = False,
        can_transfer: bool = False,
    ) -> dict[str, Any]:
        """Create an account, or keep an existing one (balance and positions untouched, secret updated), so
        re-adding the demo accounts after a restart with a state file changes nothing."""
        if not api_key or not api_secret:
            raise ControlError("api_key and api_secret are required")
        with self.state.lock:
            account = self.state.account(_venue(venue), api_key)
            if account is None:
                account = Account(
                    venue=venue,
                    api_key=api_key,
                    api_secret=api_secret,
                    uid=self.state.new_uid(),
                    hedge=bool(hedge),
                    can_trade=bool(can_trade),
                    can_withdraw=bool(can_withdraw),
                    can_transfer=bool(can_transfer),
                    created_ms=self.state.clock.now_ms(venue),
                )
                if balance is not None:
                    account.balance = Decimal(str(balance))
                self.state.accounts[(venue, api_key)] = account
            else:
                account.api_secret = api_secret
            self.state.save()
            return self.account(venue, api_key)

    def account(self, venue: str, api_key: str) -> dict[str, Any]:
        with self.state.lock:
            account = self._account(venue, api_key)
            s = trading.summary(self.state, account)
            return {
                "venue": account.venue,
                "api_key": account.api_key,
                "uid": account.uid,
                "hedge": account.hedge,
                "symbol_hedge": dict(account.symbol_hedge),
                "balance": s.wallet,
                "equity": s.equity,
                "available": s.available,
                "initial_margin": s.initial_margin,
                "leverage": {symbol: list(pair) for symbol, pair in account.leverage.items()},
                "can_trade": account.can_trade,
                "can_withdraw": account.can_withdraw,
                "can_transfer": account.can_transfer,
            }

    def set_position_mode(self, venue: str, api_key: str, hedge: bool) -> dict[str, Any]:
        with self.state.lock:
            account = self._account(venue, api_key)
            if account.has_position():
                raise ControlError("close the account's positions before switching its position mode")
            account.hedge = bool(hedge)
            account.symbol_hedge.clear()
            self.state.save()
        return self.account(venue, api_key)

    def set_balance(self, venue: str, api_key: str, balance: Any) -> dict[str, Any]:
        with self.state.lock:
            self._account(venue, api_key).balance = Decimal(str(balance))
            self.state.save()
        return self.account(venue, api_key)

    def set_permissions(
        self, venue: str, api_key: str, can_trade: bool = True, can_withdraw: bool = False, can_transfer: bool = False
    ) -> dict[str, Any]:
        with self.state.lock:
            account = self._account(venue, api_key)
            account.can_trade, account.can_withdraw, account.can_transfer = can_trade, can_withdraw, can_transfer
            self.state.save()
        return self.account(venue, api_key)

    def set_next_funding(self, symbol: str, venue: str, in_seconds: float, rate: Any = None) -> dict[str, Any]:
        """Move the next funding instant of ``symbol`` on ``venue`` to venue-now + ``in_seconds``."""
        with self.state.lock:
            funding = self._funding(symbol, venue)
            funding.next_ms = self.state.clock.now_ms(venue) + int(float(in_seconds) * 1000)
            if rate is not None:
                funding.rate = Decimal(str(rate))
            self.state.save()
            result = asdict(funding)
        self.wake_funding()
        return result

    def set_funding_rate(self, symbol: str, venue: str, rate: Any, mean: Any = None) -> dict[str, Any]:
        """Set the current rate (and, optionally, the level it drifts around)."""
        with self.state.lock:
            funding = self._funding(symbol, venue)
            funding.rate = Decimal(str(rate))
            if mean is not None:
                funding.mean = Decimal(str(mean))
            self.state.save()
            return asdict(funding)

    def set_settle_delay(self, venue: str, seconds: float) -> dict[str, Any]:
        """How long after T ``venue`` settles (simulator seconds, not scaled): BingX may run a minute late."""
        if venue not in self.state.settlement:
            raise ControlError(f"unknown venue {venue!r}")
        if not 0 <= float(seconds) <= 600:
            raise ControlError("the settlement delay must be from 0 to 600 seconds")
        with self.state.lock:
            rules = self.state.settlement[venue]
            self.state.settlement[venue] = dataclasses.replace(rules, settle_delay_ms=round(float(seconds) * 1000))
            return dataclasses.asdict(self.state.settlement[venue])

    def set_funding_interval(self, symbol: str, venue: str, seconds: int) -> dict[str, Any]:
        if int(seconds) < 1:
            raise ControlError("the funding interval must be at least one second")
        with self.state.lock:
            funding = self._funding(symbol, venue)
            funding.interval = int(seconds)
            self.state.save()
            return asdict(funding)

    def set_mark_price(self, symbol: str, price: Any) -> dict[str, Any]:
        """Set the index both venues' marks derive from (each venue adds its small fixed basis)."""
        with self.state.lock:
            market = self.state.market(symbol)
            if market is None:
                raise ControlError(f"unknown symbol {symbol!r}")
            market.index = Decimal(str(price))
            self.state.save()
        return self.markets()[symbol]

    def markets(self) -> dict[str, Any]:
        with self.state.lock:
            return {
                symbol: {
                    "index": market.index_price(),
                    **{venue: {"mark": market.mark(venue), **asdict(market.funding[venue])} for venue in VENUES},
                }
                for symbol, market in self.state.markets.items()
            }

    def set_faults(
        self,
        venue: str,
        latency_ms: int | None = None,
        skew_ms: int | None = None,
        error_rate: float | None = None,
        error_http_status: int | None = None,
    ) -> dict[str, Any]:
        """Standing faults: network latency (half each way), clock skew, and a seeded error rate (venue internal
        error code, or a bare HTTP ``error_http_status`` page when given)."""
        faults = self.faults[_venue(venue)]
        if latency_ms is not None:
            faults.latency_ms = int(latency_ms)
        if skew_ms is not None:
            faults.skew_ms = int(skew_ms)
        if error_rate is not None:
            faults.error_rate = float(error_rate)
            faults.error_http_status = int(error_http_status) if error_http_status else None
        self.wake_funding()
        return faults.describe()

    def add_fault(
        self,
        venue: str,
        kind: str,
        endpoint: str = "*",
        count: int = 1,
        code: int | None = None,
        message: str | None = None,
        http_status: int = 200,
        seconds: float = 0.0,
        calls: int = 0,
        fraction: Any = "0.5",
        ban_after: int | None = None,
        ban_seconds: float = 0.0,
    ) -> dict[str, Any]:
        faults = self.faults[_venue(venue)]
        if kind == "fail" and code is None and int(http_status) < 500:
            raise ControlError("a fail fault needs a venue code or an http_status >= 500")
        if kind == "fail_after_apply" and code is None:
            raise ControlError("a fail_after_apply fault needs a venue code")
        if kind == "outage" and int(http_status) < 500:
            raise ControlError("an outage answers a server error: http_status must be >= 500")
        rule = FaultRule(
            kind=kind,
            endpoint=endpoint,
            remaining=int(count),
            code=None if code is None else int(code),
            message=message,
            http_status=int(http_status),
            seconds=float(seconds),
            calls=int(calls),
            fraction=Decimal(str(fraction)),
            ban_after=None if ban_after is None else int(ban_after),
            ban_seconds=float(ban_seconds),
        )
        try:
            faults.add(rule)
        except ValueError as exc:
            raise ControlError(str(exc)) from exc
        return faults.describe()

    def clear_faults(self, venue: str | None = None) -> dict[str, Any]:
        for name in [_venue(venue)] if venue else list(VENUES):
            self.faults[name].clear()
        self.wake_funding()
        return {name: self.faults[name].describe() for name in VENUES}

    def describe_faults(self, venue: str) -> dict[str, Any]:
        return self.faults[_venue(venue)].describe()

    def orders(self, venue: str, api_key: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [asdict(order) for order in self._account(venue, api_key).orders]

    def positions(self, venue: str, api_key: str) -> list[dict[str, Any]]:
        """Open positions: ``size`` is positive, ``side`` long/short, ``slot`` both (one-way) or long/short."""
        with self.state.lock:
            account = self._account(venue, api_key)
            return [
                {
                    "symbol": symbol,
                    "slot": slot,
                    "side": "long" if trading.signed_size(slot, p) > 0 else "short",
                    "size": abs(p.size),
                    "entry": p.entry,
                    "realised": p.realised,
                    "position_id": p.position_id,
                }
                for symbol, slot, p in account.open_positions()
            ]

    def funding_ledger(self, venue: str, api_key: str) -> list[dict[str, Any]]:
        with self.state.lock:
            return [asdict(row) for row in self._account(venue, api_key).funding]

    def settlements(self, symbol: str | None = None, venue: str | None = None) -> list[dict[str, Any]]:
        """Every account's position in the symbol at each funding settlement (oldest first, the last 2000)."""
        wanted_venue = _venue(venue) if venue else None
        with self.state.lock:
            return [
                asdict(record)
                for record in self.state.settlements
                if (symbol is None or record.symbol == symbol)
                and (wanted_venue is None or record.venue == wanted_venue)
            ]

    def reset(self) -> dict[str, Any]:
        """Forget every account, order, settlement and fault; markets back to the seeded start."""
        with self.state.lock:
            self.state.accounts.clear()
            self.state.settlements.clear()
            self.state.size_history.clear()
            self.state.pending_settlements.clear()
            self.state.rng.seed(self.state.seed)
            self.state.reset_markets()
            self.state.save()
        self.limiter.clear()
        self.clear_faults()
        return self.health()


class ControlMethods:
    """Typed control operations over ``_call``; see ``Controller`` for what each one does."""

    def _call(self, operation: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def add_account(
        self,
        venue: str,
        api_key: str,
        api_secret: str,
        *,
        hedge: bool = False,
        balance: Decimal | str | None = None,
        can_trade: bool = True,
        can_withdraw: bool = False,
        can_transfer: bool = False,
    ) -> dict[str, Any]:
        return self._call(
            "add_account",
            venue=venue,
            api_key=api_key,
            api_secret=api_secret,
            hedge=hedge,
            balance=None if balance is None else str(balance),
            can_trade=can_trade,
            can_withdraw=can_withdraw,
            can_transfer=can_transfer,
        )

    def account(self, venue: str, api_key: str) -> dict[str, Any]:
        return self._call("account", venue=venue, api_key=api_key)

    def set_position_mode(self, venue: str, api_key: str, *, hedge: bool) -> dict[str, Any]:
        return self._call("set_position_mode", venue=venue, api_key=api_key, hedge=hedge)

    def set_balance(self, venue: str, api_key: str, balance: Decimal | str) -> dict[str, Any]:
        return self._call("set_balance", venue=venue, api_key=api_key, balance=str(balance))

    def set_permissions(
        self,
        venue: str,
        api_key: str,
        *,
        can_trade: bool = True,
        can_withdraw: bool = False,
        can_transfer: bool = False,
    ) -> dict[str, Any]:
        return self._call(
            "set_permissions",
            venue=venue,
            api_key=api_key,
            can_trade=can_trade,
            can_withdraw=can_withdraw,
            can_transfer=can_transfer,
        )

    def set_next_funding(
        self, symbol: str, venue: str, *, in_seconds: float, rate: Decimal | str | None = None
    ) -> dict[str, Any]:
        return self._call(
            "set_next_funding",
            symbol=symbol,
            venue=venue,
            in_seconds=in_seconds,
            rate=None if rate is None else str(rate),
        )

    def set_funding_rate(
        self, symbol: str, venue: str, rate: Decimal | str, *, mean: Decimal | str | None = None
    ) -> dict[str, Any]:
        return self._call(
            "set_funding_rate", symbol=symbol, venue=venue, rate=str(rate), mean=None if mean is None else str(mean)
        )

    def set_settle_delay(self, venue: str, *, seconds: float) -> dict[str, Any]:
        return self._call("set_settle_delay", venue=venue, seconds=seconds)

    def set_funding_interval(self, symbol: str, venue: str, seconds: int) -> dict[str, Any]:
        return self._call("set_funding_interval", symbol=symbol, venue=venue, seconds=seconds)

    def set_mark_price(self, symbol: str, price: Decimal | str) -> dict[str, Any]:
        return self._call("set_mark_price", symbol=symbol, price=str(price))

    def markets(self) -> dict[str, Any]:
        return self._call("markets")

    def faults(self, venue: str) -> FaultsHandle:
        return FaultsHandle(self, venue)

    def clear_faults(self, venue: str | None = None) -> dict[str, Any]:
        return self._call("clear_faults", venue=venue)

    def orders(self, venue: str, api_key: str) -> list[dict[str, Any]]:
        return self._call("orders", venue=venue, api_key=api_key)

    def positions(self, venue: str, api_key: str) -> list[dict[str, Any]]:
        return self._call("positions", venue=venue, api_key=api_key)

    def funding_ledger(self, venue: str, api_key: str) -> list[dict[str, Any]]:
        return self._call("funding_ledger", venue=venue, api_key=api_key)

    def settlements(self, symbol: str | None = None, venue: str | None = None) -> list[dict[str, Any]]:
        """``[{"venue", "symbol", "time_ms", "positions": [{"venue", "api_key", "slot", "side", "size"}]}]``, oldest
        first; ``settlement_net`` answers whether given accounts were hedged at each one."""
        return self._call("settlements", symbol=symbol, venue=venue)

    def reset(self) -> dict[str, Any]:
        return self._call("reset")


class FaultsHandle:
    """``sim.faults("bingx").fail_next(endpoint=..., code=101204)``: the fault kinds of one venue."""

    def __init__(self, owner: ControlMethods, venue: str) -> None:
        self._owner = owner
        self.venue = venue

    def _set(self, **kwargs: Any) -> dict[str, Any]:
        return self._owner._call("set_faults", venue=self.venue, **kwargs)

    def _add(self, kind: str, **kwargs: Any) -> dict[str, Any]:
        return self._owner._call("add_fault", venue=self.venue, kind=kind, **kwargs)

    def latency(self, ms: int) -> dict[str, Any]:
        return self._set(latency_ms=ms)

    def skew(self, ms: int) -> dict[str, Any]:
        return self._set(skew_ms=ms)

    def error_rate(self, rate: float, *, http_status: int | None = None) -> dict[str, Any]:
        return self._set(error_rate=rate, error_http_status=http_status)

    def fail_next(
        self,
        endpoint: str = "*",
        *,
        count: int = 1,
        code: int | None = None,
        message: str | None = None,
        http_status: int = 200,
    ) -> dict[str, Any]:
        return self._add("fail", endpoint=endpoint, count=count, code=code, message=message, http_status=http_status)

    def timeout(self, endpoint: str = "*", *, seconds: float, count: int = 1) -> dict[str, Any]:
        return self._add("timeout", endpoint=endpoint, count=count, seconds=seconds)

    def drop_response(self, endpoint: str = "*", *, count: int = 1) -> dict[str, Any]:
        return self._add("drop_response", endpoint=endpoint, count=count)

    def drop_request(self, endpoint: str = "*", *, count: int = 1) -> dict[str, Any]:
        return self._add("drop_request", endpoint=endpoint, count=count)

    def processing(self, *, seconds: float = 0.0, calls: int = 0, count: int = 1) -> dict[str, Any]:
        return self._add("processing", count=count, seconds=seconds, calls=calls)

    def partial_fill(self, fraction: Decimal | str = "0.5", *, count: int = 1) -> dict[str, Any]:
        return self._add("partial_fill", count=count, fraction=str(fraction))

    def not_found(self, seconds: float, *, count: int = 1) -> dict[str, Any]:
        """The next ``count`` orders fill at once but stay unknown to order queries for ``seconds`` after placement."""
        return self._add("not_found", count=count, seconds=seconds)

    def outage(self, endpoint: str = "*", *, seconds: float, http_status: int = 503) -> dict[str, Any]:
        """For ``seconds`` from now, every call to ``endpoint`` is a bare ``http_status`` page, applied never."""
        return self._add("outage", endpoint=endpoint, seconds=seconds, http_status=http_status)

    def rate_block(
        self, endpoint: str = "*", *, seconds: float, ban_after: int | None = None, ban_seconds: float = 0
    ) -> dict[str, Any]:
        """For ``seconds`` from now, every call to ``endpoint`` is refused as rate limited; past ``ban_after`` such
        calls the whole venue bans (HTTP 403 / 418) for ``ban_seconds``."""
        return self._add("rate_block", endpoint=endpoint, seconds=seconds, ban_after=ban_after, ban_seconds=ban_seconds)

    def fail_after_apply(
        self, endpoint: str = "*", *, code: int, message: str | None = None, count: int = 1
    ) -> dict[str, Any]:
        """The next ``count`` accepted calls to ``endpoint`` are applied, then answered with venue code ``code``."""
        return self._add("fail_after_apply", endpoint=endpoint, count=count, code=code, message=message)

    def clear(self) -> dict[str, Any]:
        return self._owner._call("clear_faults", venue=self.venue)

    def describe(self) -> dict[str, Any]:
        return self._owner._call("describe_faults", venue=self.venue)


class SimulatorControl(ControlMethods):
    """Drive a simulator running in another process (``manage.py run_simulator``) through its control API."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, operation: str, **kwargs: Any) -> Any:
        response = self._session.post(f"{self.base_url}{CONTROL_PREFIX}{operation}", json=kwargs, timeout=self.timeout)
        payload = response.json()
        if not payload.get("ok"):
            raise ControlError(payload.get("error", f"HTTP {response.status_code}"))
        return payload["result"]

    def health(self) -> dict[str, Any]:
        return self._call("health")

    def close(self) -> None:
        self._session.close()

"""The contract every venue client fulfils: plain values in, small frozen dataclasses out.

Quantities, prices, rates and money are ``Decimal``; times are UTC-aware ``datetime``; order ids are strings
(BingX order ids exceed 2**53). Symbols are canonical (``BTCUSDT``) at this boundary; each client maps them to its
venue's spelling.
"""

from __future__ import annotations

import enum
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Protocol, runtime_checkable


class Venue(enum.StrEnum):
    BYBIT = "bybit"
    BINGX = "bingx"

    @property
    def label(self) -> str:
        return {"bybit": "Bybit", "bingx": "BingX"}[self.value]


class Environment(enum.StrEnum):
    MAINNET = "mainnet"
    TESTNET = "testnet"
    DEMO = "demo"
    SIMULATOR = "simulator"


class Side(enum.StrEnum):
    """Order side. Opening BUY makes a long position, opening SELL a short one."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class PositionSide(enum.StrEnum):
    LONG = "long"
    SHORT = "short"

    @classmethod
    def opened_by(cls, side: Side) -> PositionSide:
        return cls.LONG if side is Side.BUY else cls.SHORT


class PositionMode(enum.StrEnum):
    ONE_WAY = "one_way"
    HEDGE = "hedge"


class OrderStatus(enum.StrEnum):
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


def order_status(
    raw: str, known: Mapping[str, OrderStatus], *, filled: Decimal, logger: logging.Logger, venue: Venue
) -> OrderStatus:
    """``known[raw]``, or a live (not final) status for a value nobody mapped, with a warning naming it.

    An unknown status must not fail the lookup: a failed lookup is retried as transient and would trap the caller
    on an order that exists. Live is the safe guess: the caller keeps reading the position instead of concluding.
    """
    status = known.get(raw)
    if status is not None:
        return status
    logger.warning("%s order status %r is not recognised; treating the order as live (not final)", venue.label, raw)
    return OrderStatus.PARTIALLY_FILLED if filled else OrderStatus.NEW


def same_order(
    echoed_client_id: object, echoed_order_id: object, client_order_id: str, exchange_order_id: str | None
) -> bool:
    """Whether a venue's order row is the order asked for: the client id always (case-insensitively, BingX
    lowercases it), the venue's order id too when the caller knows it. Anything else is someone else's order."""
    if echoed_client_id is None or str(echoed_client_id).lower() != client_order_id.lower():
        return False
    return exchange_order_id is None or str(echoed_order_id) == exchange_order_id


def order_ids_text(client_order_id: str, exchange_order_id: str | None) -> str:
    """The ids of an order lookup as a trader reads them in an error message."""
    text = f"client order id {client_order_id!r}"
    return f"{text} (order id {exchange_order_id})" if exchange_order_id else text


@dataclass(frozen=True, repr=False)
class Credentials:
    """An API key pair. The repr masks both halves so a stray log line cannot leak them."""

    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"Credentials(api_key={mask_secret(self.api_key)!r}, api_secret='***')"

    __str__ = __repr__


def mask_secret(value: str, *, visible: int = 4) -> str:
    """``abcd…wxyz`` style masking for display: never more than ``visible`` characters at each end."""
    if not value:
        return ""
    if len(value) <= visible * 2 + 2:
        return "*" * min(len(value), 8)
    return f"{value[:visible]}…{value[-visible:]}"


@dataclass(frozen=True)
class ClockSync:
    """Result of measuring a venue's clock: ``offset`` seconds to add to the local clock to get venue time.

    ``round_trip`` is the best sample's (the one the offset comes from); ``one_way`` is half the median round trip,
    what a request typically takes to reach the venue, so a sender can aim at its arrival.
    """

    offset: float
    round_trip: float
    samples: int
    one_way: float = 0.0


@dataclass(frozen=True)
class ReadyOrder:
    """An order signed and laid out ahead of its send (``order_ready``); ``order_send`` only sends it.

    ``request`` is the client's own prepared request: opaque to callers.
    """

    symbol: str
    client_order_id: str
    request: Any


@dataclass(frozen=True)
class SymbolRules:
    venue: Venue
    symbol: str
    min_leverage: int
    max_leverage: int
    qty_step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    max_market_qty: Decimal | None = None
    taker_fee_rate: Decimal | None = None
    tradable: bool = True

    def round_qty(self, quantity: Decimal) -> Decimal:
        """Round down to the quantity step: the venues truncate excess precision, so we do it ourselves."""
        return round_down(quantity, self.qty_step)


def round_down(quantity: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return quantity
    return (quantity / step).to_integral_value(rounding=ROUND_DOWN) * step


def common_step(*steps: Decimal) -> Decimal:
    """The least quantity step every venue accepts: the least common multiple of their steps (notes §12: the
    larger of 0.5 and 0.2 is no multiple of 0.2; 1.0 is)."""
    positive = [step for step in steps if step > 0]
    if not positive:
        return Decimal(0)
    places = max(-step.normalize().as_tuple().exponent for step in positive)
    scale = Decimal(10) ** max(places, 0)
    whole = math.lcm(*(int(step * scale) for step in positive))
    return Decimal(whole) / scale


@dataclass(frozen=True)
class FundingInfo:
    venue: Venue
    symbol: str
    rate: Decimal
    next_funding_time: datetime
    interval_hours: int
    mark_price: Decimal


@dataclass(frozen=True)
class LeverageInfo:
    """Leverage currently set for a symbol, as the venue reports it. In one-way mode ``long == short``.

    A side is ``None`` when the venue shows no leverage for it (Bybit under portfolio margin); ``unknown_reason``
    then says why, in the trader's words. A value set in a venue's web UI may be fractional.
    """

    venue: Venue
    symbol: str
    long: Decimal | None
    short: Decimal | None
    max_leverage: int | None = None
    unknown_reason: str = ""


@dataclass(frozen=True)
class Position:
    """An open position (flat rows are not returned). ``size`` is always positive."""

    venue: Venue
    symbol: str
    side: PositionSide
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal | None = None
    leverage: Decimal | None = None
    unrealised_pnl: Decimal | None = None


@dataclass(frozen=True)
class Balance:
    venue: Venue
    asset: str
    available_margin: Decimal
    equity: Decimal
    wallet_balance: Decimal


@dataclass(frozen=True)
class OrderAck:
    """The venue accepted an order (accepted, not necessarily filled)."""

    venue: Venue
    symbol: str
    client_order_id: str
    exchange_order_id: str
    exchange_time: datetime | None = None


@dataclass(frozen=True)
class Order:
    venue: Venue
    symbol: str
    client_order_id: str
    exchange_order_id: str
    side: Side
    status: OrderStatus
    quantity: Decimal
    filled_quantity: Decimal
    avg_price: Decimal | None
    fee: Decimal | None  # positive = paid by us
    reduce_only: bool
    created_at: datetime | None = None


@dataclass(frozen=True)
class FundingPayment:
    """A funding settlement on the account. ``amount`` is positive when received, negative when paid."""

    venue: Venue
    symbol: str
    amount: Decimal
    time: datetime
    payment_id: str
    rate: Decimal | None = None


@dataclass(frozen=True)
class KeyPermissions:
    can_read: bool
    can_trade_perpetuals: bool
    can_withdraw: bool
    can_transfer: bool
    read_only: bool
    ip_restricted: bool | None = None
    details: tuple[str, ...] = field(default_factory=tuple)

    @property
    def warnings(self) -> list[str]:
        found = []
        if self.can_withdraw:
            found.append("This key can WITHDRAW funds. Create a key without withdrawal rights.")
        if self.can_transfer:
            found.append("This key can transfer funds between accounts; fundarb does not need that.")
        if not self.can_trade_perpetuals:
            found.append("This key cannot trade perpetual futures; fundarb cannot open positions with it.")
        return found


MAX_CLIENT_ORDER_ID_LENGTH = 36
_CLIENT_ORDER_ID = re.compile(rf"[a-z0-9_-]{{1,{MAX_CLIENT_ORDER_ID_LENGTH}}}")


def check_client_order_id(value: str) -> str:
    """Accept only ids valid on both venues and unchanged by them.

    Bybit allows 36 characters of letters, digits, ``-`` and ``_``; BingX lowercases ids, so uppercase would come
    back different; and these characters need no URL encoding, so BingX signs exactly what is sent.
    """
    if not isinstance(value, str) or not _CLIENT_ORDER_ID.fullmatch(value):
        raise ValueError(
            f"client order id {value!r} is invalid: use 1 to {MAX_CLIENT_ORDER_ID_LENGTH} lowercase letters, "
            "digits, '-' or '_'"
        )
    return value


def whole_leverage(value: object) -> int:
    """A leverage as a whole number >= 1. Rejects bools and fractional floats/Decimals instead of rounding them."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"leverage must be a whole number, got {value!r}")
    try:
        whole = value == int(value)
    except (ValueError, OverflowError):  # NaN, infinity
        whole = False
    if not whole:
        raise ValueError(f"leverage must be a whole number, got {value}")
    leverage = int(value)
    if leverage < 1:
        raise ValueError(f"leverage must be at least 1x, got {leverage}x")
    return leverage


def plain_decimal(value: Decimal) -> str:
    """A ``Decimal`` as plain digits, never an exponent: ``Decimal("1E+1")`` -> ``"10"``, ``0.00100`` -> ``"0.001"``."""
    return format(value.normalize(), "f")


def quantity_text(quantity: Decimal) -> str:
    """An order quantity as the venues want it. Floats are refused: their binary fractions are not exact."""
    if isinstance(quantity, bool) or not isinstance(quantity, Decimal | int):
        raise ValueError(f"quantity must be a Decimal, got {type(quantity).__name__} {quantity!r}")
    quantity = Decimal(quantity)
    if not quantity.is_finite() or quantity <= 0:
        raise ValueError(f"quantity must be a positive number, got {quantity}")
    return plain_decimal(quantity)


Clock = Callable[[], float]
"""Seconds since the epoch, like ``time.time``: the seam through which tests control time."""


@runtime_checkable
class ExchangeClient(Protocol):
    """What fundarb needs from a venue. Every method may raise an ``exchanges.errors.ExchangeError``."""

    venue: Venue

    def server_time(self) -> datetime: ...

    def sync_clock(self, *, samples: int = 3, max_age: float | None = None) -> ClockSync:
        """Measure the venue's clock offset (round-trip corrected, best of ``samples``) and use it from now on; with
        ``max_age``, reuse a measurement of the same endpoint younger than that many seconds."""
        ...

    def exchange_now(self) -> datetime:
        """The local clock corrected by the last measured offset: what the venue thinks the time is."""
        ...

    def symbol_rules(self, symbol: str) -> SymbolRules: ...

    def all_symbol_rules(self) -> dict[str, SymbolRules]: ...

    def funding_info(self, symbol: str) -> FundingInfo: ...

    def all_funding_info(self) -> dict[str, FundingInfo]: ...

    def position_mode(self, symbol: str) -> PositionMode: ...

    def leverage(self, symbol: str) -> LeverageInfo: ...

    def set_leverage(self, symbol: str, leverage: int, *, position_mode: PositionMode) -> None:
        """Set leverage (both sides in hedge mode). "Not modified" counts as success."""
        ...

    def positions(self, symbol: str) -> list[Position]: ...

    def balance(self) -> Balance: ...

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
        """Send one market order. Never retried: on ``UnknownOutcome`` look it up with ``get_order``."""
        ...

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
        """Check, sign and lay out a market order to be sent at local time ``at`` (default now); sends nothing.
        Raises what ``place_market_order`` raises before anything leaves."""
        ...

    def order_send(self, ready: ReadyOrder) -> OrderAck:
        """Send an order built by ``order_ready``, once: ``place_market_order`` is ``order_send(order_ready(...))``."""
        ...

    def get_order(self, *, symbol: str, client_order_id: str, exchange_order_id: str | None = None) -> Order:
        """Look an order up: by the venue's order id when given (from the ``OrderAck``), else by the client id.

        Only an answer echoing the id(s) asked for counts; otherwise ``OrderNotFound``.
        """
        ...

    def funding_payments(
        self, *, since: datetime, until: datetime | None = None, symbol: str | None = None
    ) -> list[FundingPayment]: ...

    def key_permissions(self) -> KeyPermissions: ...

    def account_id(self) -> str:
        """The venue's stable user id (UID) of the account the key belongs to: two keys, one account, same id."""
        ...

    def close(self) -> None: ...

"""Talking to a venue about orders and positions. No database access here: callers record the results.

The rules that keep money safe: an order request is sent once, and what it did is never decided from its answer
alone. A request whose answer is anything but a definite refusal (a timeout, a dropped connection, a 5xx, an
unreadable body, "processing", a code we do not know) has an unknown outcome; whether the leg is open is then read
from the venue's positions, and the order itself is looked up for the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from arbitrage.services import clock
from arbitrage.services.budget import Slot
from exchanges.base import ExchangeClient, Order, OrderAck, PositionMode, PositionSide, ReadyOrder, Side, Venue
from exchanges.errors import (
    AuthenticationError,
    ClockSkewError,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientMargin,
    InvalidLeverage,
    InvalidRequest,
    OrderNotFound,
    PermissionDenied,
    PositionConflict,
    RateLimited,
    ReduceOnlyRejected,
    SymbolNotFound,
)
from exchanges.transport import NOTHING_SENT

# The venue answered and said no: nothing was placed. Everything else that can go wrong leaves the outcome open.
DEFINITE_REFUSALS = (
    AuthenticationError,
    ClockSkewError,
    InsufficientMargin,
    InvalidLeverage,
    InvalidRequest,
    PermissionDenied,
    PositionConflict,
    RateLimited,
    ReduceOnlyRejected,
    SymbolNotFound,
)
# Refusals that may clear within seconds: an open refused for one of these is worth sending again.
TRANSIENT_REFUSALS = (RateLimited, ClockSkewError, ExchangeUnavailable)


@dataclass(frozen=True)
class LegRequest:
    venue: Venue
    account_id: int
    client: ExchangeClient
    symbol: str
    side: Side
    quantity: Decimal
    client_order_id: str
    position_mode: PositionMode
    reduce_only: bool = False


@dataclass(frozen=True)
class LegResult:
    """What one order request came to.

    ``placed`` is True (the venue acknowledged it), False (the venue refused it: nothing was placed) or None (the
    outcome is unknown: positions decide, a lookup completes the record).
    """

    placed: bool | None
    ack: OrderAck | None = None
    error: str = ""
    sent_at: float = 0.0
    acked_at: float | None = None
    refusal: type[ExchangeError] | None = None
    left: bool = True  # False when the request certainly never reached the venue

    @property
    def transient_refusal(self) -> bool:
        return self.refusal is not None and issubclass(self.refusal, TRANSIENT_REFUSALS)


def leg_place(request: LegRequest, slot: Slot | None = None, *, ready: ReadyOrder | None = None) -> LegResult:
    """Wait for the request's budget slot, then send the order once (``ready``: as signed ahead for this request).
    Never retried, never looked up here."""
    if slot is not None:
        slot.wait()
    sent_at = clock.clock.time()
    try:
        if ready is not None:
            ack = request.client.order_send(ready)
        else:
            ack = request.client.place_market_order(
                symbol=request.symbol,
                side=request.side,
                quantity=request.quantity,
                client_order_id=request.client_order_id,
                position_mode=request.position_mode,
                reduce_only=request.reduce_only,
            )
    except ExchangeUnavailable as exc:  # on an order the transport says this only when the request never left
        return LegResult(placed=False, error=str(exc), sent_at=sent_at, refusal=type(exc), left=False)
    except DEFINITE_REFUSALS as exc:
        never_left = isinstance(exc, InvalidRequest) and exc.hint == NOTHING_SENT
        return LegResult(placed=False, error=str(exc), sent_at=sent_at, refusal=type(exc), left=not never_left)
    except ExchangeError as exc:
        return LegResult(placed=None, error=str(exc), sent_at=sent_at)
    except Exception as exc:  # a bug or a library surprise after the request may have left: assume it did
        return LegResult(placed=None, error=f"unexpected error ({type(exc).__name__})", sent_at=sent_at)
    return LegResult(placed=True, ack=ack, sent_at=sent_at, acked_at=clock.clock.time())


def order_query(
    client: ExchangeClient, *, symbol: str, client_order_id: str, exchange_order_id: str = ""
) -> Order | None:
    """One lookup, by the venue's order id when we have it. None when the venue says it has no such order."""
    try:
        return client.get_order(
            symbol=symbol, client_order_id=client_order_id, exchange_order_id=exchange_order_id or None
        )
    except OrderNotFound:
        return None


@dataclass(frozen=True)
class PositionReading:
    """Our side of one leg, as the venue shows it. ``other`` is the size held on the opposite side."""

    ours: Decimal
    other: Decimal


def position_read(client: ExchangeClient, *, symbol: str, side: PositionSide) -> PositionReading:
    positions = client.positions(symbol)
    ours = sum((p.size for p in positions if p.side is side), Decimal(0))
    other = sum((p.size for p in positions if p.side is not side), Decimal(0))
    return PositionReading(ours=ours, other=other)

"""Placing, resolving and reading orders on a venue. No database access here: callers record the results.

The rule that keeps money safe: an order request is sent once. When its outcome is unknown (timeout, dropped
connection, 5xx) we ask the venue for the client order id until it answers; "not found" only counts once the venue
has kept answering normally for ``UNKNOWN_ORDER_GRACE`` seconds (longer than any venue's receive window, so a
delayed request can no longer be accepted).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from arbitrage.services import clock
from exchanges.base import ExchangeClient, Order, OrderAck, PositionMode, PositionSide, Side, Venue
from exchanges.errors import (
    DuplicateOrder,
    ExchangeError,
    ExchangeUnavailable,
    MalformedResponse,
    OrderNotFound,
    OrderProcessing,
    RateLimited,
    ReduceOnlyRejected,
    UnknownOutcome,
)

# Venue order-entry limits per account (notes §11): orders are paced below them, never rejected for them.
ORDER_RATE_PER_SECOND = {Venue.BYBIT: 10, Venue.BINGX: 5}
_LOOKUP_PAUSE = 0.25
_TRANSIENT = (ExchangeUnavailable, UnknownOutcome, MalformedResponse, RateLimited, OrderProcessing)


class _Pacer:
    """A sliding one-second window per account, shared by every thread of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: dict[tuple[str, int], deque[float]] = {}

    def wait_turn(self, *, venue: Venue, account_id: int) -> None:
        limit = ORDER_RATE_PER_SECOND[venue]
        while True:
            with self._lock:
                now = time.monotonic()
                window = self._sent.setdefault((venue.value, account_id), deque())
                while window and now - window[0] >= 1.0:
                    window.popleft()
                if len(window) < limit:
                    window.append(now)
                    return
                pause = 1.0 - (now - window[0])
            time.sleep(max(pause, 0.001))


pacer = _Pacer()


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
    """What happened to one order request.

    ``placed`` is True (the venue has it), False (it certainly does not) or None (still unknown after every
    lookup: the reconciler must decide from positions).
    """

    placed: bool | None
    ack: OrderAck | None = None
    order: Order | None = None
    error: str = ""
    sent_at: float = 0.0
    acked_at: float | None = None
    already_flat: bool = False


def _send(request: LegRequest) -> OrderAck:
    pacer.wait_turn(venue=request.venue, account_id=request.account_id)
    return request.client.place_market_order(
        symbol=request.symbol,
        side=request.side,
        quantity=request.quantity,
        client_order_id=request.client_order_id,
        position_mode=request.position_mode,
        reduce_only=request.reduce_only,
    )


def order_lookup(client: ExchangeClient, *, symbol: str, client_order_id: str) -> Order | None:
    """Find an order by client id. None once the venue has said "not found" normally for the whole grace period.

    Raises ``ExchangeError`` only if the venue stays unreachable for three grace periods.
    """
    grace = settings.FUNDARB_EXECUTOR["UNKNOWN_ORDER_GRACE"]
    started = time.monotonic()
    first_normal_not_found: float | None = None
    while True:
        try:
            return client.get_order(symbol=symbol, client_order_id=client_order_id)
        except OrderNotFound:
            now = time.monotonic()
            first_normal_not_found = first_normal_not_found or now
            if now - first_normal_not_found >= grace:
                return None
        except _TRANSIENT:
            if time.monotonic() - started > 3 * grace:
                raise
        time.sleep(_LOOKUP_PAUSE)


def order_fill(client: ExchangeClient, *, symbol: str, client_order_id: str, attempts: int = 20) -> Order | None:
    """The order with its fill; waits briefly while the venue is still processing it."""
    for _ in range(attempts):
        try:
            order = client.get_order(symbol=symbol, client_order_id=client_order_id)
        except (OrderNotFound, *_TRANSIENT):
            time.sleep(_LOOKUP_PAUSE)
            continue
        if order.status.is_final:
            return order
        time.sleep(_LOOKUP_PAUSE / 2)
    try:
        return client.get_order(symbol=symbol, client_order_id=client_order_id)
    except ExchangeError:
        return None


def leg_place(request: LegRequest) -> LegResult:
    """Send one order and find out for certain whether the venue has it (see the module docstring)."""
    sent_at = clock.clock.time()
    try:
        ack = _send(request)
        return LegResult(placed=True, ack=ack, sent_at=sent_at, acked_at=clock.clock.time())
    except DuplicateOrder:
        outcome = "the venue already has this client order id"
    except (UnknownOutcome, ExchangeUnavailable, MalformedResponse) as exc:
        outcome = str(exc)
    except ReduceOnlyRejected as exc:
        return LegResult(placed=False, error=str(exc), sent_at=sent_at, already_flat=True)
    except ExchangeError as exc:
        return LegResult(placed=False, error=str(exc), sent_at=sent_at)
    try:
        order = order_lookup(request.client, symbol=request.symbol, client_order_id=request.client_order_id)
    except ExchangeError as exc:
        return LegResult(placed=None, error=f"{outcome}; lookup failed: {exc}", sent_at=sent_at)
    if order is None:
        return LegResult(placed=False, error=f"{outcome}; the venue does not have the order", sent_at=sent_at)
    return LegResult(placed=True, order=order, error="", sent_at=sent_at, acked_at=clock.clock.time())


def position_size(client: ExchangeClient, *, symbol: str, side: PositionSide) -> Decimal:
    return sum((p.size for p in client.positions(symbol) if p.side is side), Decimal(0))

"""The venue-neutral money path: margin, market fills, position bookkeeping and funding settlement.

Every function here expects ``state.lock`` held. Rejections raise ``Reject`` with a venue-neutral ``kind``; each
venue module translates kinds into its own codes and messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from .markets import SLIPPAGE
from .settlement_rules import counted_size
from .state import (
    Account,
    FundingRow,
    MarketState,
    OrderState,
    PendingSettlement,
    PositionState,
    SettledPosition,
    Settlement,
    SimState,
)

MONEY = Decimal("0.00000001")


class Reject(Exception):
    """A venue-neutral refusal: ``kind`` names the rule, ``detail`` feeds the venue's message."""

    def __init__(self, kind: str, detail: str = "") -> None:
        self.kind = kind
        self.detail = detail
        super().__init__(f"{kind}: {detail}")


@dataclass(frozen=True)
class Summary:
    wallet: Decimal
    unrealised: Decimal
    initial_margin: Decimal
    realised: Decimal

    @property
    def equity(self) -> Decimal:
        return self.wallet + self.unrealised

    @property
    def available(self) -> Decimal:
        return max(Decimal(0), self.equity - self.initial_margin)


def round_down(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def signed_size(slot: str, position: PositionState) -> Decimal:
    return -position.size if slot == "short" else position.size


def unrealised(market: MarketState, venue: str, slot: str, position: PositionState) -> Decimal:
    return ((market.mark(venue) - position.entry) * signed_size(slot, position)).quantize(MONEY)


def slot_leverage(account: Account, symbol: str, slot: str, size: Decimal) -> Decimal:
    long, short = account.leverage_of(symbol)
    if slot == "long" or (slot == "both" and size > 0):
        return long
    return short


def initial_margin(account: Account, symbol: str, slot: str, position: PositionState) -> Decimal:
    value = abs(position.size) * position.entry
    return (value / slot_leverage(account, symbol, slot, position.size)).quantize(MONEY)


def summary(state: SimState, account: Account) -> Summary:
    upl = Decimal(0)
    im = Decimal(0)
    realised = Decimal(0)
    for symbol, slot, position in account.open_positions():
        upl += unrealised(state.markets[symbol], account.venue, slot, position)
        im += initial_margin(account, symbol, slot, position)
    for position in account.positions.values():
        realised += position.realised
    return Summary(wallet=account.balance, unrealised=upl, initial_margin=im, realised=realised)


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: str  # buy | sell
    qty: Decimal
    slot: str  # both | long | short
    reduce_only: bool
    client_id: str


@dataclass(frozen=True)
class OrderFaults:
    """What the fault rules do to one order create: fill only part of it, keep it from order queries a while."""

    fill_fraction: Decimal = Decimal(1)
    hidden_for_ms: int = 0  # "processing"
    hidden_calls: int = 0  # "processing"
    unknown_for_ms: int = 0  # "not found"

    @property
    def processing(self) -> bool:
        return bool(self.hidden_for_ms or self.hidden_calls)


NO_FAULTS = OrderFaults()


def place_market_order(
    state: SimState, account: Account, request: OrderRequest, faults: OrderFaults = NO_FAULTS
) -> OrderState:
    """Fill a market order at once (IOC): at the mark plus slippage, taker fee charged, position updated."""
    venue = account.venue
    market = state.markets[request.symbol]
    rules = market.rules(venue)
    position = account.position(request.symbol, request.slot)
    sign = 1 if request.side == "buy" else -1
    current = signed_size(request.slot, position)
    closable = abs(current) if current and (current > 0) != (sign > 0) else Decimal(0)
    # A hedge slot only closes with the opposite side; the venues cap such orders at the position like reduce-only.
    closes_only = request.reduce_only or (request.slot == "long" and sign < 0) or (request.slot == "short" and sign > 0)

    qty = request.qty
    if qty < rules.min_qty:
        raise Reject("min_qty", f"{rules.min_qty}")
    if qty > rules.max_market_qty:
        raise Reject("max_qty", f"{rules.max_market_qty}")
    if closes_only:
        if not closable:
            raise Reject("reduce_only_nothing")
        qty = min(qty, closable)
    mark = market.mark(venue)
    slip = (mark * SLIPPAGE * sign).quantize(market.spec.tick)
    price = max(market.spec.tick, mark + slip)
    if not closes_only and qty * price < rules.min_notional:
        raise Reject("min_notional", f"{rules.min_notional}")

    fraction = faults.fill_fraction
    filled = qty if fraction >= 1 else max(rules.qty_step, round_down(qty * fraction, rules.qty_step))
    fee = (filled * price * rules.taker_fee).quantize(MONEY)
    closing = min(filled, closable)
    opening = filled - closing
    if opening:
        leverage = account.leverage_of(request.symbol)[0 if sign > 0 else 1]
        needed = opening * price / leverage + fee
        if needed > summary(state, account).available:
            raise Reject("insufficient_margin", f"needs {needed.quantize(Decimal('0.01'))} USDT")

    now_ms = state.clock.now_ms(venue)
    realised = Decimal(0)
    if closing:
        realised = ((price - position.entry) * closing * (1 if current > 0 else -1)).quantize(MONEY)
        remaining = abs(current) - closing
        position.size = remaining if request.slot != "both" else remaining * (1 if current > 0 else -1)
        position.realised += realised
        if not position.size:
            position.entry = Decimal(0)
    if opening:
        held = abs(signed_size(request.slot, position))
        position.entry = ((held * position.entry + opening * price) / (held + opening)).quantize(market.spec.tick)
        new_size = held + opening
        position.size = new_size if request.slot != "both" else new_size * sign
        if not position.position_id:
            position.position_id = state.new_row_id()
            position.created_ms = now_ms
    position.updated_ms = now_ms
    state.note_size(account, request.symbol, request.slot, signed_size(request.slot, position), now_ms)
    account.balance += realised - fee

    order = OrderState(
        order_id=state.new_order_id(venue),
        client_id=request.client_id,
        symbol=request.symbol,
        side=request.side,
        slot=request.slot,
        qty=qty,
        filled=filled,
        avg_price=price,
        fee=fee,
        reduce_only=request.reduce_only,
        status="filled" if filled == qty else "partially_filled",
        realised=realised,
        created_ms=now_ms,
        updated_ms=now_ms,
        hidden_until_ms=now_ms + faults.hidden_for_ms if faults.hidden_for_ms else 0,
        hidden_calls=faults.hidden_calls,
        unknown_until_ms=now_ms + faults.unknown_for_ms if faults.unknown_for_ms else 0,
    )
    account.orders.append(order)
    return order


def order_unknown(state: SimState, venue: str, order: OrderState) -> bool:
    """Whether a "not found" fault still makes queries answer as if the venue had never heard of this order."""
    return order.unknown_until_ms > state.clock.now_ms(venue)


def order_visible(state: SimState, venue: str, order: OrderState) -> bool:
    """Whether an order query may show this order now (a hidden query uses up one "processing" call)."""
    return not order_unknown(state, venue, order) and not order_hidden(state, venue, order)


def order_hidden(state: SimState, venue: str, order: OrderState) -> bool:
    """Whether a "processing" fault still hides this order from queries (each hidden query uses one call)."""
    if order.hidden_calls > 0:
        order.hidden_calls -= 1
        return True
    return order.hidden_until_ms > state.clock.now_ms(venue)


def funding_due(state: SimState, venue: str, symbol: str) -> None:
    """The venue's clock passed the instant: settle it now, or later where the venue settles late, at T's rate."""
    funding = state.markets[symbol].funding[venue]
    delay = state.settlement[venue].settle_delay_ms
    state.pending_settlements.append(
        PendingSettlement(venue, symbol, funding.next_ms, funding.rate, due_ms=funding.next_ms + delay)
    )
    now_ms = state.clock.now_ms(venue)
    while funding.next_ms <= now_ms:
        funding.next_ms += funding.interval * 1000


def settle_due(state: SimState) -> list[tuple[Account, FundingRow]]:
    """Settle every instant whose settlement moment has come (see ``settlement_rules``)."""
    paid = []
    for pending in list(state.pending_settlements):
        if pending.due_ms <= state.clock.now_ms(pending.venue):
            state.pending_settlements.remove(pending)
            paid += _settle(state, pending)
    return paid


def _settle(state: SimState, pending: PendingSettlement) -> list[tuple[Account, FundingRow]]:
    """Charge or credit each position the venue counts (longs pay when the rate is positive), and record where
    every account on both venues stood at the settlement moment."""
    venue, symbol = pending.venue, pending.symbol
    market = state.markets[symbol]
    mark = market.mark(venue)
    start_ms = pending.time_ms - state.settlement[venue].count_cutoff_ms
    settled_ms = pending.due_ms  # the venue's own stamp: T itself where it settles at once
    paid = []
    for account in state.accounts.values():
        if account.venue != venue:
            continue
        for _, slot, position in account.open_positions(symbol):
            history = state.size_history.get((venue, account.api_key, symbol, slot), [])
            size = counted_size(history, signed_size(slot, position), start_ms=start_ms, end_ms=settled_ms)
            if not size:
                continue
            amount = (-size * mark * pending.rate).quantize(MONEY)
            account.balance += amount
            row = FundingRow(
                row_id=state.new_row_id(),
                symbol=symbol,
                side="long" if size > 0 else "short",
                size=abs(size),
                rate=pending.rate,
                mark=mark,
                amount=amount,
                balance_after=account.balance,
                time_ms=settled_ms,
            )
            account.funding.append(row)
            paid.append((account, row))
    state.record_settlement(Settlement(venue, symbol, pending.time_ms, positions_in(state, symbol)))
    return paid


def positions_in(state: SimState, symbol: str) -> list[SettledPosition]:
    """Every account's open position in ``symbol``, on both venues: what a settlement record keeps."""
    return [
        SettledPosition(
            account.venue, account.api_key, slot, "long" if signed_size(slot, p) > 0 else "short", abs(p.size)
        )
        for account in state.accounts.values()
        for _, slot, p in account.open_positions(symbol)
    ]

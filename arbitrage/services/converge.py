"""The one primitive that moves money after the open: converge both legs to their targets.

Read each leg's position on its venue, send the difference (reduce-only when shrinking, a new client id stored
first), read again, and repeat with backoff until every leg holds its target and every order it sent is settled.
Settle, trim, unwind, close and the reconciler all choose two targets and call this: hedged is both at Q, trimmed
is both at the smaller fill, flat is both at 0.

It only ever moves our side of a leg within [0, the leg's cap]. A position on the other side (in one-way mode a
user's own trade nets with ours) or above the cap is never traded away: the caller is told it is a conflict. A new
order on a leg waits until the leg's earlier orders are settled, so a late fill can never be doubled.
"""

from __future__ import annotations

import enum
import logging
import time
from concurrent.futures import Future
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from decimal import Decimal

from arbitrage.models import Order, OrderAction, OrderState
from arbitrage.services import clock
from arbitrage.services.budget import Slot, budget_reserve
from arbitrage.services.orders import LegRequest, LegResult, leg_place, position_read
from arbitrage.services.parallel import run_parallel
from arbitrage.services.plan import Leg, Plan, cfg
from arbitrage.services.records import (
    order_create,
    order_lookup_apply,
    order_lookups_start,
    order_record_inferred_fill,
    order_record_result,
    order_settled,
    order_unconfirmed,
)
from arbitrage.services.transitions import execution_lease_renew
from exchanges.base import PositionMode, plain_decimal
from exchanges.errors import AuthenticationError, ExchangeError
from exchanges.limits import RequestKind

logger = logging.getLogger(__name__)


class Verdict(enum.StrEnum):
    CONVERGED = "converged"  # every leg at its target, every order settled
    CONFLICT = "conflict"  # a position that is not ours: nothing was traded against it
    STUCK = "stuck"  # out of time (positions unreadable, orders refused or unsettled): try again later
    BLOCKED = "blocked"  # a leg is below its target and may not grow (the open cutoff passed, or no retries left)
    LOST = "lost"  # another owner took the execution over: stop


@dataclass
class LegState:
    """One leg as last read from its venue, and what its orders tell."""

    leg: Leg
    size: Decimal | None = None  # our side's position; None until read
    seen: Decimal = Decimal(0)  # the most it was ever seen holding
    settled: bool = False
    error: str = ""
    locked_out_reads: int = 0  # reads in a row the venue refused for the key itself (a rotated or deleted secret)
    presumed_refused: bool = False  # its unknown orders are taken as refused for the key (see opening.py)
    conflict: str = ""
    missing: set[int] = field(default_factory=set)  # orders the venue said it never had, at the last lookup
    lookups: dict[int, tuple[Order, Future]] = field(default_factory=dict)  # still in flight

    @property
    def role(self) -> str:
        return self.leg.role


@dataclass
class ConvergeResult:
    verdict: Verdict
    legs: dict[str, LegState] = field(default_factory=dict)
    message: str = ""

    @property
    def sizes(self) -> dict[str, Decimal | None]:
        return {role: state.size for role, state in self.legs.items()}


def leg_refused_everything(plan: Plan, role: str) -> bool:
    """Every order sent on this leg was refused by its venue: the leg holds nothing of ours, readable or not."""
    statuses = set(Order.objects.filter(execution_id=plan.pk, role=role).values_list("status", flat=True))
    return bool(statuses) and statuses <= {OrderState.REJECTED, OrderState.NOT_PLACED}


def legs_read(plan: Plan, states: dict[str, LegState]) -> None:
    """Read every leg's position at once (paced within each account's budget) and each leg's orders' state, with
    the answers of the order lookups that are in (see ``orders_look_up``)."""
    legs = [state.leg for state in states.values()]
    slots = budget_reserve([(leg.account, RequestKind.POSITIONS) for leg in legs])
    symbol = plan.execution.symbol

    def read(leg: Leg, slot: Slot):
        slot.wait()
        return position_read(plan.client(leg.account), symbol=symbol, side=leg.position_side)

    outcomes = run_parallel(*[(lambda leg=leg, s=s: read(leg, s)) for leg, s in zip(legs, slots, strict=True)])
    for leg, outcome in zip(legs, outcomes, strict=True):
        state = states[leg.role]
        state.error = state.conflict = ""
        state.locked_out_reads = state.locked_out_reads + 1 if _key_refused(outcome.error) else 0
        if outcome.error is not None:
            error = outcome.error
            state.error = str(error) if isinstance(error, ExchangeError) else f"unexpected {type(error).__name__}"
            continue
        reading = outcome.value
        if state.size != reading.ours:
            flat_again = reading.ours == 0 and state.seen > 0
            plan.record(
                step=f"{leg.role}_flat" if flat_again else f"{leg.role}_position",
                outcome="ok",
                venue=leg.account.exchange,
                duration=outcome.duration,
                detail=f"{plain_decimal(reading.ours)} {symbol} {leg.position_side.value}",
            )
        state.size = reading.ours
        state.seen = max(state.seen, reading.ours)
        if reading.other > 0 and plan.mode_of(leg.account) is PositionMode.ONE_WAY:
            state.conflict = (
                f"{leg.account.venue.label} account '{leg.account.label}' holds {plain_decimal(reading.other)} "
                f"{symbol} on the other side, which is not fundarb's"
            )
        elif reading.ours > leg.cap:
            state.conflict = (
                f"{leg.account.venue.label} account '{leg.account.label}' holds {plain_decimal(reading.ours)} "
                f"{symbol}, more than the {plain_decimal(leg.cap)} fundarb opened"
            )
    orders_look_up(plan, states)
    _orders_settle(plan, states)


def _key_refused(error: BaseException | None) -> bool:
    """The venue itself refused the key (its own code, or HTTP 401), not our side lacking one."""
    return isinstance(error, AuthenticationError) and (error.code is not None or error.http_status == 401)


def orders_look_up(plan: Plan, states: dict[str, LegState], *, wait: float = 0.0) -> None:
    """Ask the venues for the orders whose record we lack, and store the answers that are in (waiting up to
    ``wait`` seconds for them). For the record only: a leg's position decides, so a lookup that is slow or down
    (retries, an outage) stays in flight across rounds and never holds back a move on either leg.

    Converging starts after the trigger, so an open still PENDING may have left before a crash kept us from
    recording it: it counts as sent at the trigger.
    """
    now = clock.now()
    unknown = (OrderState.PENDING, OrderState.SENT)
    for state in states.values():
        wanted = [
            o
            for o in Order.objects.filter(execution_id=plan.pk, role=state.role)
            if o.pk not in state.lookups
            and order_unconfirmed(o)
            and (o.status in unknown or not order_settled(plan, o, now=now))
        ]
        state.lookups.update(order_lookups_start(plan, wanted))
    in_flight = [future for state in states.values() for _, future in state.lookups.values()]
    if wait > 0 and in_flight:
        futures_wait(in_flight, timeout=wait)
    for state in states.values():
        for pk, (order, future) in list(state.lookups.items()):
            if not future.done():
                continue
            del state.lookups[pk]
            if order_lookup_apply(plan, order, future.result()):
                state.missing.add(pk)
            else:
                state.missing.discard(pk)


def _orders_settle(plan: Plan, states: dict[str, LegState]) -> None:
    """Decide which legs' orders are all settled, and square the records of settled legs with their positions."""
    orders = list(Order.objects.filter(execution_id=plan.pk))
    now = clock.now()
    for state in states.values():
        mine = [o for o in orders if o.role == state.role]
        state.settled = all(order_settled(plan, o, now=now) for o in mine)
        if state.size is not None and state.settled:
            _account_for(state, mine, state.missing)


def _account_for(state: LegState, orders: list[Order], missing: set[int]) -> None:
    """Square our record of a settled leg with its position: fills the venue has not confirmed yet are what the
    position says they were (the account was flat at preflight, and only our orders moved this side since)."""

    def signed(order: Order) -> Decimal:
        return -order.filled_quantity if order.reduce_only else order.filled_quantity

    confirmed = sum((signed(o) for o in orders if o.fill_confirmed), Decimal(0))
    unconfirmed = [o for o in orders if order_unconfirmed(o)]
    # Only one order's effect can be read off the position: two unconfirmed orders (an open and its close, both
    # hidden by a lagging venue) can net to nothing while both filled.
    if len(unconfirmed) != 1:
        return
    order = unconfirmed[0]
    gap = state.size - confirmed
    if gap == 0 and order.pk in missing:
        Order.objects.filter(pk=order.pk).update(
            status=OrderState.NOT_PLACED, error="the venue has no such order and the position shows none"
        )
        order.status = OrderState.NOT_PLACED
    elif gap != 0:
        filled = -gap if order.reduce_only else gap
        if 0 < filled <= order.quantity:
            order_record_inferred_fill(order, filled)


def _at_target(state: LegState, target: Decimal) -> bool:
    """A leg at its target whose orders can change nothing more: settled, or full (it can never exceed its cap)."""
    return state.size == target and (state.settled or target == state.leg.cap)


def _pause(seconds: float) -> None:
    time.sleep(max(0.0, seconds))


def legs_converge(
    plan: Plan,
    *,
    targets: dict[str, Decimal],
    action: str,
    seconds: float,
    states: dict[str, LegState] | None = None,
    may_grow: bool = False,
) -> ConvergeResult:
    """Bring every leg to ``targets[role]`` (see the module docstring). Gives up after ``seconds``.

    ``action`` names the orders it sends (close, unwind); a leg only grows when ``may_grow`` and the open cutoff has
    not passed (those orders are opens). ``states`` carries earlier readings in, so what was seen is not forgotten.
    """
    states = states if states is not None else {leg.role: LegState(leg=leg) for leg in plan.legs()}
    give_up = clock.clock.time() + seconds
    pause = cfg("CONVERGE_PAUSE")
    while True:
        if not execution_lease_renew(plan):
            return ConvergeResult(Verdict.LOST, states, "another worker took this execution over")
        legs_read(plan, states)
        conflicts = [s.conflict for s in states.values() if s.conflict]
        if conflicts:
            return ConvergeResult(Verdict.CONFLICT, states, "; ".join(conflicts))
        unread = [s for s in states.values() if s.error]
        if not unread and all(_at_target(s, targets[s.role]) for s in states.values()):
            # The positions were just read and nothing was sent since: complete the order records, then call it.
            orders_look_up(plan, states, wait=max(0.0, give_up - clock.clock.time()))
            _orders_settle(plan, states)
            if all(_at_target(s, targets[s.role]) for s in states.values()):
                return ConvergeResult(Verdict.CONVERGED, states)
        moves, blocked = _moves(plan, states, targets, may_grow=may_grow and not unread)
        if blocked:
            return ConvergeResult(Verdict.BLOCKED, states, blocked)
        if moves:
            results = _send(plan, moves, action=action)
            if all(result.placed is not False for result in results):
                pause = cfg("CONVERGE_PAUSE")  # read the effect soon; after a refusal keep backing off
        if clock.clock.time() >= give_up:
            reasons = [f"{s.leg.label}: position unreadable ({s.error})" for s in unread]
            reasons += [
                f"{s.leg.label} holds {plain_decimal(s.size)} (target {plain_decimal(targets[s.role])})"
                for s in states.values()
                if s.size is not None and s.size != targets[s.role]
            ]
            reasons += [
                f"{s.leg.label}: an order's outcome is not settled yet" for s in states.values() if not s.settled
            ]
            return ConvergeResult(Verdict.STUCK, states, "; ".join(reasons) or "not converged in time")
        _pause(min(pause, max(0.0, give_up - clock.clock.time())))
        pause = min(pause * 2, cfg("CONVERGE_MAX_PAUSE"))


@dataclass(frozen=True)
class _Move:
    leg: Leg
    quantity: Decimal
    shrink: bool


def _moves(
    plan: Plan, states: dict[str, LegState], targets: dict[str, Decimal], *, may_grow: bool
) -> tuple[list[_Move], str]:
    """The orders that bring settled legs closer to their targets, or why a leg cannot get there."""
    moves = []
    now = clock.clock.time()
    for state in states.values():
        target = targets[state.role]
        if state.size is None or state.error or state.size == target or not state.settled:
            continue
        if state.size > target:
            moves.append(_Move(state.leg, state.size - target, shrink=True))
            continue
        opens = list(Order.objects.filter(execution_id=plan.pk, role=state.role, action=OrderAction.OPEN))
        if not may_grow or now >= plan.local(plan.open_cutoff) or len(opens) > cfg("OPEN_RETRIES"):
            return (
                [],
                f"{state.leg.label} holds {plain_decimal(state.size)} and may not grow to {plain_decimal(target)}",
            )
        last_sent = max((o.sent_at.timestamp() for o in opens if o.sent_at), default=0.0)
        if now - last_sent >= cfg("OPEN_RETRY_AFTER"):
            moves.append(_Move(state.leg, min(target, state.leg.cap) - state.size, shrink=False))
    return [m for m in moves if m.quantity > 0], ""


def _send(plan: Plan, moves: list[_Move], *, action: str) -> list[LegResult]:
    """Orders for the moves: stored first, each in its account's budget, sent together."""
    orders = [
        order_create(
            plan,
            move.leg,
            action=action if move.shrink else OrderAction.OPEN,
            quantity=move.quantity,
            reduce_only=move.shrink,
        )
        for move in moves
    ]
    slots = budget_reserve([(move.leg.account, RequestKind.ORDER) for move in moves])
    requests = [
        LegRequest(
            venue=move.leg.account.venue,
            account_id=move.leg.account.pk,
            client=plan.client(move.leg.account),
            symbol=plan.execution.symbol,
            side=move.leg.side.opposite if move.shrink else move.leg.side,
            quantity=order.quantity,
            client_order_id=order.client_order_id,
            position_mode=plan.mode_of(move.leg.account),
            reduce_only=move.shrink,
        )
        for move, order in zip(moves, orders, strict=True)
    ]
    if not all(move.shrink for move in moves) and max(s.at for s in slots) >= plan.local(plan.open_cutoff):
        # A growing order would leave after the open cutoff: send none of the growth (shrinking is always fine).
        keep = [i for i, move in enumerate(moves) if move.shrink]
        for i, order in enumerate(orders):
            if i not in keep:
                Order.objects.filter(pk=order.pk).update(status=OrderState.NOT_PLACED, error="after the open cutoff")
        orders, slots, requests = [orders[i] for i in keep], [slots[i] for i in keep], [requests[i] for i in keep]
    outcomes = run_parallel(*[(lambda r=r, s=s: leg_place(r, s)) for r, s in zip(requests, slots, strict=True)])
    results = []
    for order, outcome in zip(orders, outcomes, strict=True):
        result = outcome.value or LegResult(placed=None, error=f"unexpected error ({type(outcome.error).__name__})")
        order_record_result(plan, order, result, step=f"{order.action}_sent")
        results.append(result)
    return results

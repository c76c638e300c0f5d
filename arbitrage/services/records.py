"""Our record of each order: created before it is sent, completed from the venue's answers and lookups.

The record serves the timeline and the P&L (prices, fees); decisions about what is open never come from it. It
also says when an order is *settled*: when nothing more can come of it, so a leg's position can be trusted to show
everything that order did. That is true once the venue gave its final word, once an acknowledged market order has
had ``ORDER_SETTLE`` seconds to fill, or once a request of unknown outcome is older than ``UNKNOWN_ORDER_GRACE``
(longer than the venues' receive window, after which a delayed request is refused).
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max

from arbitrage.models import FINAL_ORDER_STATES, Order, OrderAction, OrderState
from arbitrage.services import clock
from arbitrage.services.budget import Slot, budget_reserve
from arbitrage.services.orders import LegResult, order_query
from arbitrage.services.parallel import Outcome, submit
from arbitrage.services.plan import Leg, Plan, cfg, client_order_id
from exchanges.base import Order as VenueOrder
from exchanges.base import OrderStatus, plain_decimal
from exchanges.errors import ExchangeError
from exchanges.limits import RequestKind

_REMOTE_STATE = {
    OrderStatus.FILLED: OrderState.FILLED,
    OrderStatus.PARTIALLY_FILLED: OrderState.PARTIALLY_FILLED,
    OrderStatus.REJECTED: OrderState.REJECTED,
}


def order_create(plan: Plan, leg: Leg, *, action: str, quantity: Decimal, reduce_only: bool) -> Order:
    """A new order slot with a fresh client id, stored before anything is sent (one owner at a time)."""
    for _ in range(3):
        last = Order.objects.filter(execution_id=plan.pk, role=leg.role, action=action).aggregate(n=Max("attempt"))
        attempt = (last["n"] or 0) + 1
        try:
            with transaction.atomic():
                return Order.objects.create(
                    execution_id=plan.pk,
                    role=leg.role,
                    action=action,
                    attempt=attempt,
                    venue=leg.account.exchange,
                    account=leg.account,
                    symbol=plan.execution.symbol,
                    side=(leg.side.opposite if reduce_only else leg.side).value,
                    quantity=quantity,
                    reduce_only=reduce_only,
                    created_at=clock.now(),
                    client_order_id=client_order_id(
                        execution_id=plan.pk, role=leg.role, action=action, attempt=attempt
                    ),
                )
        except IntegrityError:  # a previous owner's last order, written as we took over: take the next attempt
            continue
    raise RuntimeError(f"could not allocate an order slot for execution {plan.pk}")


def _stamp(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def _save(order: Order, fields: dict) -> None:
    Order.objects.filter(pk=order.pk).update(**fields)
    for name, value in fields.items():
        setattr(order, name, value)


def order_record_result(plan: Plan, order: Order, result: LegResult, *, step: str) -> Order:
    """Store what a request came to and put it on the timeline."""
    fields: dict = {"sent_at": _stamp(result.sent_at) if result.left else None}
    if result.acked_at is not None:
        fields["acked_at"] = _stamp(result.acked_at)
    if result.placed:
        fields["status"] = OrderState.ACKED
        fields["exchange_order_id"] = result.ack.exchange_order_id if result.ack else ""
    elif result.placed is False:
        fields["status"] = OrderState.REJECTED if result.left else OrderState.NOT_PLACED
        fields["error"] = result.error
    else:
        fields["status"] = OrderState.SENT
        fields["error"] = result.error
    _save(order, fields)
    latency = (result.acked_at - result.sent_at) if result.acked_at else None
    outcome = {True: "ok", False: "failed", None: "unknown"}[result.placed]
    detail = f"{order.side} {plain_decimal(order.quantity)} {order.symbol} id {order.client_order_id}"
    if latency is not None:
        detail += f", acknowledged in {latency * 1000:.0f} ms"
    if result.error:
        detail += f": {result.error}"
    plan.record(
        step=f"{order.role}_{step}",
        outcome=outcome,
        venue=order.venue,
        duration=latency,
        detail=detail,
        at=_stamp(result.sent_at),
    )
    return order


def order_record_remote(order: Order, remote: VenueOrder) -> None:
    """The venue's own record of the order: status, fill, price, fee."""
    if remote.status is OrderStatus.CANCELLED:
        state = OrderState.PARTIALLY_FILLED if remote.filled_quantity > 0 else OrderState.NOT_PLACED
    else:
        state = _REMOTE_STATE.get(remote.status, OrderState.ACKED)
    _save(
        order,
        {
            "status": state,
            "exchange_order_id": remote.exchange_order_id,
            "filled_quantity": remote.filled_quantity,
            "avg_price": remote.avg_price,
            "fee": remote.fee,
            "fill_confirmed": state in FINAL_ORDER_STATES,
        },
    )


def order_record_inferred_fill(order: Order, filled: Decimal) -> None:
    """An order whose own record lags: what its leg's position shows it filled. Price and fee stay unknown
    (``fill_confirmed`` False) until a lookup finds the venue's record."""
    if order.fill_confirmed or filled == order.filled_quantity:
        return
    _save(
        order,
        {
            "filled_quantity": filled,
            "status": OrderState.FILLED if filled >= order.quantity else OrderState.PARTIALLY_FILLED,
        },
    )


def order_sent_by(plan: Plan, order: Order) -> datetime:
    """When the request left, or at the latest could have left (a crash may have kept it from being recorded)."""
    if order.sent_at is not None:
        return order.sent_at
    if order.action == OrderAction.OPEN:
        return max(order.created_at, datetime.fromtimestamp(plan.local(plan.trigger_at), tz=UTC))
    return order.created_at


def order_settled(plan: Plan, order: Order, *, now: datetime) -> bool:
    """Nothing more can come of this order: its leg's position shows all it did (see the module docstring)."""
    if order.status in FINAL_ORDER_STATES:
        return True
    if order.status == OrderState.ACKED and order.acked_at is not None:
        return now >= order.acked_at + timedelta(seconds=cfg("ORDER_SETTLE"))
    return now >= order_sent_by(plan, order) + timedelta(seconds=cfg("UNKNOWN_ORDER_GRACE"))


def order_lookups_start(plan: Plan, orders: list[Order]) -> dict[int, tuple[Order, Future]]:
    """Start looking up, for the record, orders whose venue record we lack (paced within the account budgets),
    without waiting: each future yields an ``Outcome`` for ``order_lookup_apply``."""
    if not orders:
        return {}
    slots = budget_reserve([(plan.account_of(o), RequestKind.ORDER_QUERY) for o in orders])

    def lookup(order: Order, slot: Slot) -> VenueOrder | None:
        slot.wait()
        return order_query(
            plan.client(plan.account_of(order)),
            symbol=order.symbol,
            client_order_id=order.client_order_id,
            exchange_order_id=order.exchange_order_id,
        )

    return {o.pk: (o, submit(lambda o=o, s=s: lookup(o, s))) for o, s in zip(orders, slots, strict=True)}


def order_lookup_apply(plan: Plan, order: Order, outcome: Outcome) -> bool:
    """Store what a lookup found. True when the venue says it has no such order although its grace has passed."""
    if outcome.error is not None:
        reason = str(outcome.error) if isinstance(outcome.error, ExchangeError) else type(outcome.error).__name__
        plan.record(step="order_lookup", outcome="failed", venue=order.venue, detail=reason)
        return False
    if outcome.value is not None:
        order_record_remote(order, outcome.value)
        return False
    return order_settled(plan, order, now=clock.now())


def orders_refresh(plan: Plan, orders: list[Order]) -> set[int]:
    """Look up the given orders and wait for the answers. Returns the ids of those the venue says it does not have
    although their grace has passed."""
    started = order_lookups_start(plan, orders)
    return {pk for pk, (order, future) in started.items() if order_lookup_apply(plan, order, future.result())}


def order_unconfirmed(order: Order) -> bool:
    """The venue has not yet given us its own record of an order that may exist."""
    return not order.fill_confirmed and order.status not in (OrderState.REJECTED, OrderState.NOT_PLACED)

"""One funding instant of one subscription: preflight, leverage sync, open, hold, close.

Read top to bottom, this is the money path. Every status change is a compare-and-set in the database
(``execution_transition``), so a duplicate, late or concurrent task finds the row already moved and does nothing.
The timing (when each stage runs) belongs to ``services.driver``; this module decides what each stage does.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from arbitrage.models import (
    Direction,
    ExchangeAccount,
    Execution,
    ExecutionStatus,
    Installation,
    KillSwitch,
    LegRole,
    Order,
    OrderAction,
    OrderState,
    Subscription,
    SubscriptionStatus,
)
from arbitrage.services import clock
from arbitrage.services.clients import client_for_account
from arbitrage.services.events import event_record
from arbitrage.services.leverage import leverage_sync_accounts
from arbitrage.services.notifications import notify_owner
from arbitrage.services.orders import LegRequest, LegResult, leg_place, order_fill, position_size
from arbitrage.services.parallel import run_parallel
from arbitrage.services.venue_targets import accounts_target_problem
from exchanges.base import (
    ExchangeClient,
    FundingInfo,
    PositionMode,
    PositionSide,
    Side,
    SymbolRules,
    Venue,
    plain_decimal,
    round_down,
)

logger = logging.getLogger(__name__)
S = ExecutionStatus
FLATTEN_ATTEMPTS = 3


def cfg(name: str):
    return settings.FUNDARB_EXECUTOR[name]


# --- State transitions -------------------------------------------------------------------------------------------


def execution_transition(
    execution_id: int, *, source: S | tuple[S, ...], target: S, deadline: datetime | None = None, **fields
) -> bool:
    """Compare-and-set: move to ``target`` only from ``source``. True if this caller made the move."""
    sources = (source,) if isinstance(source, str) else source
    now = clock.now()
    values = {"status": target, "status_changed_at": now, **fields}
    if deadline is not None:
        values["deadline_at"] = deadline
    moved = Execution.objects.filter(pk=execution_id, status__in=sources).update(**values)
    if moved:
        event_record(execution_id=execution_id, step=f"status_{target}", outcome="ok", at=now)
    return bool(moved)


def subscription_fail(subscription: Subscription, message: str, *, execution: Execution | None = None) -> None:
    """The subscription stops (ERROR) with a message a trader understands, and its owner is told."""
    Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.ERROR, last_error=message)
    notify_owner(subscription=subscription, message=message, execution=execution)


def subscription_after_instant(subscription: Subscription, *, outcome: S) -> None:
    """A one-off subscription is done after its single attempt (completed or skipped)."""
    if subscription.recurring or outcome not in (S.COMPLETED, S.SKIPPED):
        return
    Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.ACTIVE).update(
        status=SubscriptionStatus.COMPLETED
    )


# --- The plan: what one driver knows about one execution between stages -----------------------------------------


def sync_time(*, funding_time: datetime, lead_seconds: int) -> datetime:
    """The leverage sync: SYNC_BEFORE ahead of T, and always at least SYNC_MIN_GAP before the trigger."""
    return min(
        funding_time - timedelta(seconds=cfg("SYNC_BEFORE")),
        funding_time - timedelta(seconds=lead_seconds + cfg("SYNC_MIN_GAP")),
    )


@dataclass
class Plan:
    execution: Execution
    subscription: Subscription
    primary: ExchangeAccount
    hedge: ExchangeAccount
    modes: dict[int, PositionMode] = field(default_factory=dict)
    primary_offset: float = 0.0  # seconds: venue clock minus local clock
    side: Side | None = None
    quantity: Decimal | None = None
    orders: dict[tuple[str, str, int], Order] = field(default_factory=dict)

    @property
    def pk(self) -> int:
        return self.execution.pk

    @property
    def funding_time(self) -> datetime:
        return self.execution.funding_time

    @property
    def trigger_at(self) -> datetime:
        return self.funding_time - timedelta(seconds=self.execution.lead_seconds)

    @property
    def sync_at(self) -> datetime:
        return sync_time(funding_time=self.funding_time, lead_seconds=self.execution.lead_seconds)

    @property
    def preflight_at(self) -> datetime:
        return self.sync_at - timedelta(seconds=cfg("PREFLIGHT_BEFORE_SYNC"))

    @property
    def close_at(self) -> datetime:
        return self.funding_time + timedelta(seconds=self.execution.close_delay_seconds)

    def local(self, venue_time: datetime) -> float:
        """Local clock reading (epoch seconds) at which the primary venue's clock shows ``venue_time``."""
        return venue_time.timestamp() - self.primary_offset

    def client(self, account: ExchangeAccount) -> ExchangeClient:
        return client_for_account(account)

    def client_of(self, order: Order) -> ExchangeClient:
        return client_for_account(self.account_of(order))

    def account_of(self, order: Order) -> ExchangeAccount:
        return self.primary if order.account_id == self.primary.pk else self.hedge

    def legs(self) -> list[tuple[str, ExchangeAccount, Side]]:
        assert self.side is not None
        return [(LegRole.PRIMARY, self.primary, self.side), (LegRole.HEDGE, self.hedge, self.side.opposite)]

    def record(self, **kwargs) -> None:
        event_record(execution_id=self.pk, **kwargs)


def plan_for(execution: Execution) -> Plan:
    subscription = execution.subscription
    return Plan(
        execution=execution,
        subscription=subscription,
        primary=subscription.primary_account,
        hedge=subscription.hedge_account,
    )


def client_order_id(*, execution_id: int, role: str, action: str, attempt: int) -> str:
    """Deterministic, lowercase, <= 36 chars: install prefix, execution, leg, action, attempt."""
    return f"fa{_order_prefix()}-{_base36(execution_id)}-{role[0]}{action[0]}{attempt}"


@functools.cache
def _order_prefix() -> str:
    return Installation.current().order_prefix


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


def _deadline(at: datetime) -> datetime:
    return at + timedelta(seconds=cfg("RECONCILE_GRACE"))


# --- Failing and skipping ---------------------------------------------------------------------------------------


def execution_fail(plan: Plan, message: str, *, source: tuple[S, ...], stop_subscription: bool = True) -> None:
    """Nothing is open: FAILED with the reason; the subscription stops unless the failure was ours (a late worker)."""
    if not execution_transition(plan.pk, source=source, target=S.FAILED, error=message):
        return
    plan.record(step="failed", outcome="failed", detail=message)
    if stop_subscription:
        subscription_fail(plan.subscription, message, execution=plan.execution)
    else:
        notify_owner(subscription=plan.subscription, message=message, execution=plan.execution)


def execution_skip(plan: Plan, message: str, *, source: tuple[S, ...]) -> None:
    if execution_transition(plan.pk, source=source, target=S.SKIPPED, error=message):
        plan.record(step="skipped", outcome="skipped", detail=message)
        subscription_after_instant(plan.subscription, outcome=S.SKIPPED)


# --- Preflight ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueFacts:
    mode: PositionMode
    rules: SymbolRules
    funding: FundingInfo
    has_position: bool
    available_margin: Decimal


def _venue_facts(plan: Plan) -> tuple[VenueFacts, VenueFacts] | str:
    """Ask both venues everything preflight needs, all at once. Returns the facts or a reason to fail."""
    symbol = plan.execution.symbol
    clients = [plan.client(plan.primary), plan.client(plan.hedge)]
    clock_outcomes = run_parallel(*[(lambda c=c: c.sync_clock()) for c in clients])
    for account, outcome in zip((plan.primary, plan.hedge), clock_outcomes, strict=True):
        if outcome.error:
            return f"{account.venue.label}: {outcome.error}"
        plan.record(
            step="clock_synced",
            outcome="ok",
            venue=account.exchange,
            duration=outcome.duration,
            detail=f"venue clock offset {outcome.value.offset * 1000:+.1f} ms",
        )
    plan.primary_offset = clock_outcomes[0].value.offset

    calls = []
    for client in clients:
        calls += [
            lambda c=client: c.position_mode(symbol),
            lambda c=client: c.symbol_rules(symbol),
            lambda c=client: c.funding_info(symbol),
            lambda c=client: c.positions(symbol),
            lambda c=client: c.balance(),
        ]
    outcomes = run_parallel(*calls)
    facts = []
    for index, account in enumerate((plan.primary, plan.hedge)):
        chunk = outcomes[index * 5 : index * 5 + 5]
        for outcome in chunk:
            if outcome.error:
                return f"{account.venue.label}: {outcome.error}"
        mode, rules, funding, positions, balance = (o.value for o in chunk)
        facts.append(
            VenueFacts(
                mode=mode,
                rules=rules,
                funding=funding,
                has_position=bool(positions),
                available_margin=balance.available_margin,
            )
        )
    plan.record(step="venues_read", outcome="ok", duration=max(o.duration for o in outcomes))
    return facts[0], facts[1]


def _taker_fee(rules: SymbolRules) -> Decimal:
    if rules.taker_fee_rate is not None:
        return rules.taker_fee_rate
    return Decimal(cfg("DEFAULT_TAKER_FEE")[rules.venue.value])


def _primary_side(direction: str, rate: Decimal) -> Side | None:
    if direction == Direction.LONG:
        return Side.BUY
    if direction == Direction.SHORT:
        return Side.SELL
    if rate == 0:
        return None
    # Positive funding: longs pay shorts. Take the receiving side.
    return Side.SELL if rate > 0 else Side.BUY


def _receives(side: Side, rate: Decimal) -> Decimal:
    """Funding received per unit notional by a position opened with ``side`` (negative when paid)."""
    return rate if side is Side.SELL else -rate


def execution_preflight(plan: Plan) -> bool:
    """Check everything before touching leverage. FAILED (subscription ERROR), SKIPPED, or PREFLIGHT."""
    execution, subscription = plan.execution, plan.subscription
    source = (S.PLANNED,)
    # Issue 12: an account the base-URL rules refuse opens nothing new (closing what is open is not blocked).
    refused = accounts_target_problem((plan.primary, plan.hedge))
    if refused:
        execution_fail(plan, refused, source=source)
        return False
    started = clock.clock.time()
    facts = _venue_facts(plan)
    if isinstance(facts, str):
        execution_fail(plan, f"Preflight could not read the venues: {facts}", source=source)
        return False
    primary, hedge = facts
    plan.modes = {plan.primary.pk: primary.mode, plan.hedge.pk: hedge.mode}
    symbol = execution.symbol

    if primary.funding.next_funding_time != execution.funding_time:
        execution_skip(
            plan,
            f"{plan.primary.venue.label} moved the funding instant of {symbol} from "
            f"{execution.funding_time:%H:%M:%S} to {primary.funding.next_funding_time:%H:%M:%S} UTC",
            source=source,
        )
        return False
    for account, venue_facts in ((plan.primary, primary), (plan.hedge, hedge)):
        if not venue_facts.rules.tradable:
            execution_fail(plan, f"{account.venue.label} does not allow trading {symbol} now", source=source)
            return False
        if venue_facts.rules.max_leverage < execution.leverage:
            execution_fail(
                plan,
                f"{account.venue.label} allows at most {venue_facts.rules.max_leverage}x for {symbol}; "
                f"the subscription asks for {execution.leverage}x",
                source=source,
            )
            return False
        if venue_facts.has_position:
            execution_fail(
                plan,
                f"{account.venue.label} account '{account.label}' already has a {symbol} position; fundarb only "
                "opens on a flat account so it never nets against or closes your own trades",
                source=source,
            )
            return False

    step = max(primary.rules.qty_step, hedge.rules.qty_step)
    quantity = round_down(subscription.quantity, step)
    mark = primary.funding.mark_price
    for account, venue_facts in ((plan.primary, primary), (plan.hedge, hedge)):
        rules = venue_facts.rules
        if quantity < rules.min_qty or quantity * mark < rules.min_notional:
            execution_fail(
                plan,
                f"Quantity {subscription.quantity} {symbol} (rounded to {quantity} by the coarser step {step}) is "
                f"below {account.venue.label}'s minimum of {rules.min_qty} or {rules.min_notional} USDT notional",
                source=source,
            )
            return False
        required = quantity * mark / execution.leverage * Decimal(str(cfg("MARGIN_BUFFER")))
        if venue_facts.available_margin < required:
            execution_fail(
                plan,
                f"{account.venue.label} account '{account.label}' has {venue_facts.available_margin:.2f} USDT "
                f"available; {quantity} {symbol} at {execution.leverage}x needs about {required:.2f} USDT",
                source=source,
            )
            return False

    side = _primary_side(subscription.direction, primary.funding.rate)
    if side is None:
        execution_skip(plan, f"{plan.primary.venue.label} funding rate for {symbol} is exactly zero", source=source)
        return False
    # Edge in bps of notional: what the primary leg receives, plus the hedge's own settlement if it falls while
    # the legs are open, minus taker fees to open and close both legs.
    edge = _receives(side, primary.funding.rate)
    open_from, close_by = plan.trigger_at, plan.close_at
    hedge_settles = open_from <= hedge.funding.next_funding_time <= close_by
    if hedge_settles:
        edge += _receives(side.opposite, hedge.funding.rate)
    fees = 2 * (_taker_fee(primary.rules) + _taker_fee(hedge.rules))
    edge_bps = ((edge - fees) * Decimal(10000)).quantize(Decimal("0.0001"))
    numbers = (
        f"{plan.primary.venue.label} rate {primary.funding.rate:+.6%}, {plan.hedge.venue.label} rate "
        f"{hedge.funding.rate:+.6%}{' (settles while open)' if hedge_settles else ''}, fees {fees * 10000:.2f} bps: "
        f"edge {edge_bps:+.2f} bps vs minimum {subscription.min_edge_bps} bps"
    )
    fields = {
        "primary_side": side.value,
        "quantity": quantity,
        "primary_rate": primary.funding.rate,
        "hedge_rate": hedge.funding.rate,
        "mark_price": mark,
        "expected_edge_bps": edge_bps,
        "hedge_settles": hedge_settles,
    }
    if edge_bps < subscription.min_edge_bps:
        Execution.objects.filter(pk=plan.pk).update(**fields)
        execution_skip(plan, f"Edge too small: {numbers}", source=source)
        return False
    if not execution_transition(
        plan.pk, source=source, target=S.PREFLIGHT, deadline=_deadline(plan.trigger_at), **fields
    ):
        return False
    plan.side, plan.quantity = side, quantity
    plan.record(
        step="preflight",
        outcome="ok",
        duration=clock.clock.time() - started,
        detail=f"{side.value} {quantity} {symbol} on {plan.primary.venue.label}, "
        f"hedge on {plan.hedge.venue.label}; {numbers}",
    )
    return True


# --- Leverage sync -----------------------------------------------------------------------------------------------


def execution_sync(plan: Plan) -> bool:
    """Set and verify leverage on both venues in parallel; any failure: no order, FAILED, subscription ERROR."""
    result = leverage_sync_accounts(
        symbol=plan.execution.symbol,
        leverage=plan.execution.leverage,
        accounts=(plan.primary, plan.hedge),
        position_modes=plan.modes,
        record=plan.record,
    )
    if not result.ok:
        execution_fail(
            plan,
            f"Leverage {result.leverage}x could not be set, so no order was sent. {result.reason}",
            source=(S.PREFLIGHT,),
        )
        return False
    with transaction.atomic():
        if not execution_transition(plan.pk, source=S.PREFLIGHT, target=S.SYNCED, deadline=_deadline(plan.trigger_at)):
            return False
        # The open orders' client ids are stored now, before the trigger, so the critical path writes nothing first.
        plan.orders = {}
        for role, account, side in plan.legs():
            order = Order.objects.create(
                execution_id=plan.pk,
                role=role,
                action=OrderAction.OPEN,
                attempt=1,
                venue=account.exchange,
                account=account,
                symbol=plan.execution.symbol,
                side=side.value,
                quantity=plan.quantity,
                client_order_id=client_order_id(execution_id=plan.pk, role=role, action=OrderAction.OPEN, attempt=1),
            )
            plan.orders[(role, OrderAction.OPEN, 1)] = order
    Subscription.objects.filter(pk=plan.subscription.pk).update(leverage_synced_at=clock.now())
    plan.record(step="leverage_synced", outcome="ok", duration=result.elapsed, detail=f"{result.leverage}x on both")
    return True


# --- Open --------------------------------------------------------------------------------------------------------


def executions_claim_open(ids: list[int], *, token: str, deadline: datetime) -> set[int]:
    """The trigger's compare-and-set, for a batch: SYNCED -> OPENING only where the subscription is still active,
    its owner's and the global kill switch are off, and its leverage is the one that was synced."""
    halted_owner = KillSwitch.objects.filter(user_id=OuterRef("subscription__owner_id"), engaged=True)
    halted_all = Installation.objects.filter(trading_halted=True)
    Execution.objects.filter(
        Q(pk__in=ids, driver_token=token, status=S.SYNCED, subscription__status=SubscriptionStatus.ACTIVE)
        & Q(subscription__leverage=F("leverage"))
        & ~Exists(halted_owner)
        & ~Exists(halted_all)
    ).update(status=S.OPENING, status_changed_at=clock.now(), deadline_at=deadline)
    return set(Execution.objects.filter(pk__in=ids, driver_token=token, status=S.OPENING).values_list("pk", flat=True))


def execution_explain_refusal(plan: Plan) -> None:
    """The trigger's compare-and-set refused: say why and end the execution (nothing was sent)."""
    subscription = Subscription.objects.select_related("owner").get(pk=plan.subscription.pk)
    halted_all = Installation.objects.filter(trading_halted=True).exists()
    halted_owner = KillSwitch.objects.filter(user_id=subscription.owner_id, engaged=True).exists()
    if halted_all or halted_owner:
        reason = "Kill switch engaged before the trigger: nothing was opened"
    elif subscription.status != SubscriptionStatus.ACTIVE:
        reason = f"Subscription {subscription.get_status_display().lower()} before the trigger: nothing was opened"
    elif subscription.leverage != plan.execution.leverage:
        execution_fail(
            plan,
            f"Leverage changed from {plan.execution.leverage}x to {subscription.leverage}x after the sync: nothing "
            "was opened; the next instant syncs the new value",
            source=(S.SYNCED,),
            stop_subscription=False,
        )
        return
    else:
        return  # another worker moved it: it is theirs
    _cancel_pending_orders(plan)
    execution_skip(plan, reason, source=(S.SYNCED,))


def _cancel_pending_orders(plan: Plan) -> None:
    Order.objects.filter(execution_id=plan.pk, status=OrderState.PENDING).update(
        status=OrderState.NOT_PLACED, error="never sent"
    )


def open_requests(plan: Plan) -> list[tuple[Order, LegRequest]]:
    """The two open legs, ready to send (built before the trigger instant)."""
    if not plan.orders:
        plan.orders = {
            (o.role, o.action, o.attempt): o
            for o in Order.objects.filter(execution_id=plan.pk, action=OrderAction.OPEN, attempt=1)
        }
    requests = []
    for role, account, side in plan.legs():
        order = plan.orders[(role, OrderAction.OPEN, 1)]
        requests.append((order, _leg_request(plan, account, order, side, reduce_only=False)))
    return requests


def _leg_request(plan: Plan, account: ExchangeAccount, order: Order, side: Side, *, reduce_only: bool) -> LegRequest:
    return LegRequest(
        venue=account.venue,
        account_id=account.pk,
        client=plan.client(account),
        symbol=plan.execution.symbol,
        side=side,
        quantity=order.quantity,
        client_order_id=order.client_order_id,
        position_mode=plan.modes.get(account.pk) or plan.client(account).position_mode(plan.execution.symbol),
        reduce_only=reduce_only,
    )


def _order_record(plan: Plan, order: Order, result: LegResult, *, step: str) -> Order:
    """Store what a leg's request came to and put it on the timeline."""
    fields: dict = {"sent_at": datetime.fromtimestamp(result.sent_at, tz=UTC)}
    if result.acked_at is not None:
        fields["acked_at"] = datetime.fromtimestamp(result.acked_at, tz=UTC)
    if result.placed:
        fields["status"] = OrderState.ACKED
        fields["exchange_order_id"] = (
            result.ack.exchange_order_id if result.ack else result.order.exchange_order_id if result.order else ""
        )
    elif result.placed is False:
        fields["status"] = OrderState.NOT_PLACED if not result.already_flat else OrderState.REJECTED
        fields["error"] = result.error
    else:
        fields["status"] = OrderState.SENT
        fields["error"] = result.error
    if result.order is not None:
        fields.update(order_fill_fields(result.order))
    Order.objects.filter(pk=order.pk).update(**fields)
    for name, value in fields.items():
        setattr(order, name, value)
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
        at=fields["sent_at"],
    )
    return order


def order_fill_fields(remote) -> dict:
    status = {
        "filled": OrderState.FILLED,
        "partially_filled": OrderState.PARTIALLY_FILLED,
        "cancelled": OrderState.PARTIALLY_FILLED if remote.filled_quantity > 0 else OrderState.NOT_PLACED,
        "rejected": OrderState.REJECTED,
    }.get(remote.status.value, OrderState.ACKED)
    return {
        "status": status,
        "exchange_order_id": remote.exchange_order_id,
        "filled_quantity": remote.filled_quantity,
        "avg_price": remote.avg_price,
        "fee": remote.fee,
    }


def _fills_read(plan: Plan, orders: list[Order]) -> None:
    """Read fills of acknowledged orders (in parallel) and store them."""
    pending = [o for o in orders if o.status == OrderState.ACKED]
    outcomes = run_parallel(
        *[
            (lambda o=o: order_fill(plan.client_of(o), symbol=o.symbol, client_order_id=o.client_order_id))
            for o in pending
        ]
    )
    for order, outcome in zip(pending, outcomes, strict=True):
        if outcome.ok and outcome.value is not None:
            fields = order_fill_fields(outcome.value)
            Order.objects.filter(pk=order.pk).update(**fields)
            for name, value in fields.items():
                setattr(order, name, value)


def execution_open_settle(plan: Plan, results: list[tuple[Order, LegResult]]) -> None:
    """Both open legs came back: OPEN when both filled, else unwind what did fill (never leave a naked leg)."""
    orders = [_order_record(plan, order, result, step="open_sent") for order, result in results]
    _fills_read(plan, orders)
    primary, hedge = orders
    if any(result.placed is None for _, result in results):
        message = (
            "An open order's outcome is still unknown after every lookup; the reconciler will read the positions "
            "and close whatever is open"
        )
        if execution_transition(plan.pk, source=S.OPENING, target=S.RECONCILING, deadline=clock.now(), error=message):
            notify_owner(subscription=plan.subscription, message=message, execution=plan.execution)
        return
    filled = {o.role: o.filled_quantity for o in orders}
    if filled[LegRole.PRIMARY] == filled[LegRole.HEDGE] == plan.quantity:
        _mark_open(plan)
        return
    reasons = "; ".join(f"{o.role} leg on {Venue(o.venue).label}: {o.error}" for o in orders if o.error)
    if filled[LegRole.PRIMARY] == 0 and filled[LegRole.HEDGE] == 0:
        execution_fail(plan, f"Neither leg was opened. {reasons}".strip(), source=(S.OPENING,))
        return
    smaller = min(filled.values())
    if smaller > 0:
        # Both opened, unequally (a partial fill): trim the larger leg so the hedge is exact, and carry on.
        for order in orders:
            excess = order.filled_quantity - smaller
            if excess > 0:
                positions_flatten(plan, legs=[(order, excess)], action=OrderAction.UNWIND)
        Execution.objects.filter(pk=plan.pk).update(quantity=smaller)
        plan.quantity = smaller
        plan.record(step="legs_balanced", outcome="ok", detail=f"partial fill: both legs now hold {smaller}")
        _mark_open(plan)
        return
    message = f"One leg failed, so the other was closed at once (unwound). {reasons}".strip()
    if not execution_transition(plan.pk, source=S.OPENING, target=S.UNWINDING, deadline=_deadline(clock.now())):
        return
    if positions_flatten(plan, legs=[(o, o.filled_quantity) for o in orders], action=OrderAction.UNWIND):
        execution_transition(plan.pk, source=S.UNWINDING, target=S.UNWOUND, error=message, closed_at=clock.now())
        subscription_fail(plan.subscription, message, execution=plan.execution)
    else:
        _left_open(plan, source=S.UNWINDING)


def _mark_open(plan: Plan) -> None:
    execution_transition(
        plan.pk, source=S.OPENING, target=S.OPEN, deadline=_deadline(plan.close_at), opened_at=clock.now()
    )


def _left_open(plan: Plan, *, source: S) -> None:
    message = "A position could not be closed after several attempts; the reconciler keeps trying. Check the venue."
    Execution.objects.filter(pk=plan.pk, status=source).update(error=message, deadline_at=clock.now())
    plan.record(step="flatten", outcome="failed", detail=message)
    subscription_fail(plan.subscription, message, execution=plan.execution)


# --- Close and unwind --------------------------------------------------------------------------------------------


def positions_flatten(plan: Plan, *, legs: list[tuple[Order, Decimal]], action: str) -> bool:
    """Close the given quantities of the positions the given orders opened: reduce-only, in parallel, then confirm
    flat from the positions themselves.

    Each attempt gets new client ids, stored before sending. A reduce-only rejection ("already flat") is settled
    by the position read that follows.
    """
    remaining = {order.role: (order, quantity) for order, quantity in legs if quantity > 0}
    for _ in range(FLATTEN_ATTEMPTS):
        if not remaining:
            return True
        batch = [
            (_close_order_create(plan, opened, quantity, action), opened) for opened, quantity in remaining.values()
        ]
        requests = [
            _leg_request(plan, plan.account_of(order), order, Side(order.side), reduce_only=True) for order, _ in batch
        ]
        outcomes = run_parallel(*[(lambda r=request: leg_place(r)) for request in requests])
        sent = [
            _order_record(
                plan, order, outcome.value or LegResult(placed=None, error=str(outcome.error)), step=f"{action}_sent"
            )
            for (order, _), outcome in zip(batch, outcomes, strict=True)
        ]
        _fills_read(plan, sent)
        reads = run_parallel(*[(lambda o=opened: open_position_size(plan, o)) for _, opened in batch])
        still = {}
        for (order, opened), read in zip(batch, reads, strict=True):
            if read.error:
                still[opened.role] = (opened, order.quantity)
                plan.record(step="position_read", outcome="failed", venue=opened.venue, detail=str(read.error))
            elif read.value > 0:
                still[opened.role] = (opened, min(read.value, order.quantity))
            else:
                plan.record(step=f"{opened.role}_flat", outcome="ok", venue=opened.venue, duration=read.duration)
        remaining = still
    return not remaining


def open_position_size(plan: Plan, opened: Order) -> Decimal:
    side = PositionSide.opened_by(Side(opened.side))
    return position_size(plan.client_of(opened), symbol=opened.symbol, side=side)


def _close_order_create(plan: Plan, opened: Order, quantity: Decimal, action: str) -> Order:
    attempt = Order.objects.filter(execution_id=plan.pk, role=opened.role, action=action).count() + 1
    return Order.objects.create(
        execution_id=plan.pk,
        role=opened.role,
        action=action,
        attempt=attempt,
        venue=opened.venue,
        account_id=opened.account_id,
        symbol=opened.symbol,
        side=Side(opened.side).opposite.value,
        quantity=quantity,
        reduce_only=True,
        client_order_id=client_order_id(execution_id=plan.pk, role=opened.role, action=action, attempt=attempt),
    )


def execution_close(plan: Plan) -> None:
    """At T + close delay: close both legs in parallel and confirm both flat."""
    if not execution_transition(plan.pk, source=S.OPEN, target=S.CLOSING, deadline=_deadline(clock.now())):
        return
    quantity = Execution.objects.values_list("quantity", flat=True).get(pk=plan.pk)
    opens = list(Order.objects.filter(execution_id=plan.pk, action=OrderAction.OPEN, attempt=1).order_by("role"))
    if positions_flatten(plan, legs=[(o, quantity) for o in opens], action=OrderAction.CLOSE):
        execution_transition(plan.pk, source=S.CLOSING, target=S.COMPLETED, closed_at=clock.now())
        subscription_after_instant(plan.subscription, outcome=S.COMPLETED)
    else:
        _left_open(plan, source=S.CLOSING)


def execution_missed(plan: Plan, why: str) -> None:
    """The worker got to this execution too late to act safely: nothing was sent; try again next instant."""
    _cancel_pending_orders(plan)
    execution_fail(plan, why, source=(S.PLANNED, S.PREFLIGHT, S.SYNCED, S.OPENING), stop_subscription=False)


__all__ = [
    "Plan",
    "client_order_id",
    "execution_close",
    "execution_explain_refusal",
    "execution_fail",
    "execution_missed",
    "execution_open_settle",
    "execution_preflight",
    "execution_sync",
    "execution_transition",
    "executions_claim_open",
    "open_position_size",
    "open_requests",
    "order_fill_fields",
    "plan_for",
    "positions_flatten",
    "subscription_after_instant",
    "subscription_fail",
]

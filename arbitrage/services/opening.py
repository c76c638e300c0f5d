"""From the leverage sync to an open, hedged pair: sync, the trigger's compare-and-set, both legs, the settle.

After both open orders have answered, what each leg holds is read from the venues' positions, never decided from
the orders' answers: a hedged pair is OPEN; unequal fills are trimmed to the smaller; a leg whose open the venue
refused for a moment is sent again while the open cutoff allows; otherwise whatever filled is unwound. Nothing is
FAILED or UNWOUND until both venues read flat, and an outcome that stays unknown goes to the reconciler.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from arbitrage.models import (
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
from arbitrage.services.converge import (
    ConvergeResult,
    LegState,
    Verdict,
    leg_refused_everything,
    legs_converge,
    legs_read,
)
from arbitrage.services.leverage import leverage_sync_accounts
from arbitrage.services.orders import LegRequest, LegResult
from arbitrage.services.plan import Plan, cfg, client_order_id, deadline_after
from arbitrage.services.records import order_record_result
from arbitrage.services.transitions import (
    execution_fail,
    execution_reconcile_later,
    execution_skip,
    execution_transition,
    subscription_fail,
)
from exchanges.base import Venue, plain_decimal

REFUSED = (OrderState.REJECTED, OrderState.NOT_PLACED)

S = ExecutionStatus


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
        if not execution_transition(
            plan.pk, source=S.PREFLIGHT, target=S.SYNCED, deadline=deadline_after(plan.trigger_at)
        ):
            return False
        # The open orders' client ids are stored now, before the trigger, so the critical path writes nothing first.
        plan.orders = {}
        for leg in plan.legs():
            order = Order.objects.create(
                execution_id=plan.pk,
                role=leg.role,
                action=OrderAction.OPEN,
                attempt=1,
                venue=leg.account.exchange,
                account=leg.account,
                symbol=plan.execution.symbol,
                side=leg.side.value,
                quantity=plan.quantity,
                created_at=clock.now(),
                client_order_id=client_order_id(
                    execution_id=plan.pk, role=leg.role, action=OrderAction.OPEN, attempt=1
                ),
            )
            plan.orders[(leg.role, OrderAction.OPEN, 1)] = order
    Subscription.objects.filter(pk=plan.subscription.pk).update(leverage_synced_at=clock.now())
    plan.record(step="leverage_synced", outcome="ok", duration=result.elapsed, detail=f"{result.leverage}x on both")
    return True


# --- The trigger ---------------------------------------------------------------------------------------------


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
    execution_skip(plan, reason, source=(S.SYNCED,))


def open_requests(plan: Plan) -> list[tuple[Order, LegRequest]]:
    """The two open legs, ready to send (built before the trigger instant)."""
    if not plan.orders:
        plan.orders = {
            (o.role, o.action, o.attempt): o
            for o in Order.objects.filter(execution_id=plan.pk, action=OrderAction.OPEN, attempt=1)
        }
    requests = []
    for leg in plan.legs():
        order = plan.orders[(leg.role, OrderAction.OPEN, 1)]
        request = LegRequest(
            venue=leg.account.venue,
            account_id=leg.account.pk,
            client=plan.client(leg.account),
            symbol=plan.execution.symbol,
            side=leg.side,
            quantity=order.quantity,
            client_order_id=order.client_order_id,
            position_mode=plan.mode_of(leg.account),
        )
        requests.append((order, request))
    return requests


# --- The settle: decided from the positions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    targets: dict[str, Decimal]
    grow: bool = False  # a refused leg is sent again to match its partner

    @property
    def hedged(self) -> bool:
        return all(target > 0 for target in self.targets.values())


def _reasons(orders: list[Order]) -> str:
    return "; ".join(f"{o.role} leg on {Venue(o.venue).label}: {o.error}" for o in orders if o.error)


def _decide(plan: Plan, states: dict[str, LegState], results: dict[str, LegResult], *, looked_long: bool):
    """The targets, once both legs are known: read (or refused outright), and settled, full, or looked at long
    enough. An unreadable leg that holds nothing of ours still lets its partner be unwound at once; it is only
    called flat once its venue reads flat."""
    sizes = {}
    for role, state in states.items():
        if state.size is None or state.error:
            if not (leg_refused_everything(plan, role) or _refused_with_the_key(plan, state)):
                return None
            sizes[role] = Decimal(0)
            continue
        if not (state.settled or state.size == state.leg.cap or looked_long):
            return None
        sizes[role] = state.size
    if all(size > 0 for size in sizes.values()):
        return Decision(targets={role: min(sizes.values()) for role in sizes})
    empty = [role for role, size in sizes.items() if size == 0]
    if all(_worth_sending_again(plan, role, results.get(role)) for role in empty):
        # Refused for a moment (a rate limit, a clock hiccup, a connection that never opened): send the empty legs
        # again while the open cutoff allows, to what the other leg holds (or the full quantity).
        filled = [size for size in sizes.values() if size > 0]
        target = filled[0] if filled else states[empty[0]].leg.cap
        return Decision(targets={role: target for role in sizes}, grow=True)
    return Decision(targets={role: Decimal(0) for role in sizes})


def _refused_with_the_key(plan: Plan, state: LegState) -> bool:
    """The venue refuses this account's key on the reads right after an open whose answer we never got: a venue
    checks the signature before anything else, so the open, signed with the same key moments earlier, was refused
    too (only a key changed in the instant between the two could have let it through). Its partner is unwound at
    once instead of being held naked while the key is fixed. The order stays unknown: it is still looked up, and
    the leg's position is read once the key works, before anything is called final. A leg the venue acknowledged
    any order on is never presumed refused."""
    if state.presumed_refused:
        return True
    if state.locked_out_reads < 2:
        return False
    statuses = set(Order.objects.filter(execution_id=plan.pk, role=state.role).values_list("status", flat=True))
    unknown = {OrderState.PENDING, OrderState.SENT}
    if not statuses & unknown or not statuses <= unknown | set(REFUSED):
        return False
    state.presumed_refused = True
    plan.record(
        step=f"{state.role}_key_refused",
        outcome="failed",
        venue=state.leg.account.exchange,
        detail=f"{state.leg.account.venue.label} refuses this account's key on every read since the open "
        f"({state.error}): the open, signed with it, cannot have been accepted; its partner is unwound",
    )
    return True


def _worth_sending_again(plan: Plan, role: str, result: LegResult | None) -> bool:
    if result is None or not result.transient_refusal:
        return False
    sent = Order.objects.filter(execution_id=plan.pk, role=role, action=OrderAction.OPEN).count()
    return sent <= cfg("OPEN_RETRIES")


def execution_open_settle(plan: Plan, results: list[tuple[Order, LegResult]]) -> bool:
    """Both open legs came back: decide from the positions (see the module docstring). True when OPEN."""
    orders = [order_record_result(plan, order, result, step="open_sent") for order, result in results]
    by_role = {order.role: result for order, result in results}
    if not any(result.left for _, result in results):
        execution_fail(plan, f"Neither open order reached its venue. {_reasons(orders)}".strip(), source=(S.OPENING,))
        return False
    states = {leg.role: LegState(leg=leg) for leg in plan.legs()}
    first_look_until = clock.clock.time() + cfg("OPEN_SETTLE_WAIT")
    give_up = clock.clock.time() + cfg("CONVERGE_BUDGET")
    while True:
        legs_read(plan, states)
        conflict = "; ".join(s.conflict for s in states.values() if s.conflict)
        if conflict:
            return _conflict(plan, conflict, source=S.OPENING)
        decision = _decide(plan, states, by_role, looked_long=clock.clock.time() >= first_look_until)
        if decision is not None:
            break
        if clock.clock.time() >= give_up:
            unread = "; ".join(f"{s.leg.label}: {s.error}" for s in states.values() if s.error)
            execution_reconcile_later(
                plan,
                "The legs could not be read back after the open"
                + (f" ({unread})" if unread else "")
                + "; the reconciler keeps reading the positions and closes whatever is open",
                source=S.OPENING,
            )
            return False
        time.sleep(cfg("CONVERGE_PAUSE"))
    return _settle_towards(plan, decision, states, orders)


def _settle_towards(plan: Plan, decision: Decision, states: dict[str, LegState], orders: list[Order]) -> bool:
    remaining = cfg("CONVERGE_BUDGET")
    if decision.grow:
        plan.record(
            step="open_retry",
            outcome="info",
            detail=f"a leg's open was refused for a moment: sending it again to hold "
            f"{plain_decimal(next(iter(decision.targets.values())))} on both",
        )
        outcome = legs_converge(
            plan, targets=decision.targets, action=OrderAction.UNWIND, seconds=remaining, states=states, may_grow=True
        )
        if outcome.verdict is Verdict.CONVERGED:
            return _mark_open(plan, decision.targets, trimmed=False)
        if outcome.verdict in (Verdict.LOST, Verdict.CONFLICT):
            return settle_failed(plan, outcome, source=S.OPENING)
        decision = Decision(targets={role: Decimal(0) for role in decision.targets})
    if decision.hedged:
        trimmed = any(state.size != decision.targets[role] for role, state in states.items())
        outcome = legs_converge(
            plan, targets=decision.targets, action=OrderAction.UNWIND, seconds=remaining, states=states
        )
        if outcome.verdict is Verdict.CONVERGED:
            return _mark_open(plan, decision.targets, trimmed=trimmed)
        return settle_failed(plan, outcome, source=S.OPENING)
    return _unwind(plan, states, orders)


def _mark_open(plan: Plan, targets: dict[str, Decimal], *, trimmed: bool) -> bool:
    quantity = targets[LegRole.PRIMARY]
    if trimmed:
        plan.record(step="legs_balanced", outcome="ok", detail=f"partial fill: both legs now hold {quantity}")
    moved = execution_transition(
        plan.pk,
        source=S.OPENING,
        target=S.OPEN,
        token=plan.token,
        deadline=deadline_after(plan.close_at),
        opened_at=clock.now(),
        quantity=quantity,
    )
    plan.quantity = quantity
    return moved


def _unwind(plan: Plan, states: dict[str, LegState], orders: list[Order]) -> bool:
    """Close whatever filled (both targets 0) and end FAILED or UNWOUND once both venues read flat."""
    if not execution_transition(plan.pk, source=S.OPENING, target=S.UNWINDING, token=plan.token):
        return False
    zero = {role: Decimal(0) for role in states}
    outcome = legs_converge(
        plan, targets=zero, action=OrderAction.UNWIND, seconds=cfg("CONVERGE_BUDGET"), states=states
    )
    if outcome.verdict is not Verdict.CONVERGED:
        return settle_failed(plan, outcome, source=S.UNWINDING)
    reasons = _reasons(list(Order.objects.filter(pk__in=[o.pk for o in orders])))
    if all(state.seen == 0 for state in states.values()):
        message = f"Neither leg was opened; both venues read flat. {reasons}".strip()
        target = S.FAILED
    else:
        message = f"One leg failed, so the other was closed at once (unwound). {reasons}".strip()
        target = S.UNWOUND
    if execution_transition(
        plan.pk, source=S.UNWINDING, target=target, token=plan.token, error=message, closed_at=clock.now()
    ):
        plan.record(step=target, outcome="failed", detail=message)
        subscription_fail(plan.subscription, message, execution=plan.execution)
    return False


def _conflict(plan: Plan, conflict: str, *, source: S) -> bool:
    execution_reconcile_later(
        plan,
        f"{conflict}. fundarb never trades a position it did not open: close or reduce it yourself; the reconciler "
        "then finishes this execution",
        source=source,
        stop=True,
    )
    return False


def settle_failed(plan: Plan, outcome: ConvergeResult, *, source: S) -> bool:
    """A converge that did not finish: the reconciler carries on (or someone else already owns the row)."""
    if outcome.verdict is Verdict.LOST:
        return False
    if outcome.verdict is Verdict.CONFLICT:
        return _conflict(plan, outcome.message, source=source)
    execution_reconcile_later(
        plan,
        f"The legs are not settled yet ({outcome.message}); the reconciler keeps converging them from the venues' "
        "positions",
        source=source,
    )
    return False

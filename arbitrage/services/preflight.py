"""Preflight: everything about both venues is checked before leverage is touched or any order is sent.

Outcomes: FAILED (the subscription stops with the reason), SKIPPED (this instant only, with the numbers), or
PREFLIGHT (the side and quantity are decided and stored).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q

from arbitrage.models import Direction, Execution, ExecutionStatus
from arbitrage.services import clock
from arbitrage.services.budget import budget_reserve
from arbitrage.services.parallel import run_parallel
from arbitrage.services.plan import Plan, cfg, deadline_after
from arbitrage.services.transitions import execution_fail, execution_skip, execution_transition
from arbitrage.services.venue_targets import accounts_target_problem
from exchanges.base import FundingInfo, PositionMode, Side, SymbolRules, common_step, round_down
from exchanges.limits import RequestKind

S = ExecutionStatus
# Marks further apart than this are not one market right now: skip the instant.
MARK_SPREAD_LIMIT = Decimal("0.02")
# Marks this many times apart are not one contract at all (a 1000x multiplier on one venue): stop the subscription.
MARK_RATIO_GROSS = Decimal("2")
# A venue clock measured this recently (by any account at the same host) is not measured again.
CLOCK_MAX_AGE = 30.0


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
    # One measurement per venue host serves every account there (an instant's preflights come by the hundred).
    clock_outcomes = run_parallel(*[(lambda c=c: c.sync_clock(max_age=CLOCK_MAX_AGE)) for c in clients])
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

    position_slots = budget_reserve([(plan.primary, RequestKind.POSITIONS), (plan.hedge, RequestKind.POSITIONS)])

    def positions_in_budget(client, slot):
        slot.wait()
        return client.positions(symbol)

    calls = []
    for client, slot in zip(clients, position_slots, strict=True):
        calls += [
            lambda c=client: c.position_mode(symbol),
            lambda c=client: c.symbol_rules(symbol),
            lambda c=client: c.funding_info(symbol),
            lambda c=client, s=slot: positions_in_budget(c, s),
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


def _marks_agree(plan: Plan, primary: FundingInfo, hedge: FundingInfo) -> bool:
    """Both venues must price one contract: a gross difference stops the subscription, a wide one skips."""
    low, high = sorted((primary.mark_price, hedge.mark_price))
    names = (
        f"{plan.primary.venue.label} marks {plan.execution.symbol} at {primary.mark_price}, "
        f"{plan.hedge.venue.label} at {hedge.mark_price}"
    )
    if low <= 0 or high / low >= MARK_RATIO_GROSS:
        execution_fail(
            plan,
            f"{names}: these are not the same contract (a different size or multiplier on one venue); fundarb will "
            "not pair them",
            source=(S.PLANNED,),
        )
        return False
    if (high - low) / low > MARK_SPREAD_LIMIT:
        execution_skip(
            plan,
            f"{names}: {(high - low) / low:.2%} apart, more than {MARK_SPREAD_LIMIT:.0%}; the hedge would not hold",
            source=(S.PLANNED,),
        )
        return False
    return True


def _still_settling(plan: Plan) -> Execution | None:
    """An earlier execution on either account that sent orders and has not finished: its legs may still be open."""
    accounts = [plan.primary.pk, plan.hedge.pk]
    busy = (S.OPENING, S.OPEN, S.CLOSING, S.UNWINDING, S.RECONCILING)
    on_accounts = Q(subscription__primary_account_id__in=accounts) | Q(subscription__hedge_account_id__in=accounts)
    return Execution.objects.filter(on_accounts, status__in=busy).exclude(pk=plan.pk).order_by("pk").first()


def execution_preflight(plan: Plan) -> bool:
    """Check everything before touching leverage. FAILED (subscription ERROR), SKIPPED, or PREFLIGHT."""
    execution, subscription = plan.execution, plan.subscription
    source = (S.PLANNED,)
    # An account the base-URL rules refuse opens nothing new (closing what is open is not blocked).
    refused = accounts_target_problem((plan.primary, plan.hedge))
    if refused:
        execution_fail(plan, refused, source=source)
        return False
    started = clock.clock.time()
    earlier = _still_settling(plan)
    if earlier is not None:
        execution_skip(
            plan,
            f"Execution #{earlier.pk} on these accounts is still {earlier.get_status_display().lower()}: its legs "
            "may still be open, so nothing new opens until it finishes",
            source=source,
        )
        return False
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

    if not _marks_agree(plan, primary.funding, hedge.funding):
        return False

    step = common_step(primary.rules.qty_step, hedge.rules.qty_step)
    quantity = round_down(subscription.quantity, step)
    mark = primary.funding.mark_price
    for account, venue_facts in ((plan.primary, primary), (plan.hedge, hedge)):
        rules = venue_facts.rules
        if quantity < rules.min_qty or quantity * mark < rules.min_notional:
            execution_fail(
                plan,
                f"Quantity {subscription.quantity} {symbol} (rounded down to {quantity}, a multiple of both venues' "
                f"steps) is below {account.venue.label}'s minimum of {rules.min_qty} or {rules.min_notional} USDT "
                "notional",
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
    # Edge in bps of notional: what the primary leg receives, minus taker fees to open and close both legs. The
    # hedge venue's own settlement counts when it may fall while the legs are open (the close can wait for the
    # ledgers up to the proof's bound) and would charge the hedge; a payment it would receive is left out, as
    # whether a venue counts a position opened shortly before is uncertain (BingX).
    edge = _receives(side, primary.funding.rate)
    hedge_settles = plan.trigger_at <= hedge.funding.next_funding_time <= plan.proof_bound_at
    hedge_amount = _receives(side.opposite, hedge.funding.rate)
    hedge_charges = hedge_settles and hedge_amount < 0
    if hedge_charges:
        edge += hedge_amount
    fees = 2 * (_taker_fee(primary.rules) + _taker_fee(hedge.rules))
    edge_bps = ((edge - fees) * Decimal(10000)).quantize(Decimal("0.0001"))
    if hedge_charges:
        hedge_note = " (settles while open: the hedge pays, counted)"
    elif hedge_settles:
        hedge_note = " (settles while open: the hedge would receive, not counted)"
    else:
        hedge_note = ""
    numbers = (
        f"{plan.primary.venue.label} rate {primary.funding.rate:+.6%}, {plan.hedge.venue.label} rate "
        f"{hedge.funding.rate:+.6%}{hedge_note}, fees {fees * 10000:.2f} bps: "
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
        plan.pk, source=source, target=S.PREFLIGHT, deadline=deadline_after(plan.trigger_at), **fields
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

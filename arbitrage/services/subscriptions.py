"""Subscriptions: create, change, pause, resume, delete; the kill switches.

Validation names the field and the limit, against each venue's live limits for the symbol. An account takes part
in at most one active subscription per symbol, in either role (one-way positions would net): checked under a lock
on both account rows, so two concurrent creations cannot both pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from arbitrage.models import (
    MAX_CLOSE_DELAY_SECONDS,
    MAX_LEAD_SECONDS,
    TERMINAL_STATUSES,
    AuditAction,
    Direction,
    ExchangeAccount,
    Installation,
    KillSwitch,
    Subscription,
    SubscriptionStatus,
)
from arbitrage.services import clock
from arbitrage.services.audit import Actor, audit_record
from arbitrage.services.budget import WINDOW_SECONDS, request_limit
from arbitrage.services.market import LimitsUnavailable, symbol_limits
from arbitrage.services.timing import LEAD_MARGIN_SECONDS, pair_timing
from arbitrage.services.venue_targets import account_target_problem, accounts_target_problem
from exchanges.base import common_step, round_down
from exchanges.limits import RequestKind
from exchanges.symbols import InvalidSymbol, canonical

# Plain ASCII decimal notation: Python's Decimal also reads "1_0" (so a stray underscore would mean 10x), other
# scripts' digits, NaN and infinity, none of which a trader means. Forms and commands accept exactly this too.
NUMBER_NOTATION = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
MAX_SYMBOL_LENGTH = 30
MAX_QUANTITY = Decimal("1e9")
MAX_EDGE_BPS = Decimal("10000")


@dataclass(frozen=True)
class SubscriptionInput:
    symbol: str
    primary_account: ExchangeAccount
    hedge_account: ExchangeAccount
    quantity: Decimal
    leverage: int = 3
    direction: str = Direction.AUTO
    min_edge_bps: Decimal = Decimal("0")
    lead_seconds: int | None = None  # None: the pair's default (see services/timing.py)
    close_delay_seconds: int | None = None
    recurring: bool = True


def _whole(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValidationError({name: f"Enter a whole number from {low} to {high}."})
    if isinstance(value, str) and not NUMBER_NOTATION.fullmatch(value.strip()):
        raise ValidationError({name: f"Enter a whole number from {low} to {high}."})
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({name: f"Enter a whole number from {low} to {high}."}) from None
    if not number.is_finite() or number != number.to_integral_value() or not low <= number <= high:
        raise ValidationError({name: f"Enter a whole number from {low} to {high}."})
    return int(number)


def _or(value, default):
    return default if value is None or (isinstance(value, str) and not value.strip()) else value


def _decimal(name: str, value, *, low: Decimal, high: Decimal, low_inclusive: bool) -> Decimal:
    if not isinstance(value, Decimal) and not NUMBER_NOTATION.fullmatch(str(value).strip()):
        raise ValidationError({name: "Enter a number."})
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({name: "Enter a number."}) from None
    if not number.is_finite():  # NaN cannot even be compared
        raise ValidationError({name: f"Enter a finite number from {low} to {high}."})
    above_low = number >= low if low_inclusive else number > low
    if not above_low or number > high:
        bound = f"at least {low}" if low_inclusive else f"above {low}"
        raise ValidationError({name: f"Enter a number {bound} and at most {high}."})
    return number


def lead_needed(*, accounts: tuple[ExchangeAccount, ExchangeAccount], exclude_pk: int | None = None) -> Decimal:
    """The least lead at which every open of these accounts can leave before the open cutoff.

    Each account sends one open per subscription at an instant (counted over all its active subscriptions, since
    symbols share instants), paced at its venue's order limit.
    """
    cutoff = Decimal(str(pair_timing(primary=accounts[0], hedge=accounts[1]).open_cutoff))
    pacing = Decimal(0)
    for account in accounts:
        others = Subscription.objects.filter(
            Q(primary_account=account) | Q(hedge_account=account), status=SubscriptionStatus.ACTIVE
        )
        if exclude_pk is not None:
            others = others.exclude(pk=exclude_pk)
        orders = others.count() + 1
        rate = request_limit(account.venue, RequestKind.ORDER)
        pacing = max(pacing, Decimal(orders - 1) / Decimal(rate) * Decimal(str(WINDOW_SECONDS)))
    return cutoff + pacing + LEAD_MARGIN_SECONDS


def _check_timing(
    *, lead: int, hold: int, accounts: tuple[ExchangeAccount, ExchangeAccount], exclude_pk: int | None
) -> None:
    """The venues' settlement rules first (a lead or hold below them earns nothing), then the pacing."""
    timing = pair_timing(primary=accounts[0], hedge=accounts[1])
    if lead < timing.min_lead:
        raise ValidationError({"lead_seconds": timing.lead_refusal(lead)})
    if hold < timing.min_hold:
        raise ValidationError({"close_delay_seconds": timing.hold_refusal(hold)})
    needed = lead_needed(accounts=accounts, exclude_pk=exclude_pk)
    if lead < needed:
        least = int(needed.to_integral_value(rounding=ROUND_CEILING))
        cutoff = Decimal(str(timing.open_cutoff))
        raise ValidationError(
            {"lead_seconds": f"Open at least {least} s before the funding instant: no open leaves later than "
             f"{cutoff} s before it (the open cutoff), these accounts' opens at one instant take "
             f"{needed - cutoff - LEAD_MARGIN_SECONDS:.1f} s to pace within the venues' order limits, and "
             f"{LEAD_MARGIN_SECONDS} s is kept for sending; you asked for {lead} s."}
        )  # fmt: skip


def subscription_clean(
    *, owner, data: SubscriptionInput, check_live_limits: bool = True, exclude_pk: int | None = None
) -> SubscriptionInput:
    """Validate everything a subscription needs; raises ValidationError naming the field and the limit."""
    symbol = (data.symbol or "").strip().upper() if isinstance(data.symbol, str) else ""
    try:
        if len(symbol) > MAX_SYMBOL_LENGTH:
            raise InvalidSymbol(f"at most {MAX_SYMBOL_LENGTH} characters")
        symbol = canonical(symbol)
    except InvalidSymbol as exc:
        raise ValidationError({"symbol": f"Not a USDT perpetual symbol like BTCUSDT ({exc})."}) from None
    primary, hedge = data.primary_account, data.hedge_account
    for name, account in (("primary_account", primary), ("hedge_account", hedge)):
        if account is None or account.owner_id != owner.pk:
            raise ValidationError({name: "Choose one of your exchange accounts."})
        problem = account_target_problem(account)
        if problem:
            raise ValidationError({name: problem})
    if primary.pk == hedge.pk:
        raise ValidationError({"hedge_account": "The hedge account must differ from the primary account."})
    if primary.exchange == hedge.exchange:
        raise ValidationError({"hedge_account": "The hedge must be on the other exchange than the primary."})
    quantity = _decimal("quantity", data.quantity, low=Decimal(0), high=MAX_QUANTITY, low_inclusive=False)
    leverage = _whole("leverage", data.leverage, 1, 200)
    timing = pair_timing(primary=primary, hedge=hedge)
    paced = lead_needed(accounts=(primary, hedge), exclude_pk=exclude_pk).to_integral_value(rounding=ROUND_CEILING)
    lead = _whole("lead_seconds", _or(data.lead_seconds, max(timing.min_lead, int(paced))), 1, MAX_LEAD_SECONDS)
    close_delay = _whole(
        "close_delay_seconds", _or(data.close_delay_seconds, timing.min_hold), 1, MAX_CLOSE_DELAY_SECONDS
    )
    min_edge = _decimal("min_edge_bps", data.min_edge_bps, low=-MAX_EDGE_BPS, high=MAX_EDGE_BPS, low_inclusive=True)
    if data.direction not in Direction.values:
        raise ValidationError({"direction": f"Choose one of: {', '.join(Direction.values)}."})
    _check_timing(lead=lead, hold=close_delay, accounts=(primary, hedge), exclude_pk=exclude_pk)
    if check_live_limits:
        try:
            limits = symbol_limits(accounts=[primary, hedge], symbol=symbol)
        except LimitsUnavailable as exc:
            raise ValidationError({"symbol": str(exc)}) from None
        for account, venue_limits in zip((primary, hedge), limits, strict=True):
            rules = venue_limits.rules
            if leverage > rules.max_leverage:
                raise ValidationError(
                    {"leverage": f"{account.venue.label} allows at most {rules.max_leverage}x for {symbol}; "
                     f"you asked for {leverage}x."}
                )  # fmt: skip
        step = common_step(*(v.rules.qty_step for v in limits))
        rounded = round_down(quantity, step)
        for account, venue_limits in zip((primary, hedge), limits, strict=True):
            rules, mark = venue_limits.rules, venue_limits.mark_price
            if rounded < rules.min_qty:
                raise ValidationError(
                    {"quantity": f"{account.venue.label} needs at least {rules.min_qty} {symbol} per order "
                     f"({quantity} rounds down to {rounded}, a multiple of both venues' steps, {step})."}
                )  # fmt: skip
            if rounded * mark < rules.min_notional:
                raise ValidationError(
                    {"quantity": f"{account.venue.label} needs at least {rules.min_notional} USDT per order; "
                     f"{rounded} {symbol} is about {rounded * mark:.2f} USDT."}
                )  # fmt: skip
    return SubscriptionInput(
        symbol=symbol,
        primary_account=primary,
        hedge_account=hedge,
        quantity=quantity,
        leverage=leverage,
        direction=data.direction,
        min_edge_bps=min_edge,
        lead_seconds=lead,
        close_delay_seconds=close_delay,
        recurring=bool(data.recurring),
    )


def _lock_accounts_and_check_free(*, symbol: str, accounts: list[ExchangeAccount], exclude_pk: int | None) -> None:
    """Precondition: inside a transaction. Locks the account rows, then checks no other active subscription of the
    symbol uses either account in either role."""
    list(ExchangeAccount.objects.select_for_update().filter(pk__in=[a.pk for a in accounts]).order_by("pk"))
    ids = [a.pk for a in accounts]
    clash = Subscription.objects.filter(
        Q(primary_account_id__in=ids) | Q(hedge_account_id__in=ids),
        symbol=symbol,
        status=SubscriptionStatus.ACTIVE,
    )
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    other = clash.first()
    if other is not None:
        raise ValidationError(
            {"symbol": f"Subscription #{other.pk} already trades {symbol} on one of these accounts; positions in "
             "one-way mode would net. Pause it first."}
        )  # fmt: skip


def subscription_create(*, owner, data: SubscriptionInput, check_live_limits: bool = True) -> Subscription:
    clean = subscription_clean(owner=owner, data=data, check_live_limits=check_live_limits)
    with transaction.atomic():
        _lock_accounts_and_check_free(
            symbol=clean.symbol, accounts=[clean.primary_account, clean.hedge_account], exclude_pk=None
        )
        return Subscription.objects.create(owner=owner, status=SubscriptionStatus.ACTIVE, **clean.__dict__)


def subscription_update(*, subscription: Subscription, data: SubscriptionInput) -> Subscription:
    clean = subscription_clean(owner=subscription.owner, data=data, exclude_pk=subscription.pk)
    with transaction.atomic():
        if subscription.status == SubscriptionStatus.ACTIVE:
            _lock_accounts_and_check_free(
                symbol=clean.symbol, accounts=[clean.primary_account, clean.hedge_account], exclude_pk=subscription.pk
            )
        for name, value in clean.__dict__.items():
            setattr(subscription, name, value)
        subscription.save()
    return subscription


def subscription_pause(*, subscription: Subscription, actor: Actor | None = None) -> None:
    """Effective before the next trigger: the trigger's compare-and-set re-checks the status."""
    with transaction.atomic():
        Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.PAUSED)
        audit_record(actor=actor, action=AuditAction.SUBSCRIPTION_PAUSED, obj=subscription)
    subscription.status = SubscriptionStatus.PAUSED


def subscription_resume(*, subscription: Subscription, actor: Actor | None = None) -> None:
    problem = accounts_target_problem((subscription.primary_account, subscription.hedge_account))
    if problem:
        raise ValidationError(problem)
    timing = pair_timing(primary=subscription.primary_account, hedge=subscription.hedge_account)
    if subscription.lead_seconds < timing.min_lead:
        raise ValidationError(f"{timing.lead_refusal(subscription.lead_seconds)} Edit the subscription first.")
    if subscription.close_delay_seconds < timing.min_hold:
        raise ValidationError(f"{timing.hold_refusal(subscription.close_delay_seconds)} Edit the subscription first.")
    with transaction.atomic():
        _lock_accounts_and_check_free(
            symbol=subscription.symbol,
            accounts=[subscription.primary_account, subscription.hedge_account],
            exclude_pk=subscription.pk,
        )
        Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.ACTIVE, last_error="")
        audit_record(actor=actor, action=AuditAction.SUBSCRIPTION_RESUMED, obj=subscription)
    subscription.status, subscription.last_error = SubscriptionStatus.ACTIVE, ""


def subscription_delete(*, subscription: Subscription) -> None:
    in_flight = subscription.executions.exclude(status__in=TERMINAL_STATUSES)
    if in_flight.exists():
        raise ValidationError(
            "This subscription has an execution in progress; pause it and delete it after the execution ends."
        )
    subscription.delete()


def kill_switch_set(*, user, engaged: bool, actor: Actor | None = None) -> None:
    """'Pause everything' for one user: no trigger fires while it is engaged."""
    with transaction.atomic():
        switch, _ = KillSwitch.objects.update_or_create(user=user, defaults={"engaged": engaged})
        action = AuditAction.KILL_SWITCH_ENGAGED if engaged else AuditAction.KILL_SWITCH_RELEASED
        audit_record(actor=actor, action=action, obj=switch, owner=user)


def trading_halt_set(*, engaged: bool, actor: Actor | None = None) -> None:
    """The kill switch for every user (staff with change_installation; the caller checks)."""
    installation = Installation.current()
    with transaction.atomic():
        Installation.objects.filter(pk=installation.pk).update(
            trading_halted=engaged, trading_halted_changed_at=clock.now()
        )
        action = AuditAction.HALT_ENGAGED if engaged else AuditAction.HALT_RELEASED
        audit_record(actor=actor, action=action, obj=installation)

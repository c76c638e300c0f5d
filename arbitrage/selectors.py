"""Reads for pages, admin and commands. ``*_for_user`` accessors are the only way edges fetch an object by id:
each checks ownership, so no view or command can forget it (a foreign id raises ``DoesNotExist``: a 404)."""

from __future__ import annotations

from arbitrage.models import ExchangeAccount, Execution, Subscription


def account_for_user(*, user, pk) -> ExchangeAccount:
    return ExchangeAccount.objects.get(pk=pk, owner=user)


def subscription_for_user(*, user, pk) -> Subscription:
    return Subscription.objects.select_related("primary_account", "hedge_account", "owner").get(pk=pk, owner=user)


def execution_for_user(*, user, pk) -> Execution:
    return Execution.objects.select_related(
        "subscription__primary_account", "subscription__hedge_account", "subscription__owner"
    ).get(pk=pk, subscription__owner=user)


# --- Reads for the web pages (appended for issue 6). Each answers in a constant number of queries. ---------------

from dataclasses import dataclass  # noqa: E402
from datetime import datetime  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.db.models import QuerySet, Sum  # noqa: E402

from arbitrage.models import (  # noqa: E402
    TERMINAL_STATUSES,
    ExecutionEvent,
    FundingPayment,
    Installation,
    KillSwitch,
    MarketSnapshot,
    Notice,
    Order,
)
from exchanges.base import Venue  # noqa: E402
from exchanges.settlement import settlement_policy  # noqa: E402


def accounts_of_user(*, user) -> QuerySet[ExchangeAccount]:
    return ExchangeAccount.objects.filter(owner=user).order_by("exchange", "label")


def subscriptions_of_user(*, user) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(owner=user)
        .select_related("primary_account", "hedge_account")
        .order_by("symbol", "pk")
    )


def executions_of_user(*, user) -> QuerySet[Execution]:
    return Execution.objects.filter(subscription__owner=user).select_related("subscription")


def executions_upcoming_for_user(*, user, limit: int = 10) -> list[Execution]:
    """Executions not yet finished, soonest instant first: the plans a trader wants to see before T."""
    return list(
        executions_of_user(user=user).exclude(status__in=TERMINAL_STATUSES).order_by("funding_time", "pk")[:limit]
    )


def notice_for_user(*, user, pk) -> Notice:
    return Notice.objects.get(pk=pk, user=user)


def notices_open_for_user(*, user, limit: int = 20) -> list[Notice]:
    return list(Notice.objects.filter(user=user, dismissed=False).order_by("-created_at", "-pk")[:limit])


@dataclass(frozen=True)
class KillSwitchState:
    user_engaged: bool
    all_halted: bool

    @property
    def engaged(self) -> bool:
        return self.user_engaged or self.all_halted


def kill_switch_state(*, user) -> KillSwitchState:
    user_engaged = KillSwitch.objects.filter(user=user, engaged=True).exists()
    all_halted = Installation.objects.filter(trading_halted=True).exists()
    return KillSwitchState(user_engaged=user_engaged, all_halted=all_halted)


def snapshots_for_symbols(*, symbols) -> dict[tuple[str, str], MarketSnapshot]:
    """(venue, symbol) -> snapshot for the given symbols, in one query."""
    rows = MarketSnapshot.objects.filter(symbol__in=set(symbols))
    return {(row.venue, row.symbol): row for row in rows}


def snapshots_by_symbol() -> dict[str, dict[str, MarketSnapshot]]:
    """symbol -> {venue: snapshot} for every stored snapshot, in one query."""
    found: dict[str, dict[str, MarketSnapshot]] = {}
    for row in MarketSnapshot.objects.order_by("symbol", "venue"):
        found.setdefault(row.symbol, {})[row.venue] = row
    return found


def execution_timeline(*, execution: Execution) -> list[ExecutionEvent]:
    return list(execution.events.order_by("at", "pk"))


def execution_orders(*, execution: Execution) -> list[Order]:
    return list(execution.orders.select_related("account").order_by("role", "pk"))


@dataclass(frozen=True)
class PaymentLine:
    payment: FundingPayment
    source: str  # where the owner finds it on the venue


def execution_payments(*, execution: Execution) -> list[PaymentLine]:
    """The funding payments the venues' ledgers showed, with where each venue keeps them."""
    return [
        PaymentLine(payment=row, source=f"{Venue(row.venue).label}: {settlement_policy(Venue(row.venue)).proof}")
        for row in execution.payments.order_by("paid_at", "pk")
    ]


@dataclass(frozen=True)
class PnlPoint:
    at: datetime
    funding: Decimal
    fees: Decimal
    price: Decimal

    @property
    def net(self) -> Decimal:
        return self.funding + self.fees + self.price


PNL_CHART_POINTS = 500


def pnl_cumulative_for_user(*, user, limit: int = PNL_CHART_POINTS) -> list[PnlPoint]:
    """Cumulative funding, fees and price P&L per execution, oldest first: the last ``limit`` executions with any
    P&L, starting from the sum of everything older (two queries however long the history)."""
    with_pnl = (
        Execution.objects.filter(subscription__owner=user)
        .exclude(pnl_funding=None, pnl_fees=None, pnl_price=None)
        .order_by("-funding_time", "-pk")
    )
    recent = list(with_pnl.values_list("pk", "funding_time", "pnl_funding", "pnl_fees", "pnl_price")[:limit])
    recent.reverse()
    funding = fees = price = Decimal(0)
    if len(recent) == limit:
        older = with_pnl.filter(funding_time__lt=recent[0][1]).aggregate(
            funding=Sum("pnl_funding"), fees=Sum("pnl_fees"), price=Sum("pnl_price")
        )
        funding, fees, price = (older[k] or Decimal(0) for k in ("funding", "fees", "price"))
    points = []
    for _, at, f, c, p in recent:
        funding += f or 0
        fees += c or 0
        price += p or 0
        points.append(PnlPoint(at=at, funding=funding, fees=fees, price=price))
    return points


# --- The audit trail (issue 12) -----------------------------------------------------------------------------------

from arbitrage.models import AuditEvent  # noqa: E402


def audit_events_for_owner(*, user) -> QuerySet[AuditEvent]:
    """What happened to the user's objects and on their username, newest first: their Activity page."""
    return AuditEvent.objects.filter(owner=user).order_by("-at", "-pk")

"""Reads for pages, admin and commands. ``*_for_user`` accessors are the only way edges fetch an object by id:
each checks ownership, so no view or command can forget it (a foreign id raises ``DoesNotExist``: a 404)."""

from __future__ import annotations

from arbitrage.models import ExchangeAccount, Execution, Subscription

# An account's API key and secret, encrypted at rest and decrypted as each row loads. Reads that only show an
# account (pages listing subscriptions, an execution's legs) leave them unread: no secret in memory for nothing, and
# no decryption per row (two per account per subscription row was most of the dashboard's database time).
SECRET_FIELDS = ("api_key", "api_secret")


def _without_secrets(*paths: str) -> list[str]:
    return [f"{path}__{name}" for path in paths for name in SECRET_FIELDS]


def account_for_user(*, user, pk) -> ExchangeAccount:
    return ExchangeAccount.objects.get(pk=pk, owner=user)


def subscription_for_user(*, user, pk) -> Subscription:
    return Subscription.objects.select_related("primary_account", "hedge_account", "owner").get(pk=pk, owner=user)


def execution_for_user(*, user, pk) -> Execution:
    return (
        Execution.objects.select_related(
            "subscription__primary_account", "subscription__hedge_account", "subscription__owner"
        )
        .defer(*_without_secrets("subscription__primary_account", "subscription__hedge_account"))
        .get(pk=pk, owner=user)
    )


# --- Reads for the web pages (appended for issue 6). Each answers in a constant number of queries. ---------------

from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import CharField, Exists, OuterRef, QuerySet, Subquery, Sum  # noqa: E402
from django.db.models.functions import Cast  # noqa: E402

from arbitrage.models import (  # noqa: E402
    IN_FLIGHT_STATUSES,
    TERMINAL_STATUSES,
    ExecutionEvent,
    FundingPayment,
    Installation,
    KillSwitch,
    MarketSnapshot,
    Notice,
    Order,
    PnlTotal,
)
from exchanges.base import Venue  # noqa: E402
from exchanges.settlement import settlement_policy  # noqa: E402


def accounts_of_user(*, user) -> QuerySet[ExchangeAccount]:
    return ExchangeAccount.objects.filter(owner=user).order_by("exchange", "label")


def subscriptions_of_user(*, user) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(owner=user)
        .select_related("primary_account", "hedge_account")
        .defer(*_without_secrets("primary_account", "hedge_account"))
        .order_by("symbol", "pk")
    )


def subscriptions_overview_of_user(*, user) -> QuerySet[Subscription]:
    """The user's subscriptions with what the dashboard's table shows of them and of their accounts."""
    return (
        Subscription.objects.filter(owner=user)
        .select_related("primary_account", "hedge_account")
        .only("symbol", "status", "quantity", "leverage", "primary_account__exchange", "hedge_account__exchange")
        .order_by("symbol", "pk")
    )


def subscription_choices_of_user(*, user) -> QuerySet[Subscription]:
    """The user's subscriptions as a filter's choices: the id and symbol it shows, no accounts."""
    return Subscription.objects.filter(owner=user).only("pk", "symbol").order_by("symbol", "pk")


def executions_of_user(*, user) -> QuerySet[Execution]:
    """The user's executions; ordered newest first (``Execution.Meta.ordering``), the ``execution_owner_newest``
    index serves a page of them without reading the rest."""
    return Execution.objects.filter(owner=user)


# What a row of executions shows (the list, the dashboard's next and recent executions). Loading only these skips
# the converting of a dozen timestamps and amounts per row that no table displays.
EXECUTION_ROW_FIELDS = (
    "funding_time",
    "symbol",
    "primary_venue",
    "hedge_venue",
    "primary_side",
    "quantity",
    "leverage",
    "status",
    "error",
    "expected_edge_bps",
    "pnl_funding",
    "pnl_fees",
    "pnl_price",
    "pnl_final",
)


def execution_rows_of_user(*, user) -> QuerySet[Execution]:
    """The user's executions with the fields their rows show."""
    return executions_of_user(user=user).only(*EXECUTION_ROW_FIELDS)


def executions_upcoming_for_user(*, user, limit: int = 10) -> list[Execution]:
    """Executions not yet finished, soonest instant first: the plans a trader wants to see before T.

    The few in flight are found first, unordered, in the ``execution_owner_status`` index, and only they are
    sorted. Asked in one piece ("this owner's, not finished, oldest first"), SQLite walks the owner's whole history
    in ``execution_owner_newest`` order to skip the sort, and in flight is a handful out of thousands."""
    in_flight = Execution.objects.filter(owner=user, status__in=IN_FLIGHT_STATUSES).order_by().values("pk")
    return list(
        Execution.objects.filter(pk__in=Subquery(in_flight))
        .only(*EXECUTION_ROW_FIELDS)
        .order_by("funding_time", "pk")[:limit]
    )


def executions_recent_for_user(*, user, limit: int = 10) -> list[Execution]:
    """Finished executions, newest instant first: what just happened."""
    return list(
        execution_rows_of_user(user=user).filter(status__in=TERMINAL_STATUSES).order_by("-funding_time", "-pk")[:limit]
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
    """Both switches in one query (every page's banner reads them), on the user's own row."""
    user_engaged, all_halted = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values_list(
            Exists(KillSwitch.objects.filter(user=OuterRef("pk"), engaged=True)),
            Exists(Installation.objects.filter(trading_halted=True)),
        )
        .get()
    )
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
    return list(execution.orders.select_related("account").defer(*_without_secrets("account")).order_by("role", "pk"))


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


def _amount(text: str | None) -> Decimal:
    return Decimal(0) if text is None else Decimal(text)


def _instant(text: str) -> datetime:
    """A timestamp cast to text: SQLite's stored UTC text, or PostgreSQL's with its ``+00`` (the connection's time
    zone is UTC)."""
    at = datetime.fromisoformat(text)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def pnl_cumulative_for_user(*, user, limit: int = PNL_CHART_POINTS) -> list[PnlPoint]:
    """Cumulative funding, fees and price P&L per execution, oldest first: the last ``limit`` executions with any
    P&L, starting from everything before them. That start is the owner's running total (``PnlTotal``, a few rows
    per day of history) less the executions shown, so no request sums the whole history: two queries, each reading
    a bounded number of rows."""
    # The window comes as text, parsed here with the standard library: for 500 rows, Django's per-value conversion
    # (SQLite's DECIMAL floats to quantized Decimals, its timestamps parsed and made aware) cost more than every
    # other read of the dashboard together.
    columns = [Cast(name, CharField()) for name in ("funding_time", "pnl_funding", "pnl_fees", "pnl_price")]
    recent = [
        (_instant(at), _amount(f), _amount(c), _amount(p))
        for at, f, c, p in executions_of_user(user=user)
        .exclude(pnl_funding=None, pnl_fees=None, pnl_price=None)
        .order_by("-funding_time", "-pk")
        .values_list(*columns)[:limit]
    ]
    recent.reverse()
    funding = fees = price = Decimal(0)
    if len(recent) == limit:
        total = PnlTotal.objects.filter(owner=user).aggregate(
            funding=Sum("funding"), fees=Sum("fees"), price=Sum("price")
        )
        funding = (total["funding"] or 0) - sum((f for _, f, _, _ in recent), Decimal(0))
        fees = (total["fees"] or 0) - sum((c for _, _, c, _ in recent), Decimal(0))
        price = (total["price"] or 0) - sum((p for _, _, _, p in recent), Decimal(0))
    points = []
    for at, f, c, p in recent:
        funding += f
        fees += c
        price += p
        points.append(PnlPoint(at=at, funding=funding, fees=fees, price=price))
    return points


# --- The audit trail (issue 12) -----------------------------------------------------------------------------------

from arbitrage.models import AuditEvent  # noqa: E402


def audit_events_for_owner(*, user) -> QuerySet[AuditEvent]:
    """What happened to the user's objects and on their username, newest first: their Activity page."""
    return AuditEvent.objects.filter(owner=user).order_by("-at", "-pk")

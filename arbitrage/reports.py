"""Plain shapes of fundarb's records and market data, shared by commands, pages and tests.

Every function here is pure (no venue calls; the only database access is the prefetching query of
``executions_query``). JSON conventions, part of the commands' stable interface:

- decimals are strings of plain digits (``"0.0001"``, never ``"1E-4"``), ``null`` when unknown;
- times are ISO-8601 UTC with milliseconds and ``Z``: ``"2026-11-24T08:00:00.000Z"``;
- status names are the lowercase model values (``completed``, ``skipped``, ``failed``, ``unwound``, ...);
- optional text that is blank (an error, an exchange order id, an event's venue or detail) is ``null``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from arbitrage.models import Execution, ExecutionEvent, Order
from arbitrage.services import spreads
from exchanges.base import FundingInfo, PositionMode, Venue, plain_decimal

if TYPE_CHECKING:  # typing only: this module stays free of venue-calling imports
    from arbitrage.services.accounts import AccountCheck
    from arbitrage.services.leverage import LeverageSyncResult


# --- Scalars ------------------------------------------------------------------------------------------------------


def iso_utc(value: datetime | None) -> str | None:
    """``2026-11-24T08:00:00.000Z``: UTC, milliseconds, ``Z``; ``None`` stays ``None``."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal as plain digits without trailing zeros; ``None`` stays ``None``."""
    return None if value is None else plain_decimal(value)


def milliseconds(delta: timedelta) -> Decimal:
    """A duration in exact milliseconds (microsecond precision), negative when before."""
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros) / 1000


def _blank_to_none(value: str) -> str | None:
    return value or None


# --- Executions ---------------------------------------------------------------------------------------------------


def executions_query(
    *, user: Any = None, subscription_id: int | None = None, status: str | None = None, limit: int = 50
) -> QuerySet[Execution]:
    """Newest executions first, with everything ``execution_json`` reads: three queries whatever the count."""
    executions = Execution.objects.select_related("subscription__owner").prefetch_related("orders", "events")
    if user is not None:
        executions = executions.filter(owner=user)
    if subscription_id is not None:
        executions = executions.filter(subscription_id=subscription_id)
    if status is not None:
        executions = executions.filter(status=status)
    return executions.order_by("-funding_time", "-id")[:limit]


def leg_json(order: Order) -> dict[str, Any]:
    return {
        "role": order.role,
        "action": order.action,
        "attempt": order.attempt,
        "venue": order.venue,
        "side": order.side,
        "quantity": decimal_text(order.quantity),
        "client_order_id": order.client_order_id,
        "exchange_order_id": _blank_to_none(order.exchange_order_id),
        "status": order.status,
        "filled_quantity": decimal_text(order.filled_quantity),
        "avg_price": decimal_text(order.avg_price),
        "fee": decimal_text(order.fee),
        "sent_at": iso_utc(order.sent_at),
        "acked_at": iso_utc(order.acked_at),
    }


def event_json(event: ExecutionEvent, funding_time: datetime) -> dict[str, Any]:
    return {
        "at": iso_utc(event.at),
        "offset_ms": decimal_text(milliseconds(event.at - funding_time)),
        "step": event.step,
        "outcome": event.outcome,
        "venue": _blank_to_none(event.venue),
        "duration_ms": decimal_text(event.duration_ms),
        "detail": _blank_to_none(event.detail),
    }


def execution_json(execution: Execution) -> dict[str, Any]:
    """One execution with its legs and timeline. Reads ``orders``/``events`` through the prefetch cache."""
    return {
        "id": execution.pk,
        "subscription": execution.subscription_id,
        "user": execution.subscription.owner.get_username(),
        "symbol": execution.symbol,
        "funding_time": iso_utc(execution.funding_time),
        "status": execution.status,
        "error": _blank_to_none(execution.error),
        "pnl": {
            "funding": decimal_text(execution.pnl_funding),
            "fees": decimal_text(execution.pnl_fees),
            "price": decimal_text(execution.pnl_price),
            "net": decimal_text(execution.pnl_net),
            "final": execution.pnl_final,
        },
        "legs": [leg_json(order) for order in execution.orders.all()],
        "events": [event_json(event, execution.funding_time) for event in execution.events.all()],
    }


EXECUTION_COLUMNS = ("ID", "FUNDING TIME (UTC)", "SYMBOL", "SUB", "USER", "STATUS", "NET PNL", "LEGS", "ERROR")
ERROR_WIDTH = 60


def execution_row(execution: Execution) -> tuple[str, ...]:
    net = execution.pnl_net
    error = " ".join(execution.error.split())  # one line per execution, whatever the venue said
    if len(error) > ERROR_WIDTH:
        error = error[: ERROR_WIDTH - 1] + "…"
    return (
        str(execution.pk),
        f"{execution.funding_time.astimezone(UTC):%Y-%m-%d %H:%M:%S}",
        execution.symbol,
        str(execution.subscription_id),
        execution.subscription.owner.get_username(),
        execution.status,
        "-" if net is None else f"{net:+.4f}" + ("" if execution.pnl_final else " (provisional)"),
        str(len(execution.orders.all())),
        error,
    )


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    lines = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


# --- Funding rates ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundingRow:
    """One symbol listed on both venues. The spread is primary-agnostic: Bybit minus BingX, per 8 hours."""

    symbol: str
    bybit: FundingInfo
    bingx: FundingInfo

    @property
    def spread_8h(self) -> Decimal:
        return rate_per_8h(self.bybit) - rate_per_8h(self.bingx)

    @property
    def annualized(self) -> Decimal:
        return spreads.annualised(self.spread_8h)


def rate_per_8h(info: FundingInfo) -> Decimal:
    return spreads.rate_per_8h(rate=info.rate, interval_hours=info.interval_hours)


def common_symbols(by_venue: Mapping[Venue, Mapping[str, FundingInfo]]) -> list[str]:
    """Symbols listed on both venues, sorted."""
    return sorted(set(by_venue[Venue.BYBIT]) & set(by_venue[Venue.BINGX]))


def funding_rows(by_venue: Mapping[Venue, Mapping[str, FundingInfo]], symbols: Iterable[str]) -> list[FundingRow]:
    """Rows for ``symbols`` in the order given; each must be listed on both venues (see ``common_symbols``)."""
    return [
        FundingRow(symbol=symbol, bybit=by_venue[Venue.BYBIT][symbol], bingx=by_venue[Venue.BINGX][symbol])
        for symbol in symbols
    ]


def _venue_funding_json(info: FundingInfo) -> dict[str, Any]:
    return {
        "rate": decimal_text(info.rate),
        "next_funding_time": iso_utc(info.next_funding_time),
        "interval_hours": info.interval_hours,
        "mark_price": decimal_text(info.mark_price),
    }


def funding_row_json(row: FundingRow) -> dict[str, Any]:
    return {
        "symbol": row.symbol,
        "bybit": _venue_funding_json(row.bybit),
        "bingx": _venue_funding_json(row.bingx),
        "spread_8h": decimal_text(row.spread_8h),
        "annualized": decimal_text(row.annualized),
    }


FUNDING_COLUMNS = (
    "SYMBOL",
    "BYBIT RATE",
    "EVERY",
    "NEXT (UTC)",
    "BINGX RATE",
    "EVERY",
    "NEXT (UTC)",
    "SPREAD/8H",
    "ANNUALIZED",
)


def _percent(value: Decimal, places: int) -> str:
    return f"{value * 100:+.{places}f}%"


def funding_table_row(row: FundingRow) -> tuple[str, ...]:
    cells = [row.symbol]
    for info in (row.bybit, row.bingx):
        cells += [
            _percent(info.rate, 4),
            f"{info.interval_hours}h",
            f"{info.next_funding_time.astimezone(UTC):%m-%d %H:%M}",
        ]
    return (*cells, _percent(row.spread_8h, 4), _percent(row.annualized, 2))


# --- Account check and leverage sync ------------------------------------------------------------------------------


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def account_check_lines(check: AccountCheck) -> list[str]:
    """An account check as readable lines: the verdict first, then each measurement."""
    lines = [f"result: {'ok' if check.ok else 'FAILED'}"]
    if check.clock is not None:
        lines.append(
            f"clock offset: {check.clock.offset * 1000:+.1f} ms "
            f"(round trip {check.clock.round_trip * 1000:.1f} ms, best of {check.clock.samples})"
        )
    if check.position_mode is not None:
        lines.append(f"position mode: {'hedge' if check.position_mode is PositionMode.HEDGE else 'one-way'}")
    if check.available_margin is not None:
        lines.append(f"available margin: {check.available_margin:.2f}")
    if check.permissions is not None:
        p = check.permissions
        lines.append(
            f"key permissions: read {_yes_no(p.can_read)}, trade perpetuals {_yes_no(p.can_trade_perpetuals)}, "
            f"withdraw {_yes_no(p.can_withdraw)}, transfer {_yes_no(p.can_transfer)}, "
            f"read-only {_yes_no(p.read_only)}, IP restricted {_yes_no(p.ip_restricted)}"
        )
    lines += [f"warning: {warning}" for warning in check.warnings]
    lines.append(f"message: {check.message}")
    return lines


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f} ms"


def leverage_sync_lines(result: LeverageSyncResult) -> list[str]:
    """A leverage sync: one line per venue (in primary, hedge order), then the total time."""
    lines = []
    for venue in result.venues:
        if venue.ok:
            info = venue.confirmed
            if info is None or info.long == info.short:
                shown = f"{venue.requested if info is None else info.long}x"
            else:
                shown = f"{info.long}x long/{info.short}x short"
            outcome = f"ok {shown}"
        else:
            outcome = f"FAILED {' '.join(venue.error.split())}"
        lines.append(
            f"{venue.venue.label}: {outcome} (set {_ms(venue.set_seconds)}, verify {_ms(venue.verify_seconds)})"
        )
    lines.append(f"leverage {result.leverage}x {'synced' if result.ok else 'NOT synced'} in {_ms(result.elapsed)}")
    return lines

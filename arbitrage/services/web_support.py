"""Small services the web pages need: dismissing a notice, and the funding scanner's arithmetic.

The scanner reads only the MarketSnapshot table (refreshed every minute by a periodic task), never a venue, so the
page stays fast however slow a venue is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from arbitrage.models import AuditAction, Exchange, MarketSnapshot, Notice
from arbitrage.selectors import snapshots_by_symbol
from arbitrage.services import spreads
from arbitrage.services.audit import Actor, audit_record


def notice_dismiss(*, notice: Notice, actor: Actor | None = None) -> None:
    with transaction.atomic():
        Notice.objects.filter(pk=notice.pk).update(dismissed=True)
        audit_record(actor=actor, action=AuditAction.NOTICE_DISMISSED, obj=notice)
    notice.dismissed = True


def rate_per_8h(snapshot: MarketSnapshot) -> Decimal:
    return spreads.rate_per_8h(rate=snapshot.funding_rate, interval_hours=snapshot.interval_hours)


@dataclass(frozen=True)
class ScannerRow:
    symbol: str
    bybit: MarketSnapshot
    bingx: MarketSnapshot

    @property
    def bybit_8h(self) -> Decimal:
        return rate_per_8h(self.bybit)

    @property
    def bingx_8h(self) -> Decimal:
        return rate_per_8h(self.bingx)

    @property
    def spread_8h(self) -> Decimal:
        """Bybit minus BingX, per 8 h (positive when Bybit's rate is the higher)."""
        return self.bybit_8h - self.bingx_8h

    @property
    def annualised(self) -> Decimal:
        return abs(spreads.annualised(self.spread_8h))

    @property
    def primary_venue(self) -> str:
        """The venue with the larger absolute rate at its own instant: where the funding is received."""
        return Exchange.BYBIT if abs(self.bybit.funding_rate) >= abs(self.bingx.funding_rate) else Exchange.BINGX


SCANNER_SORTS = {
    "spread": lambda row: abs(row.spread_8h),
    "symbol": lambda row: row.symbol,
    "bybit": lambda row: row.bybit_8h,
    "bingx": lambda row: row.bingx_8h,
    "next": lambda row: min(row.bybit.next_funding_time, row.bingx.next_funding_time),
}


def funding_scanner_rows(*, sort: str = "spread", descending: bool = True) -> list[ScannerRow]:
    """Symbols listed on both venues, sorted (by absolute per-8h spread unless told otherwise)."""
    rows = [
        ScannerRow(symbol=symbol, bybit=venues[Exchange.BYBIT], bingx=venues[Exchange.BINGX])
        for symbol, venues in snapshots_by_symbol().items()
        if Exchange.BYBIT in venues and Exchange.BINGX in venues
    ]
    key = SCANNER_SORTS.get(sort, SCANNER_SORTS["spread"])
    return sorted(rows, key=key, reverse=descending)

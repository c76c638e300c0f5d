"""The funding scanner: every symbol listed on both venues, from the MarketSnapshot table (never a venue)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from arbitrage.services.web_support import SCANNER_SORTS, funding_scanner_rows


def funding_scanner(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "spread")
    if sort not in SCANNER_SORTS:
        sort = "spread"  # an unknown column is ignored, not an error page
    descending = request.GET.get("dir", "desc" if sort != "symbol" else "asc") != "asc"
    rows = funding_scanner_rows(sort=sort, descending=descending)
    refreshed = max((min(r.bybit.refreshed_at, r.bingx.refreshed_at) for r in rows), default=None)
    context = {"nav": "scanner", "rows": rows, "sort": sort, "descending": descending, "refreshed": refreshed}
    return render(request, "arbitrage/funding_scanner.html", context)

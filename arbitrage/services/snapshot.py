"""The market snapshot: every listed symbol's funding and limits on both venues, refreshed every minute.

Pages and the scanner read this table, so they stay fast however slow a venue is.
"""

from __future__ import annotations

import logging

from django.db import transaction

from arbitrage.models import MarketSnapshot
from arbitrage.services import clock
from arbitrage.services.clients import public_client
from arbitrage.services.parallel import run_parallel
from exchanges.base import Venue

logger = logging.getLogger(__name__)


def market_snapshot_refresh() -> int:
    """Read both venues' funding info and symbol rules (all in parallel) and store them. Returns rows written."""
    venues = list(Venue)
    calls = []
    for venue in venues:
        client = public_client(venue)
        calls += [client.all_funding_info, client.all_symbol_rules]
    outcomes = run_parallel(*calls)
    now = clock.now()
    written = 0
    with transaction.atomic():
        for index, venue in enumerate(venues):
            funding, rules = outcomes[2 * index], outcomes[2 * index + 1]
            if funding.error:
                logger.warning("market snapshot: %s funding unavailable: %s", venue.label, funding.error)
                continue
            all_rules = rules.value if rules.ok else {}
            for symbol, info in funding.value.items():
                rule = all_rules.get(symbol)
                MarketSnapshot.objects.update_or_create(
                    venue=venue.value,
                    symbol=symbol,
                    defaults={
                        "funding_rate": info.rate,
                        "next_funding_time": info.next_funding_time,
                        "interval_hours": info.interval_hours,
                        "mark_price": info.mark_price,
                        "max_leverage": rule.max_leverage if rule else None,
                        "qty_step": rule.qty_step if rule else None,
                        "min_qty": rule.min_qty if rule else None,
                        "min_notional": rule.min_notional if rule else None,
                        "refreshed_at": now,
                    },
                )
                written += 1
    return written

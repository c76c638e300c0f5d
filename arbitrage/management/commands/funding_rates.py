"""Both venues' funding rates, read live from their public endpoints, for symbols listed on both.

    manage.py funding_rates [SYMBOL ...] [--json]

``MARKET_DATA_ENVIRONMENT`` picks mainnet or the simulator. The spread is Bybit minus BingX, each rate normalised
to 8 hours; annualized is that times 3 * 365. Without SYMBOL, every symbol listed on both venues (sorted); an
unknown symbol is an error (exit 1). ``--json`` prints the list described in ``arbitrage.reports``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from arbitrage.management.commands._common import OperatorCommand, shown
from arbitrage.reports import FUNDING_COLUMNS, common_symbols, funding_row_json, funding_rows, funding_table_row, table
from arbitrage.services.reports_support import MarketDataUnavailable, funding_info_both
from arbitrage.services.subscriptions import MAX_SYMBOL_LENGTH
from exchanges.base import Venue
from exchanges.symbols import is_canonical


def parse_symbols(texts: list[str]) -> list[str]:
    """Canonical symbols (``btcusdt`` -> ``BTCUSDT``), duplicates dropped, order kept. Checked before any call."""
    symbols: list[str] = []
    for text in texts:
        symbol = text.strip().upper()
        if len(symbol) > MAX_SYMBOL_LENGTH or not is_canonical(symbol):
            raise CommandError(f"SYMBOL: {shown(text)} is not a USDT perpetual symbol like BTCUSDT")
        if symbol not in symbols:
            symbols.append(symbol)
    return symbols


def unlisted_message(missing: dict[str, list[str]]) -> str:
    parts = [f"{symbol} is not listed on {' nor '.join(venues)}" for symbol, venues in missing.items()]
    return "; ".join(parts)


class Command(OperatorCommand):
    help = "Funding rates on Bybit and BingX (live), with the 8-hour spread and its annualized value."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbols", nargs="*", metavar="SYMBOL", help="e.g. BTCUSDT; default: all common symbols")
        parser.add_argument("--json", action="store_true", help="a JSON list instead of a table")

    def handle(self, *args: Any, **options: Any) -> None:
        requested = parse_symbols(options["symbols"])
        try:
            by_venue = funding_info_both()
        except MarketDataUnavailable as exc:
            raise CommandError(" ".join(str(exc).split())) from None
        missing = {
            symbol: [venue.label for venue in Venue if symbol not in by_venue[venue]]
            for symbol in requested
            if any(symbol not in by_venue[venue] for venue in Venue)
        }
        if missing:
            raise CommandError(unlisted_message(missing))
        rows = funding_rows(by_venue, requested or common_symbols(by_venue))
        if options["json"]:
            self.stdout.write(json.dumps([funding_row_json(row) for row in rows], indent=2))
        else:
            self.stdout.write(table(FUNDING_COLUMNS, (funding_table_row(row) for row in rows)))

"""The listed symbols: per-venue trading rules and the seeded starting point of prices and funding rates."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

VENUES = ("bybit", "bingx")
BYBIT_TAKER_FEE = Decimal("0.00055")
BINGX_TAKER_FEE = Decimal("0.0005")
MAKER_FEE = Decimal("0.0002")
# Market orders fill this far beyond the mark, like a thin top of book.
SLIPPAGE = Decimal("0.0002")
# The venues cap funding rates; the random drift stays inside realistic bounds.
RATE_CAP = Decimal("0.001")


@dataclass(frozen=True)
class VenueRules:
    max_leverage: int
    qty_step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    max_market_qty: Decimal
    taker_fee: Decimal


@dataclass(frozen=True)
class MarketSpec:
    """One symbol as both venues list it. ``funding_interval`` (seconds) overrides the simulator-wide one."""

    symbol: str
    base: str
    price: Decimal
    tick: Decimal
    bybit: VenueRules
    bingx: VenueRules
    funding_interval: int | None = None

    def rules(self, venue: str) -> VenueRules:
        return self.bybit if venue == "bybit" else self.bingx

    @property
    def bingx_symbol(self) -> str:
        return f"{self.base}-USDT"


def _bybit(max_leverage: int, step: str, max_qty: str) -> VenueRules:
    return VenueRules(max_leverage, Decimal(step), Decimal(step), Decimal("5"), Decimal(max_qty), BYBIT_TAKER_FEE)


def _bingx(max_leverage: int, step: str, min_notional: str = "2") -> VenueRules:
    return VenueRules(
        max_leverage, Decimal(step), Decimal(step), Decimal(min_notional), Decimal("1000000"), BINGX_TAKER_FEE
    )


DEFAULT_MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec("BTCUSDT", "BTC", Decimal("65000"), Decimal("0.1"), _bybit(100, "0.001", "119"), _bingx(125, "0.0001")),
    MarketSpec("ETHUSDT", "ETH", Decimal("3400"), Decimal("0.01"), _bybit(100, "0.01", "1250"), _bingx(100, "0.01")),
    MarketSpec("SOLUSDT", "SOL", Decimal("150"), Decimal("0.01"), _bybit(75, "0.1", "8000"), _bingx(50, "0.1")),
    MarketSpec("XRPUSDT", "XRP", Decimal("0.6"), Decimal("0.0001"), _bybit(75, "1", "1000000"), _bingx(50, "1")),
    MarketSpec("DOGEUSDT", "DOGE", Decimal("0.15"), Decimal("0.00001"), _bybit(75, "1", "3000000"), _bingx(50, "1")),
)


def interval_hours(interval_seconds: int) -> int:
    """The venues only know whole hours: report the nearest one, at least 1 (a documented demo deviation)."""
    return max(1, round(interval_seconds / 3600))

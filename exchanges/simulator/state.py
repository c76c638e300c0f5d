"""Everything the venues remember: accounts, markets, orders, positions and the funding ledger.

One re-entrant lock guards it all. Hold it only for bookkeeping, never while sleeping or doing network I/O
(latency and timeout faults sleep outside it). With a state file every change that matters is written atomically
(temp file + ``os.replace``) before the lock is released, so a crash never leaves the venue and fundarb's database
disagreeing about an order that was acknowledged.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import threading
import uuid
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

from .clock import VenueClock
from .markets import DEFAULT_MARKETS, RATE_CAP, VENUES, MarketSpec, VenueRules
from .settlement_rules import VenueSettlement, default_rules

DEFAULT_BALANCE = Decimal("10000")
DEFAULT_LEVERAGE = {"bybit": Decimal("10"), "bingx": Decimal("5")}
STATE_VERSION = 1
HISTORY_MS = 15 * 60 * 1000  # position sizes kept this far back: far beyond any venue's counting window
MAX_SETTLEMENTS = 2000  # about a week of 8-hourly instants for five symbols on two venues; many more with the demo's
# BingX order ids are int64 above 2**53; odd values are never exact doubles, so a client parsing them as floats
# visibly corrupts them instead of getting lucky.
BINGX_ORDER_ID_RANGE = (1_800_000_000_000_000_001, 1_999_999_999_999_999_999)


@dataclass
class PositionState:
    """``size`` is signed in one-way mode (slot ``both``) and positive in the hedge slots ``long``/``short``."""

    size: Decimal = Decimal(0)
    entry: Decimal = Decimal(0)
    realised: Decimal = Decimal(0)
    position_id: str = ""
    created_ms: int = 0
    updated_ms: int = 0


@dataclass
class OrderState:
    order_id: str
    client_id: str
    symbol: str
    side: str  # buy | sell
    slot: str  # both | long | short
    qty: Decimal
    filled: Decimal
    avg_price: Decimal
    fee: Decimal
    reduce_only: bool
    status: str  # filled | partially_filled
    realised: Decimal
    created_ms: int
    updated_ms: int
    hidden_until_ms: int = 0
    hidden_calls: int = 0
    unknown_until_ms: int = 0  # a "not found" fault: order queries do not know it until then (venue clock)


@dataclass
class FundingRow:
    row_id: str
    symbol: str
    side: str  # long | short: the position that paid or received
    size: Decimal
    rate: Decimal
    mark: Decimal
    amount: Decimal  # positive = received
    balance_after: Decimal
    time_ms: int


@dataclass
class SettledPosition:
    """One account's open position at a settlement instant. ``size`` is positive; ``side`` long or short."""

    venue: str
    api_key: str
    slot: str  # both | long | short
    side: str
    size: Decimal


@dataclass
class Settlement:
    """Every account's position in ``symbol``, on both venues, at ``venue``'s funding instant ``time_ms``."""

    venue: str
    symbol: str
    time_ms: int
    positions: list[SettledPosition] = field(default_factory=list)  # empty: every account was flat


@dataclass
class Account:
    venue: str
    api_key: str
    api_secret: str
    uid: int
    hedge: bool = False
    balance: Decimal = DEFAULT_BALANCE
    can_trade: bool = True
    can_withdraw: bool = False
    can_transfer: bool = False
    created_ms: int = 0
    # Bybit switches position mode per symbol; BingX per account (this map stays empty there).
    symbol_hedge: dict[str, bool] = field(default_factory=dict)
    leverage: dict[str, list[Decimal]] = field(default_factory=dict)  # symbol -> [long, short]
    positions: dict[str, PositionState] = field(default_factory=dict)  # "SYMBOL:slot"
    orders: list[OrderState] = field(default_factory=list)
    funding: list[FundingRow] = field(default_factory=list)

    def is_hedge(self, symbol: str) -> bool:
        return self.symbol_hedge.get(symbol, self.hedge)

    def leverage_of(self, symbol: str) -> list[Decimal]:
        return self.leverage.setdefault(symbol, [DEFAULT_LEVERAGE[self.venue]] * 2)

    def position(self, symbol: str, slot: str) -> PositionState:
        return self.positions.setdefault(f"{symbol}:{slot}", PositionState())

    def open_positions(self, symbol: str | None = None) -> list[tuple[str, str, PositionState]]:
        """(symbol, slot, position) for every non-zero position, in a stable order."""
        found = []
        for key in sorted(self.positions):
            sym, slot = key.split(":")
            position = self.positions[key]
            if position.size and (symbol is None or sym == symbol):
                found.append((sym, slot, position))
        return found

    def has_position(self, symbol: str | None = None) -> bool:
        return bool(self.open_positions(symbol))


@dataclass(frozen=True)
class PendingSettlement:
    """An instant a venue has passed but not yet settled (BingX settles late), with the rate it had at T."""

    venue: str
    symbol: str
    time_ms: int
    rate: Decimal
    due_ms: int


@dataclass
class VenueFunding:
    rate: Decimal
    mean: Decimal
    next_ms: int
    interval: int  # seconds


@dataclass
class MarketState:
    spec: MarketSpec
    index: Decimal
    basis: dict[str, Decimal]
    funding: dict[str, VenueFunding]

    def mark(self, venue: str) -> Decimal:
        return (self.index * (1 + self.basis[venue])).quantize(self.spec.tick)

    def index_price(self) -> Decimal:
        return self.index.quantize(self.spec.tick)

    def rules(self, venue: str) -> VenueRules:
        return self.spec.rules(venue)


class SimState:
    def __init__(
        self,
        *,
        seed: int,
        funding_interval: int,
        markets: tuple[MarketSpec, ...] = DEFAULT_MARKETS,
        clock: VenueClock,
        state_file: str | Path | None = None,
        settlement: dict[str, VenueSettlement] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.settlement = settlement or default_rules()
        # Kept in memory only: what each position held lately, for BingX's "held long enough" rule.
        self.size_history: dict[tuple[str, str, str, str], list[tuple[int, Decimal]]] = {}
        self.pending_settlements: list[PendingSettlement] = []
        self.clock = clock
        self.seed = seed
        self.funding_interval = funding_interval
        self.specs = markets
        self.state_file = Path(state_file) if state_file else None
        self.rng = random.Random(seed)
        self.accounts: dict[tuple[str, str], Account] = {}
        self.markets: dict[str, MarketState] = {}
        self.settlements: list[Settlement] = []  # oldest first, at most MAX_SETTLEMENTS
        self.reset_markets()
        if self.state_file and self.state_file.exists():
            self._load(json.loads(self.state_file.read_text()))

    # ---- markets -----------------------------------------------------------------------------------------------

    def reset_markets(self) -> None:
        self.markets = {}
        for spec in self.specs:
            interval = spec.funding_interval or self.funding_interval
            basis = {venue: Decimal(self.rng.randint(-3, 3)) / 10000 for venue in VENUES}
            # Bybit usually pays longs-to-shorts more than BingX, so the demo finds an edge to trade.
            means = {
                "bybit": Decimal(self.rng.randint(2, 6)) / 10000,
                "bingx": Decimal(self.rng.randint(-2, 1)) / 10000,
            }
            funding = {}
            for venue in VENUES:
                now_ms = self.clock.now_ms(venue)
                # Like the venues, instants sit on a grid (multiples of the interval since the epoch).
                next_ms = (now_ms // (interval * 1000) + 1) * interval * 1000
                funding[venue] = VenueFunding(rate=means[venue], mean=means[venue], next_ms=next_ms, interval=interval)
            self.markets[spec.symbol] = MarketState(spec=spec, index=spec.price, basis=basis, funding=funding)

    def market(self, symbol: str) -> MarketState | None:
        return self.markets.get(symbol)

    def market_by_bingx_symbol(self, symbol: str) -> MarketState | None:
        for market in self.markets.values():
            if market.spec.bingx_symbol == symbol:
                return market
        return None

    def walk(self) -> None:
        """One seeded step of every mark price and funding rate (called about once a second)."""
        for market in self.markets.values():
            step = Decimal(str(round(self.rng.gauss(0, 0.0004), 6)))
            market.index = max(market.spec.tick, market.index * (1 + step))
            for funding in market.funding.values():
                noise = Decimal(str(round(self.rng.gauss(0, 0.00001), 7)))
                drifted = funding.rate + (funding.mean - funding.rate) / 20 + noise
                # A market set to a "hot" mean (the demo's) may drift around it; the others stay within the cap.
                cap = max(RATE_CAP, abs(funding.mean) * 2)
                funding.rate = max(-cap, min(cap, drifted)).quantize(Decimal("0.000001"))

    # ---- accounts and ids --------------------------------------------------------------------------------------

    def account(self, venue: str, api_key: str) -> Account | None:
        return self.accounts.get((venue, api_key))

    def new_uid(self) -> int:
        """A user id no other account has: clients take it as the account's identity."""
        taken = {account.uid for account in self.accounts.values()}
        while (uid := self.rng.randint(100_000_000, 999_999_999)) in taken:
            pass
        return uid

    def new_order_id(self, venue: str) -> str:
        if venue == "bingx":
            return str(self.rng.randrange(*BINGX_ORDER_ID_RANGE, 2))
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_row_id(self) -> str:
        return str(self.rng.randrange(10**17, 10**18))

    def note_size(self, account: Account, symbol: str, slot: str, signed: Decimal, now_ms: int) -> None:
        history = self.size_history.setdefault((account.venue, account.api_key, symbol, slot), [])
        history.append((now_ms, signed))
        keep_after = now_ms - HISTORY_MS
        while len(history) > 1 and history[1][0] <= keep_after:
            history.pop(0)

    def record_settlement(self, settlement: Settlement) -> None:
        self.settlements.append(settlement)
        del self.settlements[:-MAX_SETTLEMENTS]

    # ---- persistence -------------------------------------------------------------------------------------------

    def save(self) -> None:
        """Write the whole state atomically. Call with the lock held, after the change."""
        if not self.state_file:
            return
        data = {
            "version": STATE_VERSION,
            "rng": _rng_to_json(self.rng.getstate()),
            "accounts": [asdict(account) for account in self.accounts.values()],
            "markets": {
                symbol: {
                    "index": market.index,
                    "basis": market.basis,
                    "funding": {venue: asdict(f) for venue, f in market.funding.items()},
                }
                for symbol, market in self.markets.items()
            },
            "settlements": [asdict(settlement) for settlement in self.settlements],
        }
        text = json.dumps(data, default=str, indent=1)
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_file.parent, prefix=self.state_file.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.state_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _load(self, data: dict[str, Any]) -> None:
        self.rng.setstate(_rng_from_json(data["rng"]))
        for raw in data.get("accounts", []):
            account = _account_from_json(raw)
            self.accounts[(account.venue, account.api_key)] = account
        for symbol, raw in data.get("markets", {}).items():
            market = self.markets.get(symbol)
            if market is None:
                continue
            market.index = Decimal(raw["index"])
            market.basis = {venue: Decimal(value) for venue, value in raw["basis"].items()}
            market.funding = {venue: _from_json(VenueFunding, f) for venue, f in raw["funding"].items()}
        # State files written before settlements were recorded have none: start the record empty.
        self.settlements = [_settlement_from_json(raw) for raw in data.get("settlements", [])]


def _from_json(cls: type, data: dict[str, Any]) -> Any:
    kwargs = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            kwargs[f.name] = Decimal(value) if f.type == "Decimal" else value
    return cls(**kwargs)


def _account_from_json(raw: dict[str, Any]) -> Account:
    account = _from_json(
        Account, {k: v for k, v in raw.items() if k not in ("leverage", "positions", "orders", "funding")}
    )
    account.leverage = {symbol: [Decimal(v) for v in pair] for symbol, pair in raw.get("leverage", {}).items()}
    account.positions = {key: _from_json(PositionState, p) for key, p in raw.get("positions", {}).items()}
    account.orders = [_from_json(OrderState, o) for o in raw.get("orders", [])]
    account.funding = [_from_json(FundingRow, r) for r in raw.get("funding", [])]
    return account


def _settlement_from_json(raw: dict[str, Any]) -> Settlement:
    settlement = _from_json(Settlement, {k: v for k, v in raw.items() if k != "positions"})
    settlement.positions = [_from_json(SettledPosition, p) for p in raw.get("positions", [])]
    return settlement


def _rng_to_json(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


def _rng_from_json(data: list) -> tuple:
    version, internal, gauss = data
    return (version, tuple(internal), gauss)

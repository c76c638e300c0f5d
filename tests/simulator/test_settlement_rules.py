"""Each simulated venue pays funding by its own rule: BingX only positions held from 30 s before T until its late
settlement, Bybit positions held at the timestamp (on the suite's time scale: BingX's 30 s is 0.48 s)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from exchanges.simulator import Simulator
from exchanges.simulator.settlement_rules import BINGX_COUNT_CUTOFF_S

from .conftest import BINGX_KEY, BYBIT_KEY
from .signing import BingxRaw, BybitRaw


def _settled(sim: Simulator, venue: str, time_ms: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(r["time_ms"] == time_ms for r in sim.settlements(symbol="BTCUSDT", venue=venue)):
        assert time.monotonic() < deadline, f"{venue} never settled {time_ms}"
        time.sleep(0.02)


def _cutoff(sim: Simulator) -> float:
    return BINGX_COUNT_CUTOFF_S * sim.time_scale


def test_bingx_pays_nothing_on_a_position_opened_inside_its_cutoff(sim: Simulator, bingx: BingxRaw) -> None:
    instant = sim.set_next_funding("BTCUSDT", "bingx", in_seconds=_cutoff(sim) / 2, rate="-0.0003")["next_ms"]
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.0100"))
    _settled(sim, "bingx", instant)
    assert sim.funding_ledger("bingx", BINGX_KEY) == []


def test_bingx_pays_a_position_held_from_its_cutoff_to_its_late_settlement(sim: Simulator, bingx: BingxRaw) -> None:
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.0100"))
    instant = sim.set_next_funding("BTCUSDT", "bingx", in_seconds=_cutoff(sim) * 1.5, rate="-0.0003")["next_ms"]
    _settled(sim, "bingx", instant)
    (row,) = sim.funding_ledger("bingx", BINGX_KEY)
    delay = sim.state.settlement["bingx"].settle_delay_ms
    assert delay > 0 and row["time_ms"] == instant + delay  # stamped when BingX got round to it
    assert Decimal(row["amount"]) > 0  # a long receives a negative rate


def test_bingx_pays_nothing_on_a_position_closed_before_its_late_settlement(sim: Simulator, bingx: BingxRaw) -> None:
    sim.set_settle_delay("bingx", seconds=1.0)
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.0100"))
    instant = sim.set_next_funding("BTCUSDT", "bingx", in_seconds=_cutoff(sim) * 1.5, rate="-0.0003")["next_ms"]
    while time.time() * 1000 < instant + 100:  # held through T itself ...
        time.sleep(0.02)
    bingx.ok(bingx.order("BTC-USDT", "SELL", "0.0100", reduceOnly="true"))  # ... closed before BingX settled
    _settled(sim, "bingx", instant)
    assert sim.funding_ledger("bingx", BINGX_KEY) == []


def test_bybit_pays_a_position_held_at_the_timestamp_however_late_it_opened(sim: Simulator, bybit: BybitRaw) -> None:
    bybit.ok(bybit.order("BTCUSDT", "Sell", "0.010"))
    instant = sim.set_next_funding("BTCUSDT", "bybit", in_seconds=0.1, rate="0.0005")["next_ms"]
    _settled(sim, "bybit", instant)
    (row,) = sim.funding_ledger("bybit", BYBIT_KEY)
    assert row["time_ms"] == instant and Decimal(row["amount"]) > 0


@pytest.mark.parametrize(
    ("lead", "hold", "paid"),
    [(5, 10, False), (45, 60, True)],
    ids=["the seed's 5 s / 10 s", "the BingX defaults 45 s / 60 s"],
)
def test_a_bingx_primary_is_paid_on_the_new_defaults_and_not_on_the_seeds_timing(
    sim: Simulator, bingx: BingxRaw, lead: int, hold: int, paid: bool
) -> None:
    """Open at T-lead and close at T+hold, both on the suite's time scale: only the new defaults earn anything."""
    instant = sim.set_next_funding("BTCUSDT", "bingx", in_seconds=lead * sim.time_scale, rate="0.0030")["next_ms"]
    bingx.ok(bingx.order("BTC-USDT", "SELL", "0.0100"))
    while time.time() * 1000 < instant + hold * sim.time_scale * 1000:
        time.sleep(0.01)
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.0100", reduceOnly="true"))
    _settled(sim, "bingx", instant)
    rows = sim.funding_ledger("bingx", BINGX_KEY)
    assert (len(rows) == 1 and Decimal(rows[0]["amount"]) > 0) if paid else rows == []

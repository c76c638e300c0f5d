"""With a state file, a restarted simulator remembers everything the venues would."""

from __future__ import annotations

import json
import time
from pathlib import Path

from exchanges.simulator import Simulator

from .signing import BingxRaw, BybitRaw


def test_state_survives_restart(tmp_path: Path) -> None:
    """Accounts, modes, leverage, positions, orders, ledger, balances and the funding schedule survive; ids stay
    unique."""
    state_file = tmp_path / "sim.json"
    with Simulator(seed=5, random_walk=False, state_file=state_file) as sim:
        sim.add_account("bybit", "k1", "s1", hedge=True)
        sim.add_account("bingx", "k2", "s2")
        bybit, bingx = BybitRaw(sim.base_url, "k1", "s1"), BingxRaw(sim.base_url, "k2", "s2")
        bybit.ok(bybit.post("/v5/position/set-leverage", {"category": "linear", "symbol": "BTCUSDT",
                                                          "buyLeverage": "3", "sellLeverage": "3"}))  # fmt: skip
        first = bybit.ok(bybit.order("BTCUSDT", "Buy", "0.010", positionIdx=1, orderLinkId="keep-me"))
        bingx.ok(bingx.order("ETH-USDT", "SELL", "0.5", clientOrderId="keep-too"))
        # Past BingX's counting cutoff (0.48 s on the test time scale), so the short is paid.
        sim.set_next_funding("ETHUSDT", "bingx", in_seconds=0.7, rate="0.0004")
        deadline = time.monotonic() + 3
        while not sim.funding_ledger("bingx", "k2") and time.monotonic() < deadline:
            time.sleep(0.05)
        schedule = sim.markets()["BTCUSDT"]
        before = {venue: sim.account(venue, key) for venue, key in (("bybit", "k1"), ("bingx", "k2"))}
        ledger = sim.funding_ledger("bingx", "k2")
        settlements = sim.settlements()
    assert json.loads(state_file.read_text())["version"] == 1
    assert [s["positions"][0]["size"] for s in settlements if s["symbol"] == "ETHUSDT"] == ["0.5"]

    with Simulator(seed=5, random_walk=False, state_file=state_file) as sim:
        # Re-adding the same demo account (as `make run` does on every start) changes nothing.
        sim.add_account("bybit", "k1", "s1")
        assert {venue: sim.account(venue, key) for venue, key in (("bybit", "k1"), ("bingx", "k2"))} == before
        assert sim.funding_ledger("bingx", "k2") == ledger
        assert sim.settlements() == settlements
        assert sim.markets()["BTCUSDT"]["bybit"]["next_ms"] == schedule["bybit"]["next_ms"]
        bybit, bingx = BybitRaw(sim.base_url, "k1", "s1"), BingxRaw(sim.base_url, "k2", "s2")
        rows = bybit.ok(bybit.get("/v5/position/list", category="linear", symbol="BTCUSDT"))["list"]
        assert [(r["positionIdx"], r["size"], r["leverage"]) for r in rows] == [(1, "0.01", "3"), (2, "0", "3")]
        kept = bybit.ok(bybit.get("/v5/order/history", category="linear", symbol="BTCUSDT", orderLinkId="keep-me"))
        assert kept["list"][0]["orderId"] == first["orderId"]
        assert bybit.order("BTCUSDT", "Buy", "0.001", positionIdx=1, orderLinkId="keep-me").json()["retCode"] == 110072
        second = bybit.ok(bybit.order("BTCUSDT", "Buy", "0.001", positionIdx=1))
        assert second["orderId"] != first["orderId"]
        income = bingx.ok(bingx.get("/openApi/swap/v2/user/income", incomeType="FUNDING_FEE"))
        assert len(income) == 1
        assert (
            bingx.get("/openApi/swap/v2/trade/order", symbol="ETH-USDT", clientOrderId="keep-too").json()["code"] == 0
        )


def test_state_file_without_settlements_still_loads(tmp_path: Path) -> None:
    """A state file written before settlement records existed loads, with an empty record."""
    state_file = tmp_path / "old.json"
    with Simulator(seed=5, random_walk=False, state_file=state_file) as sim:
        sim.add_account("bybit", "k1", "s1")
        sim.set_next_funding("BTCUSDT", "bybit", in_seconds=0.05)
        deadline = time.monotonic() + 3
        while not sim.settlements() and time.monotonic() < deadline:
            time.sleep(0.05)
    data = json.loads(state_file.read_text())
    assert data.pop("settlements")
    state_file.write_text(json.dumps(data))
    with Simulator(seed=5, random_walk=False, state_file=state_file) as sim:
        assert sim.account("bybit", "k1")["api_key"] == "k1"
        assert sim.settlements() == []

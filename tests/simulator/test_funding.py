"""Funding instants: set a few seconds ahead through the control API, settled at that instant, reported by both
venues' funding-payment endpoints."""

from __future__ import annotations

import time
from decimal import Decimal

import requests

from exchanges.base import Venue
from exchanges.simulator import Simulator, SimulatorControl, settlement_net

from .conftest import BINGX_KEY, BYBIT_KEY
from .signing import BingxRaw, BybitRaw


def _wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_funding_credited_at_the_instant_on_both_venues(sim: Simulator, bybit: BybitRaw, bingx: BingxRaw) -> None:
    """A short on Bybit (rate > 0) and a long on BingX (rate < 0) are both credited at the set instant."""
    bybit.ok(bybit.order("BTCUSDT", "Sell", "0.010"))
    bingx.ok(bingx.order("BTC-USDT", "BUY", "0.0100"))
    bybit_instant = sim.set_next_funding("BTCUSDT", "bybit", in_seconds=1.5, rate="0.0005")["next_ms"]
    bingx_instant = sim.set_next_funding("BTCUSDT", "bingx", in_seconds=1.5, rate="-0.0003")["next_ms"]
    ticker = bybit.ok(bybit.get("/v5/market/tickers", category="linear", symbol="BTCUSDT"))["list"][0]
    assert ticker["nextFundingTime"] == str(bybit_instant)
    premium = bingx.ok(bingx.get("/openApi/swap/v2/quote/premiumIndex", symbol="BTC-USDT"))
    assert premium["nextFundingTime"] == bingx_instant
    bybit_wallet_before = sim.account("bybit", BYBIT_KEY)["balance"]

    log = _wait_for(
        lambda: bybit.ok(bybit.get("/v5/account/transaction-log", accountType="UNIFIED", type="SETTLEMENT"))["list"]
    )
    settled_at = time.time() * 1000
    assert settled_at - bybit_instant < 1000  # credited at the instant, not at some later poll
    (row,) = log
    mark = Decimal(sim.markets()["BTCUSDT"]["bybit"]["mark"])
    assert (row["symbol"], row["side"], row["size"], row["type"]) == ("BTCUSDT", "Sell", "0.01", "SETTLEMENT")
    assert Decimal(row["funding"]) == Decimal("0.01") * mark * Decimal("0.0005") > 0
    assert row["transactionTime"] == str(bybit_instant) and row["feeRate"] == "-0.0005"
    assert Decimal(sim.account("bybit", BYBIT_KEY)["balance"]) == Decimal(bybit_wallet_before) + Decimal(row["funding"])

    income = _wait_for(lambda: bingx.ok(bingx.get("/openApi/swap/v2/user/income", incomeType="FUNDING_FEE")))
    (payment,) = income
    bingx_mark = Decimal(sim.markets()["BTCUSDT"]["bingx"]["mark"])
    assert (payment["symbol"], payment["incomeType"], payment["asset"]) == ("BTC-USDT", "FUNDING_FEE", "USDT")
    assert Decimal(payment["income"]) == Decimal("0.01") * bingx_mark * Decimal("0.0003") > 0
    # BingX settles late (here its delay on the test time scale) and stamps the row when it does.
    assert payment["time"] == bingx_instant + sim.state.settlement["bingx"].settle_delay_ms
    assert sim.funding_ledger("bingx", BINGX_KEY)[0]["amount"] == payment["income"]


def test_next_instant_advances_by_the_interval(sim: Simulator, bybit: BybitRaw) -> None:
    """After settling, the next instant moves on by the symbol's interval, reported truthfully."""
    sim.set_funding_interval("ETHUSDT", "bybit", 120)
    instant = sim.set_next_funding("ETHUSDT", "bybit", in_seconds=0.2)["next_ms"]
    ticker = _wait_for(
        lambda: [
            row
            for row in bybit.ok(bybit.get("/v5/market/tickers", category="linear", symbol="ETHUSDT"))["list"]
            if row["nextFundingTime"] != str(instant)
        ]
    )[0]
    assert int(ticker["nextFundingTime"]) == instant + 120_000
    # 2 minutes is reported as the nearest whole hour, at least 1 (a documented demo deviation).
    assert ticker["fundingIntervalHour"] == "1"


def test_flat_accounts_pay_nothing(sim: Simulator, bybit: BybitRaw) -> None:
    """Settlement touches open positions only."""
    sim.set_next_funding("SOLUSDT", "bybit", in_seconds=0.1, rate="0.001")
    _wait_for(lambda: sim.markets()["SOLUSDT"]["bybit"]["next_ms"] > time.time() * 1000 + 60_000)
    assert sim.funding_ledger("bybit", BYBIT_KEY) == []


def test_demo_rates_differ_between_venues() -> None:
    """Seeded rates differ per venue and stay realistic; Bybit's are positive so the demo has an edge."""
    with Simulator(seed=3, funding_interval=120) as sim:
        markets = sim.markets()
    for market in markets.values():
        bybit, bingx = Decimal(market["bybit"]["rate"]), Decimal(market["bingx"]["rate"])
        assert bybit != bingx and bybit > 0
        assert abs(bybit) <= Decimal("0.001") and abs(bingx) <= Decimal("0.001")
        assert market["bybit"]["next_ms"] % 120_000 == 0


def test_custom_markets_with_their_own_interval() -> None:
    """A configured market list replaces the defaults; a per-symbol interval overrides the simulator-wide one."""
    from exchanges.simulator import MarketSpec, VenueRules

    rules = VenueRules(20, Decimal("1"), Decimal("1"), Decimal("5"), Decimal("100000"), Decimal("0.0005"))
    spec = MarketSpec("ADAUSDT", "ADA", Decimal("0.45"), Decimal("0.0001"), rules, rules, funding_interval=4 * 3600)
    with Simulator(seed=1, symbols=[spec], funding_interval=120) as sim:
        public = BybitRaw(sim.base_url)
        row = public.ok(public.get("/v5/market/tickers", category="linear"))["list"]
        assert [(r["symbol"], r["fundingIntervalHour"]) for r in row] == [("ADAUSDT", "4")]
        contracts = BingxRaw(sim.base_url).get("/openApi/swap/v2/quote/contracts").json()["data"]
        assert [(c["symbol"], c["maxLongLeverage"], c["quantityPrecision"]) for c in contracts] == [("ADA-USDT", 20, 0)]


def _settled(sim: Simulator, count: int, **filters) -> list[dict]:
    """The settlement records matching ``filters`` once there are ``count`` of them."""

    def enough() -> list[dict] | None:
        records = sim.settlements(**filters)
        return records if len(records) >= count else None

    return _wait_for(enough)


def test_settlement_records_every_account_on_both_venues(sim: Simulator, bybit: BybitRaw, bingx: BingxRaw) -> None:
    """At each venue's instant, the record lists every account's position in the symbol on both venues; a hedge
    of a Bybit long against a BingX short nets to zero at both."""
    sim.add_account("bybit", "bystander", "s")  # flat: not listed
    bybit.ok(bybit.order("BTCUSDT", "Buy", "0.010"))
    bingx.ok(bingx.order("BTC-USDT", "SELL", "0.0100"))
    bybit_instant = sim.set_next_funding("BTCUSDT", "bybit", in_seconds=0.3)["next_ms"]
    bingx_instant = sim.set_next_funding("BTCUSDT", "bingx", in_seconds=0.5)["next_ms"]
    records = _settled(sim, 2, symbol="BTCUSDT")
    assert [(r["venue"], r["symbol"], r["time_ms"]) for r in records] == [
        ("bybit", "BTCUSDT", bybit_instant),
        ("bingx", "BTCUSDT", bingx_instant),
    ]
    for record in records:
        assert record["positions"] == [
            {"venue": "bybit", "api_key": BYBIT_KEY, "slot": "both", "side": "long", "size": "0.01"},
            {"venue": "bingx", "api_key": BINGX_KEY, "slot": "both", "side": "short", "size": "0.01"},
        ]
    hedge = [("bybit", BYBIT_KEY), (Venue.BINGX, BINGX_KEY)]
    assert settlement_net(records, "BTCUSDT", hedge) == [
        ("bybit", bybit_instant, Decimal(0)),
        ("bingx", bingx_instant, Decimal(0)),
    ]
    assert settlement_net(records, "BTCUSDT", [("bybit", BYBIT_KEY)])[0].net == Decimal("0.01")
    assert sim.settlements(symbol="BTCUSDT", venue="bingx") == records[1:]
    assert sim.settlements(symbol="ETHUSDT") == []


def test_a_leg_closed_between_the_instants_shows_unhedged(sim: Simulator, bybit: BybitRaw, bingx: BingxRaw) -> None:
    """Close the BingX leg after Bybit settles and before BingX does: hedged at Bybit's instant, long at BingX's."""
    bybit.ok(bybit.order("ETHUSDT", "Buy", "0.10"))
    bingx.ok(bingx.order("ETH-USDT", "SELL", "0.10"))
    sim.set_next_funding("ETHUSDT", "bybit", in_seconds=0.2)
    sim.set_next_funding("ETHUSDT", "bingx", in_seconds=30)
    _settled(sim, 1, symbol="ETHUSDT")
    bingx.ok(bingx.order("ETH-USDT", "BUY", "0.10", reduceOnly="true"))
    sim.set_next_funding("ETHUSDT", "bingx", in_seconds=0.1)
    records = _settled(sim, 2, symbol="ETHUSDT")
    nets = settlement_net(records, "ETHUSDT", [("bybit", BYBIT_KEY), ("bingx", BINGX_KEY)])
    assert [(n.venue, n.net) for n in nets] == [("bybit", Decimal(0)), ("bingx", Decimal("0.1"))]


def test_flat_settlement_is_recorded_empty_and_readable_over_http(sim: Simulator) -> None:
    """Every settlement is recorded, even with nobody in; the record is read-only over GET as well."""
    instant = sim.set_next_funding("SOLUSDT", "bingx", in_seconds=0.1)["next_ms"]
    (record,) = _settled(sim, 1, symbol="SOLUSDT")
    assert record == {"venue": "bingx", "symbol": "SOLUSDT", "time_ms": instant, "positions": []}
    answer = requests.get(f"{sim.base_url}/_sim/settlements", params={"venue": "bingx"}, timeout=5).json()
    assert answer == {"ok": True, "result": [record]}
    assert SimulatorControl(sim.base_url).settlements(symbol="SOLUSDT", venue="bingx") == [record]
    assert settlement_net([record], "SOLUSDT", [("bingx", BINGX_KEY)]) == [("bingx", instant, Decimal(0))]


def test_only_the_last_2000_settlements_are_kept(sim: Simulator) -> None:
    """The record is bounded: the oldest go first."""
    from exchanges.simulator.state import Settlement

    with sim.state.lock:
        for n in range(2005):
            sim.state.record_settlement(Settlement("bybit", "XRPUSDT", n))
    kept = sim.settlements(symbol="XRPUSDT")
    assert len(kept) == 2000 and kept[0]["time_ms"] == 5 and kept[-1]["time_ms"] == 2004

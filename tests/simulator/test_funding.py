"""Funding instants: set a few seconds ahead through the control API, settled at that instant, reported by both
venues' funding-payment endpoints."""

from __future__ import annotations

import time
from decimal import Decimal

from exchanges.simulator import Simulator

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
    assert payment["time"] == bingx_instant
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

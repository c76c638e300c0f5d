"""funding_rates: both venues' public data, live, for symbols listed on both; JSON shape and the 8-hour spread."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from exchanges.base import Venue
from tests.commands.conftest import one_line

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_funding_rates_json_shape_and_spread(market_on_sim, cli):
    """Bybit every 4 h at 0.0001 vs BingX every 8 h at 0.00005: spread_8h 0.00015, annualized 0.16425."""
    market_on_sim.set_funding_interval("BTCUSDT", "bybit", 4 * 3600)
    market_on_sim.set_funding_rate("BTCUSDT", "bybit", "0.0001")
    market_on_sim.set_funding_rate("BTCUSDT", "bingx", "0.00005")
    ran = cli("funding_rates", "BTCUSDT", "--json")
    assert ran.stderr == ""
    [row] = json.loads(ran.stdout)
    assert set(row) == {"symbol", "bybit", "bingx", "spread_8h", "annualized"}
    assert row["symbol"] == "BTCUSDT"
    assert row["bybit"]["rate"] == "0.0001" and row["bybit"]["interval_hours"] == 4
    assert row["bingx"]["rate"] == "0.00005" and row["bingx"]["interval_hours"] == 8
    for venue in ("bybit", "bingx"):
        assert set(row[venue]) == {"rate", "next_funding_time", "interval_hours", "mark_price"}
        assert ISO_MS.fullmatch(row[venue]["next_funding_time"])
        assert Decimal(row[venue]["mark_price"]) > 0
    assert (row["spread_8h"], row["annualized"]) == ("0.00015", "0.16425")


def test_funding_rates_all_common_symbols_sorted(market_on_sim, cli):
    """Without SYMBOL: every symbol both venues list, sorted."""
    rows = json.loads(cli("funding_rates", "--json").stdout)
    assert [row["symbol"] for row in rows] == ["BTCUSDT", "DOGEUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]


def test_funding_rates_keeps_requested_order_and_drops_duplicates(market_on_sim, cli):
    """Symbols come back in the order asked, lowercase accepted, each once."""
    rows = json.loads(cli("funding_rates", "ethusdt", "BTCUSDT", "ETHUSDT", "--json").stdout)
    assert [row["symbol"] for row in rows] == ["ETHUSDT", "BTCUSDT"]


def test_funding_rates_table_is_readable(market_on_sim, cli):
    """Without --json: a header and one row per symbol, rates in percent."""
    market_on_sim.set_funding_rate("ETHUSDT", "bybit", "0.0001")
    lines = cli("funding_rates", "ETHUSDT").stdout.splitlines()
    assert lines[0].split()[:3] == ["SYMBOL", "BYBIT", "RATE"]
    assert lines[1].startswith("ETHUSDT") and "+0.0100%" in lines[1]
    assert len(lines) == 2


def test_funding_rates_unknown_symbol_is_one_line(market_on_sim, cli):
    """A well-formed symbol neither venue lists: exit 1 naming it."""
    with pytest.raises(CommandError) as caught:
        cli("funding_rates", "BTCUSDT", "FOOUSDT")
    assert str(caught.value) == "FOOUSDT is not listed on Bybit nor BingX"


def test_funding_rates_symbol_on_one_venue_only_is_refused(market_on_sim, cli, monkeypatch):
    """A symbol only Bybit lists is not a common symbol: refused for that venue, and absent from the full list."""
    from arbitrage.services import reports_support

    real = reports_support.funding_info_both

    def without_bingx_sol():
        data = real()
        del data[Venue.BINGX]["SOLUSDT"]
        return data

    monkeypatch.setattr("arbitrage.management.commands.funding_rates.funding_info_both", without_bingx_sol)
    with pytest.raises(CommandError, match="^SOLUSDT is not listed on BingX$"):
        cli("funding_rates", "SOLUSDT")
    assert "SOLUSDT" not in [row["symbol"] for row in json.loads(cli("funding_rates", "--json").stdout)]


@pytest.mark.parametrize("symbol", ["BTC USDT", "BTC-USDT", "ＢＴＣUSDT", "'; DROP TABLE x;--", "", "A" * 40 + "USDT"])
def test_funding_rates_malformed_symbol_fails_before_any_call(symbol, cli, monkeypatch):
    """A malformed symbol is one line and no venue is asked."""

    def no_call():
        raise AssertionError("venue called")

    monkeypatch.setattr("arbitrage.management.commands.funding_rates.funding_info_both", no_call)
    with pytest.raises(CommandError, match="^SYMBOL: .* is not a USDT perpetual symbol like BTCUSDT$") as caught:
        cli("funding_rates", symbol)
    assert one_line(caught.value)


def test_funding_rates_venue_down_is_one_line(market_on_sim, cli):
    """BingX answering errors: exit 1 naming BingX, no traceback."""
    market_on_sim.faults("bingx").fail_next("/openApi/swap/v2/quote/premiumIndex", count=20, code=100001)
    with pytest.raises(CommandError, match="^funding rates could not be read: BingX: ") as caught:
        cli("funding_rates", "--json")
    assert one_line(caught.value)

"""Symbol spelling: canonical validation and the BingX hyphenated form, both ways."""

from __future__ import annotations

import pytest

from exchanges import symbols


@pytest.mark.parametrize(
    ("canonical", "bingx"),
    [("BTCUSDT", "BTC-USDT"), ("1000PEPEUSDT", "1000PEPE-USDT"), ("USDTUSDT", "USDT-USDT")],
)
def test_round_trip(canonical: str, bingx: str) -> None:
    """Canonical and BingX spellings convert into each other exactly."""
    assert symbols.to_bingx(canonical) == bingx
    assert symbols.from_bingx(bingx) == canonical


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("btcusdt", "did you mean 'BTCUSDT'"),
        ("BTC-USDT", "did you mean 'BTCUSDT'"),
        ("BTCUSDC", "ending in USDT"),
        ("USDT", "ending in USDT"),
        ("", "ending in USDT"),
        ("BTC USDT", "ending in USDT"),
        (None, "ending in USDT"),
    ],
)
def test_invalid_canonical_symbols_explain_the_form(bad: object, fragment: str) -> None:
    """Non-canonical symbols raise InvalidSymbol naming the accepted form (and a guess when there is one)."""
    with pytest.raises(symbols.InvalidSymbol, match=fragment):
        symbols.canonical(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["BTCUSDT", "BTC-USDC", "btc-usdt", "MØTH-USDT", "BTC-USDT-SWAP"])
def test_invalid_bingx_symbols_are_refused(bad: str) -> None:
    """from_bingx accepts only BASE-USDT with uppercase letters and digits."""
    with pytest.raises(symbols.InvalidSymbol, match="BingX USDT perpetual"):
        symbols.from_bingx(bad)

"""Symbol spelling: canonical ``BTCUSDT`` at the library boundary, ``BTC-USDT`` on BingX, unchanged on Bybit."""

from __future__ import annotations

import re

QUOTE = "USDT"
_CANONICAL = re.compile(r"[A-Z0-9]+USDT")
_BINGX = re.compile(r"([A-Z0-9]+)-USDT")


class InvalidSymbol(ValueError):
    """A symbol that is not in the expected spelling; the message shows the accepted form."""


def canonical(symbol: str) -> str:
    """Validate a canonical symbol (uppercase letters and digits ending in USDT) and return it unchanged."""
    if not isinstance(symbol, str) or not _CANONICAL.fullmatch(symbol):
        hint = ""
        if isinstance(symbol, str):
            guess = symbol.strip().upper().replace("-", "").replace("/", "").replace("_", "")
            if _CANONICAL.fullmatch(guess):
                hint = f"; did you mean {guess!r}?"
        raise InvalidSymbol(
            f"{symbol!r} is not a canonical USDT perpetual symbol: use uppercase letters and digits ending in "
            f"USDT, like 'BTCUSDT'{hint}"
        )
    return symbol


def to_bingx(symbol: str) -> str:
    """``BTCUSDT`` -> ``BTC-USDT``."""
    return f"{canonical(symbol)[: -len(QUOTE)]}-{QUOTE}"


def from_bingx(symbol: str) -> str:
    """``BTC-USDT`` -> ``BTCUSDT``; anything else (other quotes, odd characters) raises ``InvalidSymbol``."""
    match = _BINGX.fullmatch(symbol) if isinstance(symbol, str) else None
    if match is None:
        raise InvalidSymbol(f"{symbol!r} is not a BingX USDT perpetual symbol like 'BTC-USDT'")
    return match.group(1) + QUOTE


def is_canonical(symbol: str) -> bool:
    return isinstance(symbol, str) and _CANONICAL.fullmatch(symbol) is not None

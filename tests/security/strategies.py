"""Hypothesis strategies for hostile input, and oracles that say which values a field must refuse.

The oracles restate each field's rule independently of the code under test; a strategy filtered by one yields only
values the field must reject, so every example can assert "an error, and nothing changed".
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from hypothesis import strategies as st

ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
CANONICAL_SYMBOL = re.compile(r"[A-Z0-9]+USDT")

# The examples the brief names, always tried (hypothesis adds them to its random draws).
NAMED_NUMBERS = ["0", "-1", "1.5", str(10**9), "abc", "NaN", "nan", "sNaN", "-inf", "Infinity", "1e30", "-5"]
ODD_NUMBERS = ["1_000", "1_0", "0x10", "1,5", "", " ", "٣", "１", "5\x00", "1e99999", "--1", "+", ".", "e5"]
NAMED_SYMBOLS = [
    "BTC USDT",
    " BTCUSDT X",
    "ДОГЕUSDT",
    "BTCUSDT'; DROP TABLE arbitrage_subscription; --",
    "BTCUSDT\x00",
    "BTC\nUSDT",
    "<script>alert(1)</script>USDT",
    "A" * 40 + "USDT",
    "BTCUSD",
    "",
]


def number_text() -> st.SearchStrategy[str]:
    """Numbers in every notation, and text that only looks like one."""
    return st.one_of(
        st.sampled_from(NAMED_NUMBERS + ODD_NUMBERS),
        st.integers().map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.text(max_size=40),
    )


def decimal_ok(text: str, *, low: Decimal, high: Decimal, low_inclusive: bool, max_length: int) -> bool:
    stripped = text.strip()
    if len(stripped) > max_length or "\x00" in text or not ASCII_NUMBER.fullmatch(stripped):
        return False
    try:
        number = Decimal(stripped)
    except InvalidOperation:
        return False
    return (number >= low if low_inclusive else number > low) and number <= high


def whole_ok(text: str, *, low: int, high: int, max_length: int = 32) -> bool:
    if not decimal_ok(text, low=Decimal(low), high=Decimal(high), low_inclusive=True, max_length=max_length):
        return False
    number = Decimal(text.strip())
    return number == number.to_integral_value()


def bad_whole(low: int, high: int) -> st.SearchStrategy[str]:
    return number_text().filter(lambda text: not whole_ok(text, low=low, high=high))


def bad_decimal(low: Decimal, high: Decimal, *, low_inclusive: bool, max_length: int) -> st.SearchStrategy[str]:
    return number_text().filter(
        lambda text: not decimal_ok(text, low=low, high=high, low_inclusive=low_inclusive, max_length=max_length)
    )


def symbol_ok(text: str) -> bool:
    symbol = text.strip().upper()
    return len(symbol) <= 30 and "\x00" not in text and bool(CANONICAL_SYMBOL.fullmatch(symbol))


def bad_symbol() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(NAMED_SYMBOLS),
        st.text(max_size=60),
        st.text(max_size=20).map(lambda text: f"BTC{text}USDT"),
    ).filter(lambda text: not symbol_ok(text))


def not_a_choice(choices: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(["", " ", "MAINNET", "prod", "kraken", "1", "None"]), st.text(max_size=20)).filter(
        lambda text: text not in choices
    )


def label_ok(text: str) -> bool:
    stripped = text.strip()
    return 0 < len(stripped) <= 60 and stripped.isprintable()


def bad_label() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", "   ", "a\nb", "tab\there", "x" * 61, "nul\x00", "bell\x07", "\u202eevil"]),
        st.text(max_size=80),
    ).filter(lambda text: not label_ok(text))


def credential_ok(text: str, *, max_length: int) -> bool:
    stripped = text.strip()
    return (
        len(stripped) > 0
        and len(text) <= max_length
        and not any(ch.isspace() for ch in stripped)
        and stripped.isprintable()
    )


def bad_credential(max_length: int = 200) -> st.SearchStrategy[str]:
    """Keys and secrets: the web form takes 200 characters, the service (and so the commands) 512."""
    return st.one_of(
        st.sampled_from(["", "  ", "has space", "tab\tkey", "new\nline", "nul\x00key", "k" * (max_length + 1)]),
        st.sampled_from(["\u00e9\u200bx", "\u202ereversed"]),
        st.text(max_size=40),
    ).filter(lambda text: not credential_ok(text, max_length=max_length))


def url_ok(text: str) -> bool:
    stripped = text.strip()
    if not stripped:
        return True  # blank: the environment's standard URL
    if len(stripped) > 200 or "\x00" in text:
        return False
    try:
        URLValidator(schemes=["http", "https"])(stripped)
    except ValidationError:
        return False
    return True


def bad_url() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(
            [
                "ftp://example.com",
                "javascript:alert(1)",
                "file:///etc/passwd",
                "http://",
                "http:// spaced.example.com",
                "example.com",
                "https://" + "a" * 200 + ".com",
                "gopher://127.0.0.1:6379/_FLUSHALL",
            ]
        ),
        st.text(max_size=60),
        st.text(max_size=20).map(lambda text: f"http://{text}"),
    ).filter(lambda text: not url_ok(text))


def foreign_ids(foreign: list[int], own: set[int]) -> st.SearchStrategy[int]:
    """Object ids that are not the requesting user's: another user's ids, missing ids, ids beyond any integer column."""
    return st.one_of(st.sampled_from(foreign), st.integers(min_value=0, max_value=2**70)).filter(
        lambda pk: pk not in own
    )

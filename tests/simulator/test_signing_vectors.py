"""The simulator's verifier against the notes' official and self-computed vectors."""

from __future__ import annotations

import pytest

from exchanges.simulator import auth

BINGX_SECRET = "mheO6dR8ovSsxZQCOYEFCtelpuxcWGTfHw7te326y6jOwq5WpvFQ9JNljoTwBXZGv5It07m9RXSPpDQEK2w"


@pytest.mark.parametrize(
    ("query", "body", "signature"),
    [
        (
            "symbol=BTC-USDT&timestamp=1667872120843&side=LONG&leverage=6",
            "",
            "4f581ecdb1fa09b9d6e57886b6f70cffed17f82b93399722939e49a38edec2bf",
        ),
        (
            "symbol=BTC-USDT&timestamp=1668159715051",
            "side=LONG&leverage=6",
            "8b756b01e7a30f02e19c58a91ab01b29528694316b08a51ecb8dd072942bd47d",
        ),
        (
            "recvWindow=0&symbol=BTC-USDT&timestamp=1696751141337",
            "",
            "f8d883609dfd31c824feb4de865b071008dedb1d461451fa70847875c8e7a7a2",
        ),
        (
            "leverage=5&side=BOTH&symbol=BTC-USDT&timestamp=1700000000000",
            "",
            "70e583eb9aec3917caea498b7fa6e32e214d6dd7f3d7a236221dedeeb4914a84",
        ),
    ],
)
def test_bingx_vectors_verify(query: str, body: str, signature: str) -> None:
    """Each BingX vector verifies when its signature arrives as the last query parameter."""
    signed, sent = auth.bingx_split_signature(f"{query}&signature={signature}", body)
    assert sent == signature
    assert auth.bingx_signature_valid(secret=BINGX_SECRET, signed=signed, signature=sent)
    assert not auth.bingx_signature_valid(secret=BINGX_SECRET + "x", signed=signed, signature=sent)


def test_bingx_signature_in_form_body() -> None:
    """Everything in a form body, signature included, verifies the same string."""
    body = "symbol=BTC-USDT&timestamp=1667872120843&side=LONG&leverage=6"
    sig = "4f581ecdb1fa09b9d6e57886b6f70cffed17f82b93399722939e49a38edec2bf"
    signed, sent = auth.bingx_split_signature("", f"{body}&signature={sig}")
    assert (signed, sent) == (body, sig)
    assert auth.bingx_signature_valid(secret=BINGX_SECRET, signed=signed, signature=sent)


@pytest.mark.parametrize(
    ("payload", "signature"),
    [
        ("category=linear&symbol=BTCUSDT", "8246a593895fdfbe234404b5964466f60c219ba371d95e4cb691394e078f2346"),
        (
            '{"category":"linear","symbol":"BTCUSDT","buyLeverage":"5","sellLeverage":"5"}',
            "c9d7c372b6438ae307df73cc69f0ce295889363017f63a035275483ba3ef21de",
        ),
    ],
)
def test_bybit_vectors_verify(payload: str, signature: str) -> None:
    """The notes' Bybit GET and POST vectors verify; a one-character change does not."""
    common = {"secret": "test_secret", "timestamp": "1700000000000", "api_key": "test_key", "recv_window": "5000"}
    assert auth.bybit_signature_valid(**common, payload=payload, signature=signature)
    assert not auth.bybit_signature_valid(**common, payload=payload + " ", signature=signature)
    assert not auth.bybit_signature_valid(**common, payload=payload, signature=signature.upper())


@pytest.mark.parametrize(
    ("offset_ms", "valid"),
    [(-5000, True), (-5001, False), (0, True), (999, True), (1000, False)],
)
def test_bybit_timestamp_window(offset_ms: int, valid: bool) -> None:
    """``server - recvWindow <= timestamp < server + 1000``."""
    server = 1_700_000_000_000
    assert auth.bybit_timestamp_valid(timestamp=server + offset_ms, recv_window=5000, server_ms=server) is valid


@pytest.mark.parametrize(
    ("offset_ms", "recv_window", "valid"),
    [(-5000, None, True), (-5001, None, False), (5000, None, True), (5001, None, False), (-9000, 10000, True)],
)
def test_bingx_timestamp_window(offset_ms: int, recv_window: int | None, valid: bool) -> None:
    """Within 5 s of the venue clock; recvWindow widens how old a request may be."""
    server = 1_700_000_000_000
    result = auth.bingx_timestamp_valid(timestamp=server + offset_ms, recv_window=recv_window, server_ms=server)
    assert result is valid

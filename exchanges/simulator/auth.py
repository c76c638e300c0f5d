"""Request signature and timestamp checks, written from the venues' documentation alone.

Deliberately independent of ``exchanges/transport.py``/``bybit.py``/``bingx.py``: if the clients and the simulator
shared the signing code, a bug in it would sign and verify the same wrong bytes and every test would still pass.
"""

from __future__ import annotations

import hashlib
import hmac

BYBIT_DEFAULT_RECV_WINDOW = 5000
BYBIT_FUTURE_TOLERANCE_MS = 1000
BINGX_DEFAULT_WINDOW_MS = 5000


def hmac_hex(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def bybit_signature_valid(
    *, secret: str, timestamp: str, api_key: str, recv_window: str, payload: str, signature: str
) -> bool:
    """Bybit v5: lowercase hex HMAC-SHA256 of ``timestamp + apiKey + recvWindow + payload``.

    ``payload`` is the query string exactly as received (GET) or the JSON body exactly as received (POST).
    """
    expected = hmac_hex(secret, f"{timestamp}{api_key}{recv_window}{payload}")
    return hmac.compare_digest(expected, signature)


def bybit_timestamp_valid(*, timestamp: int, recv_window: int, server_ms: int) -> bool:
    """Accepted when ``server - recvWindow <= timestamp < server + 1000``: more than 1 s ahead always fails."""
    return server_ms - recv_window <= timestamp < server_ms + BYBIT_FUTURE_TOLERANCE_MS


def bingx_split_signature(raw_query: str, raw_body: str) -> tuple[str, str | None]:
    """The signed string and the signature sent.

    The signed string is every parameter as received, minus ``signature``: the raw query string followed by the
    raw form body, joined with nothing (the 2023 docs' mixed-form example). The signature normally comes last in
    the query string; a form body may carry it instead.
    """
    signature = None
    parts = []
    for raw in (raw_query, raw_body):
        kept = []
        for pair in raw.split("&") if raw else []:
            if pair.startswith("signature="):
                signature = pair[len("signature=") :]
            else:
                kept.append(pair)
        parts.append("&".join(kept))
    return "".join(parts), signature


def bingx_signature_valid(*, secret: str, signed: str, signature: str) -> bool:
    return hmac.compare_digest(hmac_hex(secret, signed), signature)


def bingx_timestamp_valid(*, timestamp: int, recv_window: int | None, server_ms: int) -> bool:
    """Within 5 s of the venue clock; an explicit ``recvWindow`` widens how old a request may be."""
    window = recv_window if recv_window else BINGX_DEFAULT_WINDOW_MS
    return server_ms - window <= timestamp <= server_ms + BINGX_DEFAULT_WINDOW_MS

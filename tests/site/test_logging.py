"""The log filter is the last line of defence: secret-looking values never reach a log line."""

import logging

import pytest

from fundarb_site.logging import RedactSecretsFilter, redact


@pytest.mark.parametrize(
    "text",
    [
        "GET /v5/order?symbol=BTCUSDT&signature=abcdef0123456789",
        'headers {"X-BAPI-API-KEY": "KEYVALUE123", "X-BAPI-SIGN": "deadbeef"}',
        "api_secret=SUPERSECRETVALUE password: hunter2",
    ],
)
def test_redact_removes_secret_values(text):
    """Values of signature, key, secret and password fields are replaced."""
    cleaned = redact(text)
    for secret in ("abcdef0123456789", "KEYVALUE123", "deadbeef", "SUPERSECRETVALUE", "hunter2"):
        assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_filter_rewrites_the_formatted_record():
    """Arguments are merged before redaction, so a secret passed as a %s argument is caught too."""
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %s", ("signature=0badc0ffee",), None)
    assert RedactSecretsFilter().filter(record)
    assert "0badc0ffee" not in record.getMessage()

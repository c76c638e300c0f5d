"""Suite-wide fixtures.

Services (PostgreSQL, Redis, Chromium) are optional on a laptop and required under CI: `require_service` skips
with the reason locally and fails the test when `CI=true`, so a missing service can never pass CI silently.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name: str, reason: str) -> None:
    """Skip (laptop) or fail (CI) a test whose service is missing."""
    message = f"{name} unavailable: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: {name} tests must run, not skip)", pytrace=False)
    pytest.skip(message)


def tcp_reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not tcp_reachable(url, 6379):
        require_service("Redis", f"nothing listens at {url} (set TEST_REDIS_URL)")
    return url

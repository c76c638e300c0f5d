"""Helpers for the operator-command tests: run a command in-process with separate stdout/stderr and stdin."""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass

import pytest
from django.core.management import call_command


@dataclass(frozen=True)
class Ran:
    stdout: str
    stderr: str


def run(name: str, *args: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> Ran:
    """``call_command`` with captured output; ``stdin`` replaces ``sys.stdin`` (needs ``monkeypatch``)."""
    if stdin is not None:
        assert monkeypatch is not None, "pass monkeypatch to feed stdin"
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return Ran(out.getvalue(), err.getvalue())


@pytest.fixture
def cli(monkeypatch):
    """``cli("subscribe", "--user", "alice", ..., stdin="...")`` -> ``Ran``; a CommandError propagates."""

    def call(name: str, *args: str, stdin: str | None = None) -> Ran:
        return run(name, *args, stdin=stdin, monkeypatch=monkeypatch)

    return call


def one_line(message: str) -> bool:
    return len(str(message).splitlines()) == 1


@pytest.fixture
def market_on_sim(venue_sim, settings):
    """Public market data (funding_rates) read from the test's simulator."""
    from arbitrage.services.clients import forget_clients

    settings.MARKET_DATA_ENVIRONMENT = "simulator"
    forget_clients()
    yield venue_sim
    forget_clients()

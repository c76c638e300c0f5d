"""Venue limits for forms and commands: read live when a form is submitted, cached for up to a minute."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache

from arbitrage.models import ExchangeAccount
from arbitrage.services.clients import client_for_account
from arbitrage.services.parallel import run_parallel
from exchanges.base import SymbolRules
from exchanges.errors import ExchangeError, SymbolNotFound

LIMITS_TTL_SECONDS = 60


@dataclass(frozen=True)
class SymbolLimits:
    rules: SymbolRules
    mark_price: Decimal


class LimitsUnavailable(Exception):
    pass


def _limits_key(account: ExchangeAccount, symbol: str) -> str:
    return f"fundarb:limits:{account.exchange}:{account.environment}:{account.base_url}:{symbol}"


def _read_limits(account: ExchangeAccount, symbol: str) -> SymbolLimits:
    key = _limits_key(account, symbol)
    cached = cache.get(key)
    if cached is not None:
        return cached
    client = client_for_account(account)
    rules_outcome, funding_outcome = run_parallel(
        lambda: client.symbol_rules(symbol), lambda: client.funding_info(symbol)
    )
    for outcome in (rules_outcome, funding_outcome):
        if outcome.error is not None:
            raise outcome.error
    limits = SymbolLimits(rules=rules_outcome.value, mark_price=funding_outcome.value.mark_price)
    cache.set(key, limits, LIMITS_TTL_SECONDS)
    return limits


def symbol_limits(*, accounts: list[ExchangeAccount], symbol: str) -> list[SymbolLimits]:
    """Each account's venue limits for ``symbol`` (in parallel). Raises LimitsUnavailable with a readable reason."""
    outcomes = run_parallel(*[(lambda a=a: _read_limits(a, symbol)) for a in accounts])
    results = []
    for account, outcome in zip(accounts, outcomes, strict=True):
        if isinstance(outcome.error, SymbolNotFound):
            raise LimitsUnavailable(f"{account.venue.label} does not list {symbol}")
        if isinstance(outcome.error, ExchangeError):
            raise LimitsUnavailable(f"{account.venue.label} limits could not be read: {outcome.error}")
        if outcome.error is not None:
            raise LimitsUnavailable(f"{account.venue.label} limits could not be read ({type(outcome.error).__name__})")
        results.append(outcome.value)
    return results

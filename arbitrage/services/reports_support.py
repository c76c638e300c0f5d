"""Live reads behind reports: both venues' public funding data, read in parallel.

Unlike pages (which read the ``MarketSnapshot`` table), operator tools want the venues' answer now.
"""

from __future__ import annotations

from arbitrage.services.clients import public_client
from arbitrage.services.parallel import run_parallel
from exchanges.base import FundingInfo, Venue
from exchanges.errors import ExchangeError


class MarketDataUnavailable(Exception):
    """A venue's public data could not be read; the message names the venue and the reason."""


def funding_info_both() -> dict[Venue, dict[str, FundingInfo]]:
    """Every listed symbol's funding info on each venue (one call per venue, both at once).

    The environment is ``settings.MARKET_DATA_ENVIRONMENT`` (see ``public_client``). Raises
    ``MarketDataUnavailable`` naming every venue that failed.
    """
    venues = list(Venue)
    outcomes = run_parallel(*[public_client(venue).all_funding_info for venue in venues])
    failures = []
    for venue, outcome in zip(venues, outcomes, strict=True):
        if isinstance(outcome.error, ExchangeError):
            failures.append(f"{venue.label}: {outcome.error}")
        elif outcome.error is not None:
            failures.append(f"{venue.label}: unexpected error ({type(outcome.error).__name__})")
    if failures:
        raise MarketDataUnavailable("funding rates could not be read: " + "; ".join(failures))
    return {venue: outcome.value for venue, outcome in zip(venues, outcomes, strict=True)}

"""One timing model per pair: the stricter of its two venues' settlement rules sets the lead, the open cutoff and
the hold (see ``exchanges/settlement.py``).

Operators may tighten a venue's rule in ``FUNDARB_SETTLEMENT``, never loosen it. ``EXECUTOR_TIME_SCALE`` shrinks
every rule for tests and the bench, and only for a pair whose accounts are both on the simulator: a real venue's
clock runs at its own pace.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from arbitrage.models import ExchangeAccount
from exchanges.base import Environment, Venue
from exchanges.settlement import SettlementPolicy, settlement_policy

# Between the trigger and the cutoff the two legs must also leave the machine: a little room besides the pacing.
LEAD_MARGIN_SECONDS = Decimal("0.5")


def time_scale(accounts: Iterable[ExchangeAccount]) -> float:
    scale = float(settings.FUNDARB_EXECUTOR["TIME_SCALE"])
    if scale != 1 and all(account.environment == Environment.SIMULATOR for account in accounts):
        return scale
    return 1.0


def venue_policy(venue: Venue, *, scale: float = 1.0) -> SettlementPolicy:
    """The venue's rule, tightened where the operator asked, on the given time scale."""
    policy = settlement_policy(venue)
    tighter = settings.FUNDARB_SETTLEMENT.get(venue.value, {})
    policy = dataclasses.replace(
        policy,
        min_lead=max(policy.min_lead, float(tighter.get("MIN_LEAD", 0))),
        lead_margin=max(policy.lead_margin, float(tighter.get("LEAD_MARGIN", 0))),
        min_hold=max(policy.min_hold, float(tighter.get("MIN_HOLD", 0))),
    )
    return policy.scaled(scale)


@dataclass(frozen=True)
class PairTiming:
    lead_policy: SettlementPolicy  # the venue whose rule sets the lead
    hold_policy: SettlementPolicy  # the venue whose rule sets the hold
    open_cutoff: float  # seconds before T: no open leaves later
    proof_bound: float  # seconds after T: the close waits no longer for the ledgers' proof of payment

    @property
    def min_lead(self) -> int:
        """The least lead a subscription may choose, in whole seconds: the ruling venue's default, and room to send
        both opens before the cutoff."""
        return math.ceil(max(self.lead_policy.default_lead, self.open_cutoff + float(LEAD_MARGIN_SECONDS)))

    @property
    def min_hold(self) -> int:
        return math.ceil(self.hold_policy.min_hold)

    def lead_refusal(self, lead: int) -> str:
        return f"{self.lead_policy.lead_rule}; lead must be at least {self.min_lead} s (you asked for {lead} s)."

    def hold_refusal(self, hold: int) -> str:
        return f"{self.hold_policy.hold_rule}; close after must be at least {self.min_hold} s (you asked for {hold} s)."


def pair_timing(*, primary: ExchangeAccount, hedge: ExchangeAccount) -> PairTiming:
    return timing_for(venues=(Venue(primary.exchange), Venue(hedge.exchange)), scale=time_scale((primary, hedge)))


def timing_for(*, venues: Iterable[Venue], scale: float = 1.0) -> PairTiming:
    """Plain values in, so the data migration can use it with historical models."""
    policies = [venue_policy(venue, scale=scale) for venue in venues]
    lead_policy = max(policies, key=lambda p: (p.default_lead, p.min_lead))
    hold_policy = max(policies, key=lambda p: p.min_hold)
    cutoff = max(float(settings.FUNDARB_EXECUTOR["OPEN_CUTOFF"]), *(p.min_lead for p in policies))
    bound = float(settings.FUNDARB_EXECUTOR["PROOF_BOUND"]) * scale
    return PairTiming(lead_policy=lead_policy, hold_policy=hold_policy, open_cutoff=cutoff, proof_bound=bound)


@dataclass(frozen=True)
class VenueFloor:
    venue: str
    lead_rule: str
    lead: int  # the least lead a pair with this venue may choose, in whole seconds
    hold: int


def venue_floors() -> list[VenueFloor]:
    """Each venue's floors on real venues' time, for the forms' help."""
    floors = []
    for venue in Venue:
        policy = venue_policy(venue)
        floors.append(
            VenueFloor(venue.label, policy.lead_rule, math.ceil(policy.default_lead), math.ceil(policy.min_hold))
        )
    return floors

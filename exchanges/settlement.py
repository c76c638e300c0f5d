"""Each venue's rule for which positions count at a funding settlement, and how it proves it paid (notes §16).

These are the venues' published rules, not tuning: an operator may tighten them (settings), never loosen them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from exchanges.base import Venue


@dataclass(frozen=True)
class SettlementPolicy:
    venue: Venue
    min_lead: float  # seconds: a position opened later than this before T may not count
    lead_margin: float  # seconds added on top by default, for the venue's own delays
    min_hold: float  # seconds after T a position must stay open when payment cannot be proven sooner
    proof: str  # the ledger row that proves the payment
    lead_text: str  # the lead rule in a trader's words ({lead}: min_lead in seconds)
    hold_text: str  # the hold rule ({hold}: min_hold in seconds)

    @property
    def default_lead(self) -> float:
        return self.min_lead + self.lead_margin

    @property
    def lead_rule(self) -> str:
        return self.lead_text.format(lead=_seconds(self.min_lead))

    @property
    def hold_rule(self) -> str:
        return self.hold_text.format(hold=_seconds(self.min_hold))

    def scaled(self, factor: float) -> SettlementPolicy:
        """The same rule on a clock that runs ``factor`` times as fast (simulator tests and the bench)."""
        if factor == 1:
            return self
        return dataclasses.replace(
            self,
            min_lead=self.min_lead * factor,
            lead_margin=self.lead_margin * factor,
            min_hold=self.min_hold * factor,
        )


# Bybit help centre, "Funding Fee Calculation": only positions held at the funding timestamp pay or receive.
# Hummingbot's connector allows 5 s either side (FUNDING_SETTLEMENT_DURATION = (5, 5)).
BYBIT = SettlementPolicy(
    venue=Venue.BYBIT,
    min_lead=5,
    lead_margin=1,
    min_hold=5,
    proof="the SETTLEMENT row of the transaction log",
    lead_text="Bybit counts positions held at the funding timestamp (allow {lead} s before it)",
    hold_text="Bybit counts positions held at the funding timestamp (allow {hold} s after it)",
)

# BingX help centre, "Perpetual Futures | Fee Schedule" (article 360046487573): orders placed within 30 s before
# settlement may not be counted; settlement may run up to a minute late, and positions closed meanwhile may not
# be paid. BingX also reserves action against trades held under a minute.
BINGX = SettlementPolicy(
    venue=Venue.BINGX,
    min_lead=30,
    lead_margin=15,
    min_hold=60,
    proof="the FUNDING_FEE row of the income history",
    lead_text="BingX counts only positions opened at least {lead} s before settlement",
    hold_text="BingX may settle up to a minute late and not pay positions closed meanwhile (hold at least {hold} s)",
)


def _seconds(value: float) -> str:
    return f"{value:g}"


POLICIES = {Venue.BYBIT: BYBIT, Venue.BINGX: BINGX}


def settlement_policy(venue: Venue) -> SettlementPolicy:
    return POLICIES[venue]

"""What one stage knows about one execution: its accounts, its timeline and its two legs.

The timeline (all on the primary venue's clock): preflight, then the leverage sync, then the trigger at T - lead,
then the close at T + close delay. ``Plan.local`` turns a venue time into the local clock reading.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings

from arbitrage.models import ExchangeAccount, Execution, Installation, LegRole, Order, OrderAction, Subscription
from arbitrage.services.clients import client_for_account
from arbitrage.services.events import event_record
from arbitrage.services.timing import PairTiming, pair_timing
from exchanges.base import ExchangeClient, PositionMode, PositionSide, Side


def cfg(name: str):
    return settings.FUNDARB_EXECUTOR[name]


def sync_time(*, funding_time: datetime, lead_seconds: int) -> datetime:
    """The leverage sync: SYNC_BEFORE ahead of T, and always at least SYNC_MIN_GAP before the trigger."""
    return min(
        funding_time - timedelta(seconds=cfg("SYNC_BEFORE")),
        funding_time - timedelta(seconds=lead_seconds + cfg("SYNC_MIN_GAP")),
    )


def deadline_after(at: datetime) -> datetime:
    """When the reconciler may take over a stage that should have ended at ``at``."""
    return at + timedelta(seconds=cfg("RECONCILE_GRACE"))


@dataclass(frozen=True)
class Leg:
    """One side of the pair: which account holds it, which way it was opened, and the most it may ever hold."""

    role: str
    account: ExchangeAccount
    side: Side  # the opening side
    cap: Decimal

    @property
    def position_side(self) -> PositionSide:
        return PositionSide.opened_by(self.side)

    @property
    def label(self) -> str:
        return f"{self.role} leg on {self.account.venue.label}"


@dataclass
class Plan:
    execution: Execution
    subscription: Subscription
    primary: ExchangeAccount
    hedge: ExchangeAccount
    token: str = ""  # the owner token (Execution.driver_token) this stage works under
    modes: dict[int, PositionMode] = field(default_factory=dict)
    primary_offset: float = 0.0  # seconds: venue clock minus local clock
    side: Side | None = None
    quantity: Decimal | None = None
    orders: dict[tuple[str, str, int], Order] = field(default_factory=dict)

    @property
    def pk(self) -> int:
        return self.execution.pk

    @property
    def funding_time(self) -> datetime:
        return self.execution.funding_time

    @property
    def trigger_at(self) -> datetime:
        return self.funding_time - timedelta(seconds=self.execution.lead_seconds)

    @property
    def sync_at(self) -> datetime:
        return sync_time(funding_time=self.funding_time, lead_seconds=self.execution.lead_seconds)

    @property
    def preflight_at(self) -> datetime:
        return self.sync_at - timedelta(seconds=cfg("PREFLIGHT_BEFORE_SYNC"))

    @property
    def close_at(self) -> datetime:
        return self.funding_time + timedelta(seconds=self.execution.close_delay_seconds)

    @property
    def proof_bound_at(self) -> datetime:
        """The latest the close waits for the ledgers to prove the funding was paid (never before the hold ends)."""
        return self.funding_time + timedelta(seconds=max(self.execution.close_delay_seconds, self.timing.proof_bound))

    @property
    def open_cutoff(self) -> datetime:
        """No order that opens or grows a leg leaves later than this (venue time)."""
        return self.funding_time - timedelta(seconds=self.timing.open_cutoff)

    @functools.cached_property
    def timing(self) -> PairTiming:
        return pair_timing(primary=self.primary, hedge=self.hedge)

    def local(self, venue_time: datetime) -> float:
        """Local clock reading (epoch seconds) at which the primary venue's clock shows ``venue_time``."""
        return venue_time.timestamp() - self.primary_offset

    def client(self, account: ExchangeAccount) -> ExchangeClient:
        return client_for_account(account)

    def account_of(self, order: Order) -> ExchangeAccount:
        return self.primary if order.account_id == self.primary.pk else self.hedge

    def mode_of(self, account: ExchangeAccount) -> PositionMode:
        mode = self.modes.get(account.pk)
        if mode is None:
            mode = self.modes[account.pk] = self.client(account).position_mode(self.execution.symbol)
        return mode

    def legs(self) -> list[Leg]:
        """Both legs, from the preflight's decision or, after a restart, from the stored execution."""
        side = self.side or (Side(self.execution.primary_side) if self.execution.primary_side else None)
        assert side is not None, "the legs are known once preflight chose a side"
        cap = self.open_quantity()
        return [
            Leg(role=LegRole.PRIMARY, account=self.primary, side=side, cap=cap),
            Leg(role=LegRole.HEDGE, account=self.hedge, side=side.opposite, cap=cap),
        ]

    def open_quantity(self) -> Decimal:
        """The quantity each open order asked for: the most either leg may ever hold."""
        opens = Order.objects.filter(execution_id=self.pk, action=OrderAction.OPEN).values_list("quantity", flat=True)
        return max(opens, default=None) or self.quantity or self.execution.quantity or Decimal(0)

    def record(self, **kwargs) -> None:
        event_record(execution_id=self.pk, **kwargs)


def plan_for(execution: Execution, *, token: str = "") -> Plan:
    subscription = execution.subscription
    return Plan(
        execution=execution,
        subscription=subscription,
        primary=subscription.primary_account,
        hedge=subscription.hedge_account,
        token=token or execution.driver_token,
        side=Side(execution.primary_side) if execution.primary_side else None,
        quantity=execution.quantity,
    )


# Letters and digits only, because BingX documents no character set for clientOrderId (notes §14). Without a
# separator the fields are fixed-width instead, so no two (prefix, execution, leg, action, attempt) share an id.
_PREFIX_LENGTH = 6
_EXECUTION_DIGITS = 13  # base36 digits of the largest BigAutoField id, 2**63 - 1
_ORDER_PREFIX = re.compile(rf"[a-z0-9]{{{_PREFIX_LENGTH}}}")


def client_order_id(*, execution_id: int, role: str, action: str, attempt: int) -> str:
    """Deterministic lowercase letters and digits, at most 28 of the venues' 36: ``fa``, the installation prefix
    (6), the execution id in base36 zero-padded to 13, then leg, action and attempt (``p``/``h``, ``o``/``c``/``u``,
    up to 5 digits)."""
    return f"fa{_order_prefix()}{_base36(execution_id).rjust(_EXECUTION_DIGITS, '0')}{role[0]}{action[0]}{attempt}"


@functools.cache
def _order_prefix() -> str:
    prefix = Installation.current().order_prefix
    # The model allows shorter or other text; a shorter prefix would let two installations' ids run into each other.
    if not _ORDER_PREFIX.fullmatch(prefix):
        raise ValueError(
            f"the installation's order prefix {prefix!r} must be {_PREFIX_LENGTH} lowercase letters or digits"
        )
    return prefix


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text

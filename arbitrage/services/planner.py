"""Arming: the only path by which executions come to exist.

Every minute the planner reads each active subscription's next funding instant from its primary venue
(``nextFundingTime``, never "last + interval") and creates the ``Execution`` for instants within ``ARM_AHEAD``.
The unique (subscription, instant) constraint makes a second planner run, or a second cluster, harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef

from arbitrage.models import Execution, ExecutionStatus, Installation, KillSwitch, Subscription, SubscriptionStatus
from arbitrage.services import clock
from arbitrage.services.clients import client_for_account
from arbitrage.services.plan import sync_time
from arbitrage.services.timing import pair_timing
from arbitrage.services.transitions import subscription_fail
from arbitrage.services.venue_targets import accounts_target_problem
from exchanges.errors import ExchangeError

logger = logging.getLogger(__name__)


def _cfg(name: str) -> float:
    return settings.FUNDARB_EXECUTOR[name]


def subscriptions_armable():
    halted_owner = KillSwitch.objects.filter(user_id=OuterRef("owner_id"), engaged=True)
    return (
        Subscription.objects.filter(status=SubscriptionStatus.ACTIVE)
        .exclude(Exists(halted_owner))
        .select_related("primary_account", "hedge_account")
    )


def executions_plan() -> list[datetime]:
    """Create the executions due within the arming horizon; return the instants that got new ones."""
    if Installation.current().trading_halted:
        return []
    now = clock.now()
    horizon = now + timedelta(seconds=_cfg("ARM_AHEAD"))
    # The next funding instant is public and the same for every account on one venue endpoint: ask once per venue
    # endpoint and symbol, not once per account (a thousand subscriptions must not mean a thousand round trips).
    funding: dict[tuple[str, str, str, str], datetime | None] = {}
    candidates: list[Execution] = []
    subscriptions = list(subscriptions_armable())
    once_done = set(
        Execution.objects.filter(subscription__in=[s for s in subscriptions if not s.recurring]).values_list(
            "subscription_id", flat=True
        )
    )
    for subscription in subscriptions:
        if subscription.pk in once_done:
            continue
        # Checked before the funding-time read below: a refused account's URL is not contacted at all.
        problem = accounts_target_problem((subscription.primary_account, subscription.hedge_account))
        if problem:
            subscription_fail(subscription, problem)
            continue
        primary = subscription.primary_account
        key = (primary.exchange, primary.environment, primary.base_url, subscription.symbol)
        if key not in funding:
            try:
                info = client_for_account(primary).funding_info(subscription.symbol)
                funding[key] = info.next_funding_time
            except ExchangeError as exc:
                venue = primary.venue.label
                logger.warning("planner: no funding time for %s on %s: %s", subscription.symbol, venue, exc)
                funding[key] = None
        instant = funding[key]
        if instant is None or instant > horizon:
            continue
        # A subscription stored before a venue's rule was known (or tightened) still trades by the rule.
        timing = pair_timing(primary=primary, hedge=subscription.hedge_account)
        lead = max(subscription.lead_seconds, timing.min_lead)
        hold = max(subscription.close_delay_seconds, timing.min_hold)
        # Preflight needs a moment before the sync: half of its usual head start is the least we accept.
        sync_at = sync_time(funding_time=instant, lead_seconds=lead)
        latest_arming = sync_at - timedelta(seconds=_cfg("PREFLIGHT_BEFORE_SYNC") / 2)
        if now > latest_arming:
            continue  # too close to act safely: the next instant is armed instead
        candidates.append(
            Execution(
                subscription=subscription,
                owner_id=subscription.owner_id,
                funding_time=instant,
                status=ExecutionStatus.PLANNED,
                status_changed_at=now,
                deadline_at=instant + timedelta(seconds=_cfg("RECONCILE_GRACE")),
                symbol=subscription.symbol,
                primary_venue=subscription.primary_account.exchange,
                hedge_venue=subscription.hedge_account.exchange,
                leverage=subscription.leverage,
                lead_seconds=lead,
                close_delay_seconds=hold,
            )
        )
    if not candidates:
        return []
    existing = set(
        Execution.objects.filter(
            subscription_id__in=[c.subscription_id for c in candidates],
            funding_time__in={c.funding_time for c in candidates},
        ).values_list("subscription_id", "funding_time")
    )
    new = [c for c in candidates if (c.subscription_id, c.funding_time) not in existing]
    # ignore_conflicts: a concurrent planner that got there first wins; the constraint keeps one row.
    Execution.objects.bulk_create(new, ignore_conflicts=True)
    instants = sorted({c.funding_time for c in new})
    if instants:
        logger.info("armed %d execution(s) for %s", len(new), ", ".join(i.isoformat() for i in instants))
    return instants

"""The demo `make run` shows: a user, an account on each simulated venue, and a subscription that trades.

Its login (``demo`` / ``fundarb-demo``) is published in the README, so it exists only in demo mode: ``demo_seed``
refuses outside it, and ``demo_login_guard`` disables a ``demo`` user still carrying that password when a server
or the workers start with demo mode off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.db import transaction

from arbitrage.models import AuditAction, ExchangeAccount, Subscription
from arbitrage.services.accounts import account_create
from arbitrage.services.audit import Actor, audit_record
from arbitrage.services.snapshot import market_snapshot_refresh
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create
from exchanges.base import Venue
from exchanges.simulator import SimulatorControl

logger = logging.getLogger(__name__)
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "fundarb-demo"
DEMO_SYMBOL = "ETHUSDT"
# A "hot" market: Bybit pays 0.35% per interval, enough to beat four taker fees (about 0.21%), so the demo trades
# (real venues see such rates in squeezes). The other markets drift within +/-0.1% and mostly get skipped.
DEMO_HOT_RATE = Decimal("0.0035")


@dataclass(frozen=True)
class DemoSeed:
    username: str
    password_hint: str
    created: bool
    subscription_id: int


class DemoModeOff(Exception):
    pass


def demo_credentials(venue: Venue) -> tuple[str, str]:
    return f"demo-{venue.value}-key", f"{settings.DEMO_SIMULATOR_SECRET}-{venue.value}"


def demo_seed() -> DemoSeed:
    """In demo mode, create the demo user once (a password the user has since changed is left alone), its accounts
    on the simulator and its subscription. Outside demo mode, raise ``DemoModeOff`` and create nothing."""
    if not settings.DEMO_SIMULATOR:
        raise DemoModeOff("the demo exists only in demo mode (DEMO_SIMULATOR=true); nothing was created")
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@localhost"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    hint = DEMO_PASSWORD if created else f"{DEMO_PASSWORD} (unless you changed it)"
    subscription_id = _demo_trading(user)
    return DemoSeed(username=DEMO_USERNAME, password_hint=hint, created=created, subscription_id=subscription_id)


def _demo_trading(user) -> int:
    control = SimulatorControl(settings.SIMULATOR_URL)
    accounts = {}
    for venue in Venue:
        key, secret = demo_credentials(venue)
        control.add_account(venue.value, key, secret)  # idempotent: balances and positions survive restarts
        label = f"Demo {venue.label}"
        accounts[venue] = ExchangeAccount.objects.filter(owner=user, label=label).first() or account_create(
            owner=user,
            exchange=venue.value,
            label=label,
            api_key=key,
            api_secret=secret,
            environment="simulator",
        )
    control.set_funding_rate(DEMO_SYMBOL, Venue.BYBIT.value, DEMO_HOT_RATE, mean=DEMO_HOT_RATE)
    market_snapshot_refresh()
    existing = Subscription.objects.filter(owner=user, symbol=DEMO_SYMBOL).first()
    if existing is not None:
        return existing.pk
    subscription = subscription_create(
        owner=user,
        data=SubscriptionInput(
            symbol=DEMO_SYMBOL,
            primary_account=accounts[Venue.BYBIT],
            hedge_account=accounts[Venue.BINGX],
            quantity=Decimal("0.5"),
            leverage=3,
            min_edge_bps=Decimal("5"),
        ),
    )
    return subscription.pk


def demo_login_guard() -> bool:
    """Outside demo mode, disable a ``demo`` user whose password is the published one, with one warning in the log.

    True when this call disabled it. A compare-and-set, so of several processes starting at once one logs.
    """
    if settings.DEMO_SIMULATOR:
        return False
    users = get_user_model()._default_manager
    user = users.filter(**{get_user_model().USERNAME_FIELD: DEMO_USERNAME}, is_active=True).first()
    # hashers.check_password, not user.check_password: no hash upgrade is saved for a password about to be refused.
    if user is None or not check_password(DEMO_PASSWORD, user.password):
        return False
    if not users.filter(pk=user.pk, is_active=True).update(is_active=False):
        return False
    audit_record(actor=Actor.SYSTEM, action=AuditAction.DEMO_LOGIN_DISABLED, obj=user, detail="demo mode is off")
    logger.warning(
        "demo mode is off: disabled user %r, whose password is the published demo password; give it another "
        "password and re-activate it in the admin, or delete it",
        DEMO_USERNAME,
    )
    return True


def demo_login_guard_at_start(process: str) -> None:
    """The guard as the web server, the workers and run_stack call it when they start. A failure (say, a database
    not migrated yet) is logged and never stops the start: the workers may have positions to close."""
    try:
        demo_login_guard()
    except Exception:
        logger.exception("the demo login check failed while the %s started; starting anyway", process)

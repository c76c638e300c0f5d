"""The demo `make run` shows: a user, an account on each simulated venue, and a subscription that trades."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from arbitrage.models import ExchangeAccount, Subscription
from arbitrage.services.accounts import account_create
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
    subscription_id: int | None = None


def demo_credentials(venue: Venue) -> tuple[str, str]:
    return f"demo-{venue.value}-key", f"{settings.DEMO_SIMULATOR_SECRET}-{venue.value}"


def demo_seed() -> DemoSeed:
    """Create the demo user once (a password the user has since changed is left alone) and, when the demo
    simulator is configured, its accounts and subscription there."""
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@localhost"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    hint = DEMO_PASSWORD if created else f"{DEMO_PASSWORD} (unless you changed it)"
    subscription_id = _demo_trading(user) if settings.DEMO_SIMULATOR else None
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

"""Web fixtures: logged-in clients, market data from the simulator, and alice's and bob's rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from arbitrage.models import Execution, ExecutionEvent, ExecutionStatus, Notice, Order, Subscription
from arbitrage.services.pnl import execution_pnl_record
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create
from tests.conftest import make_sim_account

# The secrets make_sim_account gives each user's accounts: no page may ever contain them.
SECRETS = ("alice-bybit-secret-main", "alice-bingx-secret-main", "bob-bybit-secret-main", "bob-bingx-secret-main")
KEYS = ("alice-bybit-main-key", "alice-bingx-main-key", "bob-bybit-main-key", "bob-bingx-main-key")


def assert_no_secrets(response) -> None:
    html = response.content.decode()
    for value in SECRETS + KEYS:
        assert value not in html, f"{value!r} leaked into {response.request['PATH_INFO']}"


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def market(settings, venue_sim):
    """MarketSnapshot rows read from the simulator, as the periodic task would write them."""
    from arbitrage.services.clients import forget_clients
    from arbitrage.services.snapshot import market_snapshot_refresh

    settings.MARKET_DATA_ENVIRONMENT = "simulator"
    forget_clients()
    assert market_snapshot_refresh() > 0
    return venue_sim


def subscribe(owner, primary, hedge, *, symbol: str = "BTCUSDT", quantity: str = "0.01", **extra) -> Subscription:
    data = SubscriptionInput(
        symbol=symbol, primary_account=primary, hedge_account=hedge, quantity=Decimal(quantity), **extra
    )
    return subscription_create(owner=owner, data=data)


@pytest.fixture
def subscription(sim_accounts, user) -> Subscription:
    bybit, bingx = sim_accounts
    return subscribe(user, bybit, bingx)


def make_execution(subscription: Subscription, *, minutes: float = -60, status=ExecutionStatus.COMPLETED, **fields):
    """An execution as the planner arms it; P&L given here is recorded the way the executor records it (with the
    owner's running totals)."""
    now = timezone.now()
    pnl = {name: fields.pop(name, None) for name in ("pnl_funding", "pnl_fees", "pnl_price")}
    final = fields.pop("pnl_final", False)
    defaults = {
        "subscription": subscription,
        "owner_id": subscription.owner_id,
        "funding_time": now + timedelta(minutes=minutes),
        "status": status,
        "status_changed_at": now,
        "deadline_at": now + timedelta(minutes=minutes + 5),
        "symbol": subscription.symbol,
        "primary_venue": subscription.primary_account.exchange,
        "hedge_venue": subscription.hedge_account.exchange,
        "primary_side": "sell",
        "quantity": subscription.quantity,
        "leverage": subscription.leverage,
        "lead_seconds": subscription.lead_seconds,
        "close_delay_seconds": subscription.close_delay_seconds,
        "primary_rate": Decimal("0.0003"),
        "hedge_rate": Decimal("0.0001"),
        "expected_edge_bps": Decimal("1.25"),
    }
    defaults.update(fields)
    execution = Execution.objects.create(**defaults)
    if any(value is not None for value in pnl.values()) or final:
        execution_pnl_record(
            execution_id=execution.pk, funding=pnl["pnl_funding"], fees=pnl["pnl_fees"], price=pnl["pnl_price"],
            final=final,
        )  # fmt: skip
        execution.refresh_from_db()
    return execution


def add_legs(execution: Execution, prefix: str = "fa") -> list[Order]:
    """An open and a close order on each leg, and a timeline around T."""
    sub = execution.subscription
    T = execution.funding_time
    orders = []
    for role, account, side in (("primary", sub.primary_account, "sell"), ("hedge", sub.hedge_account, "buy")):
        for action, offset in (("open", -5), ("close", 10)):
            orders.append(
                Order.objects.create(
                    execution=execution,
                    role=role,
                    action=action,
                    venue=account.exchange,
                    account=account,
                    symbol=execution.symbol,
                    side=side,
                    quantity=execution.quantity,
                    client_order_id=f"{prefix}-{execution.pk}-{role[0]}{action[0]}1",
                    exchange_order_id=f"x{execution.pk}{role[0]}{action[0]}",
                    status="filled",
                    filled_quantity=execution.quantity,
                    avg_price=Decimal("65000.5"),
                    fee=Decimal("0.357"),
                    sent_at=T + timedelta(seconds=offset),
                    acked_at=T + timedelta(seconds=offset, milliseconds=37),
                )
            )
    ExecutionEvent.objects.create(
        execution=execution,
        at=T - timedelta(seconds=30, milliseconds=4),
        step="leverage_set",
        outcome="ok",
        venue="bybit",
        duration_ms=Decimal("48.2"),
    )
    ExecutionEvent.objects.create(
        execution=execution, at=T + timedelta(milliseconds=120), step="funding", outcome="failed", detail="late"
    )
    return orders


@pytest.fixture
def execution(subscription) -> Execution:
    execution = make_execution(
        subscription,
        pnl_funding=Decimal("2.1"),
        pnl_fees=Decimal("-0.7"),
        pnl_price=Decimal("-0.3"),
        pnl_final=True,
    )
    add_legs(execution)
    return execution


@pytest.fixture
def bob_objects(venue_sim, other_user):
    """bob's accounts, subscription, execution with orders and events, and notice: alice must reach none."""
    bybit = make_sim_account(venue_sim, other_user, "bybit")
    bingx = make_sim_account(venue_sim, other_user, "bingx")
    subscription = subscribe(other_user, bybit, bingx, symbol="ETHUSDT", quantity="0.1")
    execution = make_execution(subscription, pnl_funding=Decimal("1"))
    add_legs(execution, prefix="bob")
    notice = Notice.objects.create(user=other_user, message="bob's notice", execution=execution)
    return {"bybit": bybit, "bingx": bingx, "subscription": subscription, "execution": execution, "notice": notice}

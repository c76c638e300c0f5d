"""Migration 0009 copies each execution's owner from its subscription and sums the P&L already recorded into the
running totals, per owner and UTC day of the funding instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F

BEFORE = [("arbitrage", "0008_funding_payments")]
AFTER = [("arbitrage", "0009_execution_owner_pnl_totals")]
T = datetime(2026, 11, 24, 16, tzinfo=UTC)

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _seed(old, owner, symbol: str, pnl: list[tuple[timedelta, str | None, str | None, str | None]]):
    Account, Subscription = old.get_model("arbitrage", "ExchangeAccount"), old.get_model("arbitrage", "Subscription")
    Execution = old.get_model("arbitrage", "Execution")
    bybit, bingx = (
        Account.objects.create(
            owner_id=owner.pk,
            exchange=exchange,
            label=f"{exchange} {symbol}",
            api_key="k",
            api_secret="s",
            key_fingerprint=f"{owner.username}-{exchange}-{symbol}",
        )  # fmt: skip
        for exchange in ("bybit", "bingx")
    )
    subscription = Subscription.objects.create(
        owner_id=owner.pk, symbol=symbol, primary_account=bybit, hedge_account=bingx, quantity=Decimal("0.01")
    )
    for offset, funding, fees, price in pnl:
        at = T + offset
        Execution.objects.create(
            subscription=subscription, funding_time=at, status="completed", status_changed_at=at, deadline_at=at,
            symbol=symbol, primary_venue="bybit", hedge_venue="bingx", leverage=3, lead_seconds=45,
            close_delay_seconds=60, pnl_funding=funding, pnl_fees=fees, pnl_price=price,
        )  # fmt: skip
    return subscription


def test_owners_are_copied_and_recorded_pnl_is_summed_per_owner_and_day(django_user_model):
    """Two owners, executions either side of midnight UTC and one without P&L: every row gets its subscription's
    owner, and each (owner, day) total holds that day's sums and count."""
    old = _migrate(BEFORE)
    try:
        ann, ben = (django_user_model.objects.create(username=name) for name in ("ann", "ben"))
        h = timedelta(hours=1)
        _seed(
            old,
            ann,
            "BTCUSDT",
            [(0 * h, "1.5", "-0.25", "0.1"), (8 * h, "2", "-0.5", None), (16 * h, None, None, None)],
        )
        _seed(old, ann, "ETHUSDT", [(0 * h, "0.5", "-0.125", "-0.2")])
        _seed(old, ben, "BTCUSDT", [(8 * h, "3", None, "0.05")])
        new = _migrate(AFTER)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    Execution, PnlTotal = new.get_model("arbitrage", "Execution"), new.get_model("arbitrage", "PnlTotal")
    assert Execution.objects.count() == 5
    assert not Execution.objects.exclude(owner_id=F("subscription__owner_id")).exists()
    totals = {
        (row.owner_id, row.day): (row.executions, row.funding, row.fees, row.price) for row in PnlTotal.objects.all()
    }
    assert totals == {
        (ann.pk, date(2026, 11, 24)): (2, Decimal("2"), Decimal("-0.375"), Decimal("-0.1")),
        (ann.pk, date(2026, 11, 25)): (1, Decimal("2"), Decimal("-0.5"), Decimal("0")),
        (ben.pk, date(2026, 11, 25)): (1, Decimal("3"), Decimal("0"), Decimal("0.05")),
    }

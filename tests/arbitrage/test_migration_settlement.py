"""Migration 0007 raises subscriptions stored before the venues' settlement rules to their pair's floor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("arbitrage", "0006_position_truth")]
AFTER = [("arbitrage", "0007_settlement_timing")]

pytestmark = pytest.mark.django_db(transaction=True)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_stored_subscriptions_are_raised_to_the_rule_with_one_notice_per_owner(django_user_model):
    old = _migrate(BEFORE)
    try:
        Account, Subscription = (
            old.get_model("arbitrage", "ExchangeAccount"),
            old.get_model("arbitrage", "Subscription"),
        )
        owners = [django_user_model.objects.create(username=name) for name in ("ann", "ben")]
        rows = {}
        for owner in owners:
            bybit, bingx = (
                Account.objects.create(
                    owner_id=owner.pk,
                    exchange=exchange,
                    label=exchange,
                    api_key="k",
                    api_secret="s",
                    key_fingerprint=f"{owner.username}-{exchange}",
                )  # fmt: skip
                for exchange in ("bybit", "bingx")
            )
            for symbol, lead, hold in (("BTCUSDT", 5, 10), ("ETHUSDT", 50, 10)):
                rows[owner.username, symbol] = Subscription.objects.create(
                    owner_id=owner.pk, symbol=symbol, primary_account=bingx, hedge_account=bybit,
                    quantity=Decimal("0.01"), lead_seconds=lead, close_delay_seconds=hold,
                )  # fmt: skip
        new = _migrate(AFTER)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    Subscription, Notice = new.get_model("arbitrage", "Subscription"), new.get_model("arbitrage", "Notice")
    timing = {row.pk: (row.lead_seconds, row.close_delay_seconds) for row in Subscription.objects.all()}
    assert timing[rows["ann", "BTCUSDT"].pk] == (45, 60)
    assert timing[rows["ann", "ETHUSDT"].pk] == (50, 60)  # a longer lead than the rule stays
    for owner in owners:
        (notice,) = Notice.objects.filter(user_id=owner.pk)
        assert "T-5 s -> T-45 s" in notice.message and "T+10 s -> T+60 s" in notice.message

"""The planner: the only arming path, reading the next instant from the primary venue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arbitrage.models import Execution
from arbitrage.services.planner import executions_plan
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create
from exchanges.bybit import BybitClient
from tests.conftest import make_sim_account

pytestmark = pytest.mark.django_db


def test_planner_asks_each_venue_once_per_symbol_however_many_accounts(venue_sim, django_user_model, monkeypatch):
    """Three users, three primary accounts on one venue and symbol: one funding read, three executions armed for
    the venue's nextFundingTime."""
    calls = []
    original = BybitClient.funding_info

    def counted(self, symbol):
        calls.append(symbol)
        return original(self, symbol)

    monkeypatch.setattr(BybitClient, "funding_info", counted)
    for name in ("ann", "ben", "cid"):
        owner = django_user_model.objects.create_user(name)
        subscription_create(
            owner=owner,
            data=SubscriptionInput(
                symbol="ETHUSDT",
                primary_account=make_sim_account(venue_sim, owner, "bybit"),
                hedge_account=make_sim_account(venue_sim, owner, "bingx"),
                quantity=Decimal("0.5"),
            ),
            check_live_limits=False,
        )
    venue_sim.set_next_funding("ETHUSDT", "bybit", in_seconds=120)

    (instant,) = executions_plan()

    assert calls == ["ETHUSDT"]
    assert Execution.objects.filter(funding_time=instant).count() == 3
    assert executions_plan() == []  # armed once: a second run creates nothing


def test_planned_executions_belong_to_their_subscriptions_owner(venue_sim, django_user_model):
    """The planner copies each subscription's owner onto its execution: the pages find a user's executions by that
    column alone, so it must never disagree with the subscription."""
    owners = [django_user_model.objects.create_user(name) for name in ("ann", "ben")]
    for owner in owners:
        subscription_create(
            owner=owner,
            data=SubscriptionInput(
                symbol="ETHUSDT",
                primary_account=make_sim_account(venue_sim, owner, "bybit"),
                hedge_account=make_sim_account(venue_sim, owner, "bingx"),
                quantity=Decimal("0.5"),
            ),
            check_live_limits=False,
        )
    venue_sim.set_next_funding("ETHUSDT", "bybit", in_seconds=120)

    executions_plan()

    rows = list(Execution.objects.values_list("owner_id", "subscription__owner_id"))
    assert len(rows) == 2
    assert all(owner == subscription_owner for owner, subscription_owner in rows)
    assert sorted(owner for owner, _ in rows) == sorted(o.pk for o in owners)

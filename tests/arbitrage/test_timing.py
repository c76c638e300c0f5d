"""The venues' settlement rules set each pair's lead, open cutoff and hold; nothing below them is accepted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from arbitrage.models import Execution, Subscription
from arbitrage.services import clock
from arbitrage.services.accounts import account_create
from arbitrage.services.planner import executions_plan
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create, subscription_resume
from arbitrage.services.timing import pair_timing, time_scale

pytestmark = pytest.mark.django_db


def _accounts(owner, environment: str):
    return [
        account_create(
            owner=owner,
            exchange=exchange,
            label=f"{exchange} {environment}",
            api_key=f"{exchange}-{environment}-key",
            api_secret="secret",
            environment=environment,
        )  # fmt: skip
        for exchange in ("bybit", "bingx")
    ]


@pytest.fixture
def mainnet(user):
    return _accounts(user, "mainnet")


def _subscribe(owner, primary, hedge, **fields) -> Subscription:
    data = SubscriptionInput(symbol="BTCUSDT", primary_account=primary, hedge_account=hedge, quantity=Decimal("0.01"))
    return subscription_create(
        owner=owner, data=SubscriptionInput(**{**data.__dict__, **fields}), check_live_limits=False
    )


def test_a_bingx_pair_on_real_venues_opens_45_s_ahead_and_holds_a_minute(user, mainnet):
    bybit, bingx = mainnet
    for primary, hedge in ((bingx, bybit), (bybit, bingx)):  # BingX sets the pace whichever role it plays
        timing = pair_timing(primary=primary, hedge=hedge)
        assert (timing.min_lead, timing.min_hold, timing.open_cutoff) == (45, 60, 30.0)
    subscription = _subscribe(user, bingx, bybit)
    assert (subscription.lead_seconds, subscription.close_delay_seconds) == (45, 60)


def test_a_lead_below_bingx_rule_is_refused_naming_the_venue_and_its_rule(user, mainnet):
    bybit, bingx = mainnet
    with pytest.raises(ValidationError) as refused:
        _subscribe(user, bingx, bybit, lead_seconds=5)
    (message,) = refused.value.message_dict["lead_seconds"]
    assert message.startswith(
        "BingX counts only positions opened at least 30 s before settlement; lead must be at least 45 s"
    )
    with pytest.raises(ValidationError) as refused:
        _subscribe(user, bingx, bybit, close_delay_seconds=10)
    (message,) = refused.value.message_dict["close_delay_seconds"]
    assert "BingX may settle up to a minute late" in message and "at least 60 s" in message
    assert not Subscription.objects.exists()


def test_operators_may_tighten_a_venue_rule_never_loosen_it(user, mainnet, settings):
    bybit, bingx = mainnet
    settings.FUNDARB_SETTLEMENT = {"bingx": {"MIN_LEAD": 40, "MIN_HOLD": 90}, "bybit": {"MIN_LEAD": 1, "MIN_HOLD": 1}}
    timing = pair_timing(primary=bybit, hedge=bingx)
    assert (timing.min_lead, timing.min_hold, timing.open_cutoff) == (55, 90, 40.0)
    settings.FUNDARB_SETTLEMENT = {"bingx": {"MIN_LEAD": 10, "LEAD_MARGIN": 0, "MIN_HOLD": 5}}
    timing = pair_timing(primary=bybit, hedge=bingx)
    assert (timing.min_lead, timing.min_hold, timing.open_cutoff) == (45, 60, 30.0)


def test_the_time_scale_applies_only_when_both_accounts_are_on_the_simulator(
    user, mainnet, simulator_nowhere, settings
):
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "OPEN_CUTOFF": 0.1}
    scale = time_scale([])
    assert scale < 1, "the suite runs on a shrunk time scale (tests/settings.py)"
    bybit_sim, bingx_sim = _accounts(user, "simulator")
    bybit, _ = mainnet
    assert pair_timing(primary=bybit_sim, hedge=bingx_sim).open_cutoff == pytest.approx(30 * scale)
    assert pair_timing(primary=bybit, hedge=bingx_sim).open_cutoff == 30.0  # one real venue: real time


def test_resume_and_the_planner_hold_a_stored_subscription_to_the_rule(user, mainnet, monkeypatch):
    bybit, bingx = mainnet
    subscription = _subscribe(user, bingx, bybit)
    Subscription.objects.filter(pk=subscription.pk).update(lead_seconds=5, close_delay_seconds=10, status="paused")
    subscription.refresh_from_db()
    with pytest.raises(ValidationError, match="lead must be at least 45 s"):
        subscription_resume(subscription=subscription)

    Subscription.objects.filter(pk=subscription.pk).update(status="active")
    monkeypatch.setattr("arbitrage.services.planner.client_for_account", lambda account: _FundingIn(150))
    executions_plan()
    execution = Execution.objects.get(subscription=subscription)
    assert (execution.lead_seconds, execution.close_delay_seconds) == (45, 60)


class _FundingIn:
    """A venue whose next funding instant is ``seconds`` away."""

    def __init__(self, seconds: float) -> None:
        self.instant = clock.now() + timedelta(seconds=seconds)

    def funding_info(self, symbol: str) -> SimpleNamespace:
        return SimpleNamespace(next_funding_time=self.instant)

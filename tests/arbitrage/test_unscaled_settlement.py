"""The one end-to-end test on the venues' own clock: no time scale on the simulator's rules nor on the policy.

Every other scenario shrinks BingX's 30 s count cutoff, its late settlement and the pair's lead and hold by
``EXECUTOR_TIME_SCALE``; this one proves the real numbers line up: a BingX primary on the pair's default timing
(45 s lead, 60 s hold) is counted and paid by BingX, whose ledger row arrives about 10 s after T, and both legs
close after it. It takes about two minutes, so it runs in one CI pass only (.ci/pytest-matrix).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from arbitrage.models import FundingPayment
from arbitrage.services.timing import pair_timing
from exchanges.simulator import Simulator, settlement_net
from tests.arbitrage.test_executor_e2e import SYMBOL, run_instant, sim_orders, sim_positions, subscribe
from tests.conftest import make_sim_account

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_timeline")]


@pytest.fixture
def real_time_sim(settings):
    from django.core.cache import cache

    from arbitrage.services.clients import forget_clients

    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "TIME_SCALE": 1.0}
    with Simulator(seed=11, random_walk=False, time_scale=1.0) as simulator:
        settings.DEMO_SIMULATOR = True
        settings.SIMULATOR_URL = simulator.base_url
        yield simulator
    forget_clients()
    cache.clear()


def test_a_bingx_primary_on_real_time_is_counted_paid_and_closed_after_the_proof(real_time_sim, user):
    sim = real_time_sim
    bybit, bingx = make_sim_account(sim, user, "bybit"), make_sim_account(sim, user, "bingx")
    with pytest.raises(ValidationError) as refused:
        subscribe(user, bingx, bybit, lead_seconds=5, close_delay_seconds=60)
    assert refused.value.message_dict["lead_seconds"] == [
        "BingX counts only positions opened at least 30 s before settlement; lead must be at least 45 s "
        "(you asked for 5 s)."
    ]
    sim.set_funding_rate(SYMBOL, "bingx", "0.0030")
    subscription = subscribe(user, bingx, bybit, lead_seconds=None, close_delay_seconds=None)
    timing = pair_timing(primary=bingx, hedge=bybit)
    assert (subscription.lead_seconds, subscription.close_delay_seconds) == (45, 60) == (timing.min_lead, 60)

    execution = run_instant(sim, subscription, in_seconds=52)

    assert execution.status == "completed", execution.error
    assert execution.funding_confirmed is True
    funding_ms = int(execution.funding_time.timestamp() * 1000)
    (row,) = [r for r in sim.funding_ledger("bingx", bingx.api_key) if r["symbol"] == SYMBOL]
    assert Decimal(row["amount"]) > 0 and row["time_ms"] > funding_ms  # BingX settles late, and pays
    opens = [o["created_ms"] for a in (bingx, bybit) for o in sim_orders(sim, a) if not o["reduce_only"]]
    closes = [o["created_ms"] for a in (bingx, bybit) for o in sim_orders(sim, a) if o["reduce_only"]]
    assert max(opens) <= funding_ms - 30_000, "an open reached BingX inside its 30 s count cutoff"
    assert min(closes) >= max(row["time_ms"], funding_ms + 60_000), "closed before the proof or the hold"
    (payment,) = FundingPayment.objects.filter(execution=execution)
    assert payment.amount == Decimal(row["amount"]) and payment.ledger_id == row["row_id"]
    nets = settlement_net(
        sim.settlements(symbol=SYMBOL), SYMBOL, accounts=[("bingx", bingx.api_key), ("bybit", bybit.api_key)]
    )
    assert nets and all(n.net == 0 for n in nets), f"the legs did not net to zero at a settlement: {nets}"
    assert sim_positions(sim, bingx) == [] and sim_positions(sim, bybit) == []

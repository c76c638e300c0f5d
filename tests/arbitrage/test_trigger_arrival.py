"""The trigger aims at the orders' arrival on the venue, not at their departure, and sends on warm connections.

Each host's one-way latency is estimated from the clock samples taken just before the trigger; a leg leaves that
much before T - lead. The simulator's latency is set per venue here, so the two legs must leave at different
moments and still arrive together. Bounds are generous: they prove the mechanism, not a figure.
"""

from __future__ import annotations

import pytest

from arbitrage.models import LegRole, Order, OrderAction
from tests.arbitrage.test_executor_e2e import run_instant, subscribe
from tests.arbitrage.test_position_truth import assert_flat

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_timeline")]

# Round trips the simulator adds (half each way): Bybit far, BingX near.
LATENCY_MS = {"bybit": 240, "bingx": 40}


def _opens(execution) -> dict[str, Order]:
    return {o.role: o for o in Order.objects.filter(execution=execution, action=OrderAction.OPEN, attempt=1)}


def _arrival_ms(sim, account, order: Order) -> int:
    return next(o for o in sim.orders(account.exchange, account.api_key) if o["client_id"] == order.client_order_id)[
        "created_ms"
    ]


def _drive(venue_sim, user, sim_accounts):
    bybit, bingx = sim_accounts
    for venue, ms in LATENCY_MS.items():
        venue_sim.faults(venue).latency(ms)
    execution = run_instant(venue_sim, subscribe(user, bybit, bingx))
    assert execution.status == "completed", execution.error
    assert_flat(venue_sim, bybit, bingx)
    opens = _opens(execution)
    trigger_ms = (execution.funding_time.timestamp() - execution.lead_seconds) * 1000
    arrivals = {
        LegRole.PRIMARY: _arrival_ms(venue_sim, bybit, opens[LegRole.PRIMARY]) - trigger_ms,
        LegRole.HEDGE: _arrival_ms(venue_sim, bingx, opens[LegRole.HEDGE]) - trigger_ms,
    }
    sent = {role: order.sent_at.timestamp() * 1000 - trigger_ms for role, order in opens.items()}
    return execution, sent, arrivals


def test_each_leg_leaves_early_by_its_hosts_one_way_latency(venue_sim, user, sim_accounts):
    """Bybit's leg leaves about 120 ms before T - lead, BingX's about 20 ms before; both arrive near T - lead."""
    _, sent, arrivals = _drive(venue_sim, user, sim_accounts)

    assert -200 < sent[LegRole.PRIMARY] < -60, sent
    assert -60 < sent[LegRole.HEDGE] < 10, sent
    assert 50 < sent[LegRole.HEDGE] - sent[LegRole.PRIMARY] < 150, sent
    for role, late in arrivals.items():
        assert -30 < late < 40, (role, arrivals)


def test_without_the_aim_both_leave_at_the_trigger_and_arrive_a_trip_apart(venue_sim, user, sim_accounts, settings):
    """The same pair with AIM_AT_ARRIVAL off: both legs leave at T - lead and arrive a one-way trip later each."""
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "AIM_AT_ARRIVAL": False}
    _, sent, arrivals = _drive(venue_sim, user, sim_accounts)

    for role, late in sent.items():
        assert 0 <= late < 40, (role, sent)
    assert arrivals[LegRole.PRIMARY] - arrivals[LegRole.HEDGE] > 60, arrivals


def test_the_trigger_finds_warm_connections(venue_sim, user, sim_accounts):
    """Connections are opened before the compare-and-set: none is accepted between the first send and the acks."""
    execution, _, _ = _drive(venue_sim, user, sim_accounts)

    opens = _opens(execution).values()
    first_sent = min(o.sent_at.timestamp() for o in opens)
    last_ack = max(o.acked_at.timestamp() for o in opens)
    during = [at for at in venue_sim.connections_accepted() if first_sent - 0.002 <= at <= last_ack]
    assert during == [], f"{len(during)} connection(s) opened at the trigger"
    assert venue_sim.connections_accepted(), "the simulator saw no connection at all"

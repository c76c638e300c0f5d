"""Measurements 1, 2, 3 and 5: one subscription's whole cycle, many times, against the simulator at L = 50 ms.

Series A (no skew): trigger-to-both-acks ratio to L, unhedged window between the legs' fills.
Series B (both venue clocks +1.5 s): trigger precision on the venue clock (and the ratio again).
Series C (as B, AIM_AT_ARRIVAL off, half as many runs): the precision when orders leave at T - lead.
Baseline: the seed's simple flow (leverage primary, leverage hedge, primary order, hedge order, one after the
other, no verification) with the same clients, against the same simulator, in the same run.

Run: ``python -m bench.executor OUT.json [runs_a] [runs_b] [runs_naive]`` (the orchestrator does).
"""

from __future__ import annotations

import sys
import time

from bench.common import LATENCY_MS, SimProcess, django_setup, executor_settings, summary, write_json

SYMBOL = "ETHUSDT"
LEAD = 1
L = LATENCY_MS / 1000
SKEW_MS = 1500
PREFLIGHT_BEFORE_SYNC = 0.4


def _sim_order(control, venue: str, key: str, client_id: str) -> dict:
    return next(o for o in control.orders(venue, key) if o["client_id"] == client_id)


def cycle(sim: SimProcess, subscription, *, skew_ms: int) -> dict:
    from arbitrage.models import Execution, LegRole, Order, OrderAction
    from arbitrage.services.driver import instant_drive
    from arbitrage.services.planner import executions_plan

    control = sim.control
    # The driver schedules preflight before it has measured the venue clock (venue time read as local time), so
    # with a venue running ahead preflight comes that much later: start it earlier by the skew. In production
    # preflight is 30 s before the sync and this does not matter.
    ahead = max(skew_ms, 0) / 1000
    executor_settings(PREFLIGHT_BEFORE_SYNC=PREFLIGHT_BEFORE_SYNC + ahead)
    control.set_next_funding(SYMBOL, "bybit", in_seconds=2.0 + ahead)
    instants = executions_plan()
    assert len(instants) == 1, instants
    instant_drive(funding_time=instants[0])
    execution = Execution.objects.get(subscription=subscription, funding_time=instants[0])
    orders = {o.role: o for o in Order.objects.filter(execution=execution, action=OrderAction.OPEN, attempt=1)}
    if execution.status != "completed" or len(orders) != 2 or any(o.acked_at is None for o in orders.values()):
        return {"ok": False, "status": execution.status, "error": execution.error}
    primary, hedge = orders[LegRole.PRIMARY], orders[LegRole.HEDGE]
    trigger_venue = execution.funding_time.timestamp() - execution.lead_seconds  # T - lead, primary's clock
    trigger_local = trigger_venue - skew_ms / 1000
    acked = max(o.acked_at.timestamp() for o in (primary, hedge))
    sent = [o.sent_at.timestamp() for o in (primary, hedge)]
    p_sim = _sim_order(control, "bybit", subscription.primary_account.api_key, primary.client_order_id)
    h_sim = _sim_order(control, "bingx", subscription.hedge_account.api_key, hedge.client_order_id)
    # Same skew on both venues here, so venue times compare directly.
    first_ms = min(p_sim["created_ms"], h_sim["created_ms"])
    return {
        "ok": True,
        "ratio": (acked - trigger_local) / L,
        "ack_ms": (acked - trigger_local) * 1000,
        "send_late_ms": (min(sent) - trigger_local) * 1000,
        "send_spread_ms": (max(sent) - min(sent)) * 1000,
        "window_ms": abs(p_sim["created_ms"] - h_sim["created_ms"]),
        "precision_ms": abs(first_ms - trigger_venue * 1000),
        "arrival_late_ms": first_ms - trigger_venue * 1000,
    }


def naive_run(sim: SimProcess, subscription, run: int) -> dict:
    """The seed's flow: four round trips one after the other, no verification. A baseline, not product code."""
    from arbitrage.services import clock
    from arbitrage.services.clients import client_for_account
    from exchanges.base import PositionMode, Side

    primary, hedge = subscription.primary_account, subscription.hedge_account
    cp, ch = client_for_account(primary), client_for_account(hedge)
    mode = PositionMode.ONE_WAY
    ids = {"p": f"bnaive-{run}-po", "h": f"bnaive-{run}-ho"}
    trigger = clock.clock.time() + 0.2
    while clock.clock.time() < trigger:
        time.sleep(0.0005)
    started = clock.clock.time()
    cp.set_leverage(SYMBOL, subscription.leverage, position_mode=mode)
    ch.set_leverage(SYMBOL, subscription.leverage, position_mode=mode)
    cp.place_market_order(
        symbol=SYMBOL, side=Side.SELL, quantity=subscription.quantity, client_order_id=ids["p"], position_mode=mode
    )
    ch.place_market_order(
        symbol=SYMBOL, side=Side.BUY, quantity=subscription.quantity, client_order_id=ids["h"], position_mode=mode
    )
    done = clock.clock.time()
    p_sim = _sim_order(sim.control, "bybit", primary.api_key, ids["p"])
    h_sim = _sim_order(sim.control, "bingx", hedge.api_key, ids["h"])
    for client, side, key in ((cp, Side.BUY, "p"), (ch, Side.SELL, "h")):  # flat again (not timed)
        client.place_market_order(
            symbol=SYMBOL,
            side=side,
            quantity=subscription.quantity,
            client_order_id=f"bnaive-{run}-{key}c",
            position_mode=mode,
            reduce_only=True,
        )
    return {
        "ok": True,
        "ratio": (done - trigger) / L,
        "ack_ms": (done - trigger) * 1000,
        "send_late_ms": (started - trigger) * 1000,
        "window_ms": abs(p_sim["created_ms"] - h_sim["created_ms"]),
    }


def main() -> None:
    out = sys.argv[1]
    runs_a = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    runs_b = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    runs_naive = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    django_setup()
    executor_settings(
        ARM_AHEAD=60,
        PREFLIGHT_BEFORE_SYNC=PREFLIGHT_BEFORE_SYNC,
        SYNC_BEFORE=1.45,
        SYNC_MIN_GAP=0.5,
        OPEN_CUTOFF=0.3,
        UNKNOWN_ORDER_GRACE=1.5,
        PNL_FIRST_LOOK=1.1,
        RECONCILE_GRACE=5,
    )
    from bench.common import make_subscriptions, make_users_and_accounts

    started = time.monotonic()
    with SimProcess(LATENCY_MS) as sim:
        sim.control.set_funding_rate(SYMBOL, "bybit", "0.0003")
        (triple,) = make_users_and_accounts(sim.control, 1, prefix="exec")
        (subscription,) = make_subscriptions([triple], (SYMBOL,), lead=LEAD)

        series_a = [cycle(sim, subscription, skew_ms=0) for _ in range(runs_a)]
        naive = [naive_run(sim, subscription, run) for run in range(runs_naive)]
        for venue in ("bybit", "bingx"):
            sim.control.faults(venue).skew(SKEW_MS)
        series_b = [cycle(sim, subscription, skew_ms=SKEW_MS) for _ in range(runs_b)]
        # The same, sending at T - lead instead of aiming at the arrival: the gain, measured side by side.
        executor_settings(AIM_AT_ARRIVAL=False)
        series_c = [cycle(sim, subscription, skew_ms=SKEW_MS) for _ in range(max(1, runs_b // 2))]
        executor_settings(AIM_AT_ARRIVAL=True)

    def pick(rows, key):
        return summary([r[key] for r in rows if r["ok"]])

    ok_a = [r for r in series_a if r["ok"]]
    ok_b = [r for r in series_b if r["ok"]]
    result = {
        "latency_ms": LATENCY_MS,
        "runs": {"a": len(series_a), "a_ok": len(ok_a), "b": len(series_b), "b_ok": len(ok_b), "naive": len(naive)},
        "failures": [r for r in series_a + series_b + series_c if not r["ok"]],
        "ratio": pick(series_a + series_b, "ratio"),
        "ack_ms": pick(series_a + series_b, "ack_ms"),
        "send_late_ms": pick(series_a + series_b, "send_late_ms"),
        "send_spread_ms": pick(series_a + series_b, "send_spread_ms"),
        "window_ms": pick(series_a, "window_ms"),
        "precision_ms": pick(series_b, "precision_ms"),
        "precision_ms_unaimed": pick(series_c, "precision_ms"),
        "arrival_late_ms_skewed": pick(series_b, "arrival_late_ms"),
        "naive_ratio": pick(naive, "ratio"),
        "naive_window_ms": pick(naive, "window_ms"),
        "seconds": time.monotonic() - started,
    }
    write_json(out, result)


if __name__ == "__main__":
    main()

"""Measurement 4: N subscriptions due at one instant (two per user, N/2 users, each with its own Bybit and BingX
accounts), driven by one ``instant_drive`` against the simulator (L = 50 ms, per-account rate limits enforced).

Run one N per process (the orchestrator does), so that peak memory is this N's:
``python -m bench.fanout OUT.json N``.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.common import (
    LATENCY_MS,
    QueryCounter,
    SimProcess,
    django_setup,
    executor_settings,
    make_subscriptions,
    make_users_and_accounts,
    percentile,
    summary,
    write_json,
)

SYMBOLS = ("BTCUSDT", "ETHUSDT")
# At the bench's time scale BingX's rule puts the open cutoff 0.48 s before T; a 3 s lead leaves the legs 2.5 s to
# leave, as the 15 s between a real 45 s lead and BingX's 30 s cutoff would, so the figure measures the sending.
LEAD = 3
# The production timeline: armed at T - 62 s, preflight at T - 60 s, leverage sync at T - 30 s, trigger at T - 3 s
# (BENCH_FANOUT_ARM scales it down for the smoke test). Preflight of hundreds of executions needs its 30 s.
ARM_SECONDS = float(os.environ.get("BENCH_FANOUT_ARM", "62"))


def _executions_create(subscriptions, funding_time: datetime) -> None:
    """What the planner would arm (the planner asks each primary account for its next instant, one account after
    the other; its own cost is not part of this measurement)."""
    from django.conf import settings

    from arbitrage.models import Execution, ExecutionStatus

    now = datetime.now(tz=UTC)
    grace = timedelta(seconds=settings.FUNDARB_EXECUTOR["RECONCILE_GRACE"])
    Execution.objects.bulk_create(
        [
            Execution(
                subscription=s,
                owner_id=s.owner_id,
                funding_time=funding_time,
                status=ExecutionStatus.PLANNED,
                status_changed_at=now,
                deadline_at=funding_time + grace,
                symbol=s.symbol,
                primary_venue="bybit",
                hedge_venue="bingx",
                leverage=s.leverage,
                lead_seconds=s.lead_seconds,
                close_delay_seconds=s.close_delay_seconds,
            )
            for s in subscriptions
        ],
        batch_size=500,
    )


def main() -> None:
    out, n = sys.argv[1], int(sys.argv[2])
    django_setup()
    executor_settings(
        ARM_AHEAD=60,
        PREFLIGHT_BEFORE_SYNC=ARM_SECONDS * 30 / 62,
        SYNC_BEFORE=ARM_SECONDS * 30 / 62,
        SYNC_MIN_GAP=ARM_SECONDS * 10 / 62,
        OPEN_CUTOFF=0.3,
        UNKNOWN_ORDER_GRACE=1.5,
        PNL_FIRST_LOOK=1.5,
        RECONCILE_GRACE=60,
    )
    from arbitrage.models import Execution, ExecutionEvent, Order, OrderAction

    started = time.monotonic()
    with SimProcess(LATENCY_MS) as sim:
        for symbol in SYMBOLS:
            sim.control.set_funding_rate(symbol, "bybit", "0.0003")
        triples = make_users_and_accounts(sim.control, max(1, n // 2), prefix="fan")
        subscriptions = make_subscriptions(triples, SYMBOLS, lead=LEAD)[:n]
        setup_seconds = time.monotonic() - started

        instant_ms = (int(time.time()) + int(ARM_SECONDS) + 1) * 1000
        sim.instant("bybit", instant_ms, *SYMBOLS)
        funding_time = datetime.fromtimestamp(instant_ms / 1000, tz=UTC)
        _executions_create(subscriptions, funding_time)

        from arbitrage.services.driver import instant_drive

        counter = QueryCounter()
        counter.install()
        counter.enabled = True
        drive_started = time.monotonic()
        driven = instant_drive(funding_time=funding_time)
        drive_seconds = time.monotonic() - drive_started
        counter.enabled = False
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        trigger = funding_time.timestamp() - LEAD
        opens = list(Order.objects.filter(execution__funding_time=funding_time, action=OrderAction.OPEN, attempt=1))
        acked = [o for o in opens if o.acked_at is not None]
        before_t = [o for o in acked if o.acked_at.timestamp() < funding_time.timestamp()]
        sent_late = [(o.sent_at.timestamp() - trigger) * 1000 for o in opens if o.sent_at]
        ack_after = [(o.acked_at.timestamp() - trigger) * 1000 for o in acked]
        accounts = {(o.venue, o.account_id) for o in opens}
        keys = {}
        for _, bybit, bingx in triples:
            keys[("bybit", bybit.pk)] = bybit.api_key
            keys[("bingx", bingx.pk)] = bingx.api_key
        wanted = {o.client_order_id for o in opens}
        arrival_late = []
        for venue, account_id in accounts:
            for row in sim.control.orders(venue, keys[(venue, account_id)]):
                if row["client_id"] in wanted:
                    arrival_late.append(row["created_ms"] - trigger * 1000)
        statuses: dict[str, int] = {}
        for status in Execution.objects.filter(funding_time=funding_time).values_list("status", flat=True):
            statuses[status] = statuses.get(status, 0) + 1
        stage_spans = {}
        for step in ("preflight", "leverage_synced"):
            times = list(
                ExecutionEvent.objects.filter(execution__funding_time=funding_time, step=step).values_list(
                    "at", flat=True
                )
            )
            if times:
                stage_spans[step] = {
                    "first_s_before_t": funding_time.timestamp() - min(times).timestamp(),
                    "last_s_before_t": funding_time.timestamp() - max(times).timestamp(),
                }
    result = {
        "n": n,
        "users": len(triples),
        "driven": driven,
        "legs": 2 * n,
        "legs_acked": len(acked),
        "legs_acked_before_t": len(before_t),
        "share_acked_before_t": len(before_t) / (2 * n),
        "sent_late_ms": summary(sent_late),
        "arrival_late_ms": summary(arrival_late),
        "ack_after_trigger_ms": summary(ack_after),
        "p99_lateness_ms": percentile(arrival_late, 99),
        "all_acked_within_1s": len(acked) == 2 * n and max(ack_after, default=1e9) <= 1000,
        "queries": counter.count,
        "queries_per_execution": counter.count / n,
        "peak_rss_mb": peak_mb,
        "statuses": statuses,
        "stage_spans": stage_spans,
        "setup_seconds": setup_seconds,
        "drive_seconds": drive_seconds,
    }
    write_json(out, result)


if __name__ == "__main__":
    main()

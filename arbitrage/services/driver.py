"""Drive every execution of one funding instant T through its stages on time, from one worker task.

Hundreds of subscriptions share the 00:00/08:00/16:00 UTC instants, so one task drives them all: a timeline runs
each execution's stages at their moment (preflight, leverage sync, trigger, close, first P&L look) on a thread pool.
Executions that trigger at the same moment are triggered together. The batch wakes ahead of the trigger to make
everything ready: it measures each venue host's clock and one-way latency again and opens as many pooled
connections as legs will leave at once, reserves the legs' budget slots and signs every order. Only then comes the
compare-and-set for the batch, and after it nothing but the sends. Each leg leaves early by its host's one-way
latency, so that it *arrives* at T - lead on the venue's clock; the open cutoff is judged on that arrival too.

The driver first claims executions (``driver_token``), so a task delivered twice, or to two clusters, finds
nothing left to claim.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import statistics
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections

from arbitrage.models import Execution, ExecutionStatus
from arbitrage.services import clock
from arbitrage.services.budget import Slot, budget_reserve
from arbitrage.services.clients import endpoint_for_account
from arbitrage.services.closing import Proof, execution_close, funding_proof_look
from arbitrage.services.opening import (
    execution_explain_refusal,
    execution_open_settle,
    execution_sync,
    executions_claim_open,
    open_requests,
)
from arbitrage.services.orders import LegRequest, LegResult, leg_place
from arbitrage.services.parallel import run_parallel, submit
from arbitrage.services.plan import Plan, plan_for
from arbitrage.services.pnl import execution_pnl_collect
from arbitrage.services.preflight import execution_preflight
from arbitrage.services.transitions import execution_missed, new_token
from exchanges.base import ReadyOrder
from exchanges.errors import ExchangeError
from exchanges.limits import RequestKind

logger = logging.getLogger(__name__)
S = ExecutionStatus
# The trigger batch wakes this long before the instant (never more than half the sync's gap) to refresh clocks, warm
# connections and sign its orders, then waits precisely.
TRIGGER_PREPARE_SECONDS = 2.0
# The compare-and-set runs this long before the batch's first departure: one UPDATE, however large the batch.
CLAIM_AHEAD_SECONDS = 0.03
# A batch's clocks are measured again unless measured this recently.
CLOCK_REFRESH_AGE = 0.5
# At most this many connections are opened ahead per venue host: public reads count against the venue's IP limits.
WARM_CONNECTIONS_MAX = 64
# Healthy executions settle when their whole trigger batch has answered, or this long after the trigger.
SETTLE_GATE_SECONDS = 1.0


def _cfg(name: str):
    return settings.FUNDARB_EXECUTOR[name]


class Timeline:
    """Run callables at given local times on a pool; ``run`` returns when nothing is pending or running."""

    def __init__(self, *, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="stage")
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._running = 0
        self._changed = threading.Condition()

    def at(self, when: float, action: Callable[[], None]) -> None:
        with self._changed:
            heapq.heappush(self._heap, (when, next(self._order), action))
            self._changed.notify()

    def hold(self) -> None:
        """Work in flight elsewhere (order requests on the venue pool) keeps the timeline alive until release()."""
        with self._changed:
            self._running += 1

    def release(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify()

    def run(self) -> None:
        try:
            while True:
                with self._changed:
                    while True:
                        if not self._heap and self._running == 0:
                            return
                        now = clock.clock.time()
                        if self._heap and self._heap[0][0] <= now:
                            _, _, action = heapq.heappop(self._heap)
                            self._running += 1
                            break
                        wait = self._heap[0][0] - now if self._heap else 0.5
                        self._changed.wait(timeout=min(wait, 0.5))
                self._pool.submit(self._run_one, action)
        finally:
            self._pool.shutdown(wait=True)

    def _run_one(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception:
            logger.exception("executor stage failed unexpectedly")
        finally:
            connections.close_all()  # stage threads must not keep connections after the driver ends
            with self._changed:
                self._running -= 1
                self._changed.notify()


class SettleGate:
    """Holds the settling of healthy executions until every leg of the trigger batch has answered.

    Settling (recording both legs, reading their fills, moving to OPEN) costs several database writes and venue
    calls per execution; done while other executions' legs are still leaving, it takes the CPU they need and makes
    them late. Executions with a failed or unknown leg are settled at once, so an unwind never waits. The gate also
    opens ``SETTLE_GATE_SECONDS`` after the trigger whatever happens, so a leg stuck in lookups holds nobody long.
    """

    def __init__(self, timeline: Timeline, *, legs: int) -> None:
        self._timeline = timeline
        self._lock = threading.Lock()
        self._pending = legs
        self._held: list[Callable[[], None]] = []
        self._open = legs <= 0

    def leg_answered(self, count: int = 1) -> None:
        with self._lock:
            self._pending -= count
            if self._pending > 0:
                return
        self.open()

    def settle(self, action: Callable[[], None], *, urgent: bool) -> None:
        with self._lock:
            if not (self._open or urgent):
                self._held.append(action)
                return
        self._timeline.at(0, action)

    def open(self) -> None:
        with self._lock:
            self._open = True
            held, self._held = self._held, []
        for action in held:
            self._timeline.at(0, action)


def _primary_clock_key(plan: Plan) -> tuple:
    return (plan.primary.exchange, plan.primary.environment, plan.primary.base_url)


def _estimate_primary_clocks(plans: list[Plan]) -> None:
    """Read each primary venue's clock once before anything is scheduled: every stage runs on the primary's clock,
    and a venue running seconds ahead would otherwise eat those seconds out of the preflight and sync window.
    Preflight measures again per account; a venue that does not answer here keeps offset 0 until then."""
    by_clock: dict[tuple, list[Plan]] = {}
    for plan in plans:
        by_clock.setdefault(_primary_clock_key(plan), []).append(plan)
    groups = list(by_clock.values())
    outcomes = run_parallel(*[(lambda p=group[0]: p.client(p.primary).sync_clock()) for group in groups])
    for group, outcome in zip(groups, outcomes, strict=True):
        if outcome.error:
            logger.warning(
                "could not read the %s clock ahead of preflight: %s", group[0].primary.venue.label, outcome.error
            )
            continue
        for plan in group:
            plan.primary_offset = outcome.value.offset


@dataclass(frozen=True)
class LegSend:
    """One open leg at the trigger: signed ahead (``ready``, None if that failed: then it is built at the send) and
    due to leave at ``departure``, its host's one-way latency before the pair's arrival."""

    request: LegRequest
    ready: ReadyOrder | None
    departure: float

    def place(self) -> LegResult:
        return leg_place(self.request, Slot(account_id=0, kind=RequestKind.ORDER, at=self.departure), ready=self.ready)


def one_way_latency(account) -> float:
    """Seconds an order to the account's host is expected to take to arrive (0 with AIM_AT_ARRIVAL off)."""
    return endpoint_for_account(account).one_way if _cfg("AIM_AT_ARRIVAL") else 0.0


def _leg_send(request: LegRequest, *, arrival: float, one_way: float) -> LegSend:
    departure = arrival - one_way
    try:
        ready = request.client.order_ready(
            symbol=request.symbol,
            side=request.side,
            quantity=request.quantity,
            client_order_id=request.client_order_id,
            position_mode=request.position_mode,
            at=departure,
        )
    except ExchangeError:  # the send builds it again and meets the same refusal, which the leg's result reports
        ready = None
    return LegSend(request=request, ready=ready, departure=departure)


def endpoints_warm(plans: list[Plan], *, until: float) -> None:
    """Just before a trigger: measure each venue host's clock and one-way latency again, and open as many pooled
    connections there as legs will leave to it, so that no order waits on a handshake. Gives up waiting at
    ``until`` (a slow venue delays nobody: its plans keep the earlier measurement)."""
    hosts: dict[int, list] = {}
    for plan in plans:
        for account in (plan.primary, plan.hedge):
            endpoint = endpoint_for_account(account)
            hosts.setdefault(id(endpoint), [endpoint, plan.client(account), 0])[2] += 1
    futures = []
    for endpoint, client, legs in hosts.values():
        futures.append(submit(lambda c=client: c.sync_clock(samples=3, max_age=CLOCK_REFRESH_AGE)))
        extra = min(legs, WARM_CONNECTIONS_MAX, endpoint.pool_maxsize) - 1
        futures += [submit(client.server_time) for _ in range(extra)]
    done, pending = wait(futures, timeout=max(0.0, until - clock.clock.time()))
    failed = [f.result().error for f in done if f.result().error is not None]
    if pending or failed:
        logger.warning(
            "trigger warm-up: %d of %d venue reads failed and %d were still running%s",
            len(failed),
            len(futures),
            len(pending),
            f" (first: {failed[0]})" if failed else "",
        )
    for plan in plans:
        plan.primary_offset = endpoint_for_account(plan.primary).offset


class InstantDriver:
    def __init__(self, plans: list[Plan], *, token: str) -> None:
        self.token = token
        self.timeline = Timeline(threads=_cfg("STAGE_THREADS"))
        self.plans = plans
        self._triggers: dict[float, list[Plan]] = {}
        self._triggers_lock = threading.Lock()

    def run(self) -> None:
        _estimate_primary_clocks(self.plans)
        for plan in self.plans:
            self.timeline.at(plan.local(plan.preflight_at), lambda p=plan: self._preflight(p))
        self.timeline.run()

    # Each stage schedules the next one when it succeeds.

    def _preflight(self, plan: Plan) -> None:
        if clock.clock.time() > plan.local(plan.trigger_at) - _cfg("SYNC_MIN_GAP") / 2:
            execution_missed(plan, "The worker picked this instant up too late to check and sync safely")
            return
        if execution_preflight(plan):
            self.timeline.at(plan.local(plan.sync_at), lambda: self._sync(plan))

    def _sync(self, plan: Plan) -> None:
        if execution_sync(plan):
            self._schedule_trigger(plan)

    def _schedule_trigger(self, plan: Plan) -> None:
        # One batch per venue clock and instant: every primary account on one venue reads the same clock, so their
        # executions fire together even though each measured the offset with its own few milliseconds of noise.
        key = (*_primary_clock_key(plan), plan.trigger_at)
        with self._triggers_lock:
            batch = self._triggers.get(key)
            if batch is not None:
                batch.append(plan)
                return
            self._triggers[key] = [plan]
        prepare = min(TRIGGER_PREPARE_SECONDS, _cfg("SYNC_MIN_GAP") / 2)
        self.timeline.at(plan.local(plan.trigger_at) - prepare, lambda: self._trigger(key))

    def _trigger(self, key: tuple) -> None:
        with self._triggers_lock:
            plans = self._triggers.pop(key)
        estimate = statistics.median(p.local(p.trigger_at) for p in plans)
        now = clock.clock.time()
        endpoints_warm(plans, until=now + max(0.0, estimate - now) / 2)
        # The venue's clock, estimated from every account's measurement (the median shrugs off a noisy one): the
        # moment the batch's first legs should arrive.
        moment = statistics.median(p.local(p.trigger_at) for p in plans)
        deadline = max(p.close_at for p in plans) + timedelta(seconds=_cfg("RECONCILE_GRACE"))
        legs = [(plan, open_requests(plan)) for plan in plans]
        # Both legs of every pair take their budget slots before any leg leaves: a pair arrives at its later slot,
        # and only if that is still before the open cutoff, so no leg ever leaves without its partner or after it.
        slots = iter(
            budget_reserve(
                [(plan.account_of(order), RequestKind.ORDER) for plan, requests in legs for order, _ in requests],
                not_before=moment,
            )
        )
        arrivals = {plan.pk: max(next(slots).at for _ in requests) for plan, requests in legs}
        late = {p.pk for p, _ in legs if arrivals[p.pk] > p.local(p.open_cutoff)}
        sends = {
            plan.pk: [
                _leg_send(request, arrival=arrivals[plan.pk], one_way=one_way_latency(plan.account_of(order)))
                for order, request in requests
            ]
            for plan, requests in legs
            if plan.pk not in late
        }
        leaves = {pk: min(send.departure for send in pair) for pk, pair in sends.items()}
        if leaves:
            clock.sleep_until(datetime.fromtimestamp(min(leaves.values()) - CLAIM_AHEAD_SECONDS, tz=UTC))
        claimed = executions_claim_open([p.pk for p in plans], token=self.token, deadline=deadline)
        for plan in plans:
            if plan.pk not in claimed:
                self.timeline.at(0, lambda p=plan: execution_explain_refusal(p))
        go = [(p, r) for p, r in legs if p.pk in claimed]
        gate = SettleGate(self.timeline, legs=sum(len(r) for p, r in go if p.pk not in late))
        self.timeline.at(moment + SETTLE_GATE_SECONDS, gate.open)
        for plan in [p for p, _ in go if p.pk in late]:
            self.timeline.at(
                0,
                lambda p=plan: execution_missed(
                    p, "The account's order budget could not fit this pair's orders before the open cutoff"
                ),
            )
        go = [(p, r) for p, r in go if p.pk not in late]
        for leave in sorted({leaves[p.pk] for p, _ in go}):
            clock.sleep_until(datetime.fromtimestamp(leave, tz=UTC))
            for plan, requests in go:
                if leaves[plan.pk] != leave:
                    continue
                # Never open after T (less a safety margin): a pair whose legs would now arrive after the cutoff
                # opens nothing.
                if clock.clock.time() + (arrivals[plan.pk] - leave) > plan.local(plan.open_cutoff):
                    gate.leg_answered(len(requests))
                    self.timeline.at(
                        0, lambda p=plan: execution_missed(p, "The trigger came too close to the funding instant")
                    )
                    continue
                futures = [submit(lambda s=send: s.place()) for send in sends[plan.pk]]
                self._when_done(plan, requests, futures, gate)

    def _when_done(self, plan: Plan, requests, futures, gate: SettleGate) -> None:
        """Settle the execution once both of its legs have answered: at once if a leg failed (its partner is
        unwound without waiting), otherwise when the whole batch has answered (see ``SettleGate``)."""
        remaining = [len(futures)]
        lock = threading.Lock()
        self.timeline.hold()

        def one_done(_future) -> None:
            gate.leg_answered()
            with lock:
                remaining[0] -= 1
                if remaining[0]:
                    return
            results = []
            for (order, _), future in zip(requests, futures, strict=True):
                outcome = future.result()
                results.append((order, outcome.value or LegResult(placed=None, error=str(outcome.error))))
            urgent = any(result.placed is not True for _, result in results)
            gate.settle(lambda: self._settle(plan, results), urgent=urgent)
            self.timeline.release()

        for future in futures:
            future.add_done_callback(one_done)

    def _settle(self, plan: Plan, results) -> None:
        if execution_open_settle(plan, results):
            self.timeline.at(plan.local(plan.close_at), lambda: self._close(plan))

    def _close(self, plan: Plan) -> None:
        look = funding_proof_look(plan)
        if look.verdict is Proof.WAIT:
            self.timeline.at(look.again_at, lambda: self._close(plan))
            return
        if look.verdict is Proof.READY and execution_close(plan):
            first_look = plan.funding_time + timedelta(seconds=_cfg("PNL_FIRST_LOOK"))
            self.timeline.at(plan.local(first_look), lambda: execution_pnl_collect(execution_id=plan.pk))


def instant_drive(*, funding_time: datetime) -> int:
    """Claim the planned executions of ``funding_time`` that nobody else drives, and drive them. Returns how many."""
    token = new_token()
    claimed = Execution.objects.filter(funding_time=funding_time, status=S.PLANNED, driver_token="").update(
        driver_token=token
    )
    if not claimed:
        return 0
    executions = Execution.objects.filter(driver_token=token, status=S.PLANNED).select_related(
        "subscription__owner", "subscription__primary_account", "subscription__hedge_account"
    )
    plans = [plan_for(execution, token=token) for execution in executions]
    logger.info("driving %d execution(s) for %s", len(plans), funding_time.isoformat())
    InstantDriver(plans, token=token).run()
    return len(plans)

"""Races and crashes with real processes: `manage.py qcluster` workers on a private PostgreSQL database, the simulator
in this process (the workers reach it over loopback), and an operator process acting as the user.

Work is enqueued directly (planner, driver, reconciler) instead of waiting for the minute schedules. Crashes are
SIGKILLs of a cluster's whole process tree at a moment held open by a simulator fault; a fresh cluster then runs the
reconciler. Orders and positions are counted on the simulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from exchanges.simulator import Simulator
from tests.reliability.conftest import Row
from tests.reliability.harness import (
    Cluster,
    Databases,
    Operator,
    cluster_env,
    require_postgres,
    simulator_env,
    wait_for,
)
from tests.reliability.invariants import TERMINAL, counted_text, venue_count, violations

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.xdist_group("reliability-processes")]

SYMBOL = "ETHUSDT"
ORDER = {"bybit": "POST /v5/order/create", "bingx": "POST /openApi/swap/v2/trade/order"}
DATABASE = "PostgreSQL (real qcluster processes)"
CRASH_ORDER = ["SIGKILL after the first leg is sent", "SIGKILL with both legs open", "SIGKILL during the close"]


@pytest.fixture(scope="module")
def databases() -> Iterator[Databases]:
    require_postgres()
    databases = Databases()
    try:
        databases.migrate_template()
        yield databases
    finally:
        databases.drop_all()


@dataclass
class Trader:
    name: str
    user: int
    subscription: int
    keys: dict[str, str]  # venue -> api key on the simulator


@dataclass
class Stack:
    sim: Simulator
    database_url: str
    logs: Path
    operator: Operator
    env_extra: dict[str, str] = field(default_factory=dict)
    clusters: list[Cluster] = field(default_factory=list)

    def cluster(self, name: str) -> Cluster:
        env = cluster_env(self.database_url, **simulator_env(self.sim), **self.env_extra)
        cluster = Cluster(env, self.logs / f"qcluster-{name}.log")
        self.clusters.append(cluster)
        return cluster

    def trader(self, name: str, *, primary: str = "bybit", **options: Any) -> Trader:
        accounts = {}
        for venue in ("bybit", "bingx"):
            key, secret = f"{name}-{venue}-key", f"{name}-{venue}-secret"
            self.sim.add_account(venue, key, secret, balance="10000")
            accounts[venue] = {"key": key, "secret": secret}
        ids = self.operator("seed", username=name, accounts=accounts, primary=primary, **options)
        return Trader(name, ids["user"], ids["subscription"], {v: a["key"] for v, a in accounts.items()})

    def executions(self, trader: Trader) -> list[dict[str, Any]]:
        return self.operator("executions", subscription=trader.subscription)

    def status(self, trader: Trader) -> str:
        rows = self.executions(trader)
        return rows[0]["status"] if rows else ""

    def wait_status(self, trader: Trader, statuses: set[str], *, timeout: float) -> str:
        return wait_for(
            lambda: self.status(trader) if self.status(trader) in statuses else "",
            timeout=timeout,
            what=f"{trader.name}'s execution to reach {sorted(statuses)} (now {self.status(trader)!r}); logs in "
            f"{self.logs}",
        )

    def orders_on(self, trader: Trader, venue: str) -> list[dict[str, Any]]:
        return self.sim.orders(venue, trader.keys[venue])

    def check(
        self, trader: Trader, row: Row, *, allowed: set[str], primary: str = "bybit", open_until_close: bool = False
    ) -> list[str]:
        """Count on the venues, read the rows, fill the report row; return every broken rule."""
        roles = {primary: "primary", ("bingx" if primary == "bybit" else "bybit"): "hedge"}
        counts = [
            venue_count(self.sim, venue=venue, api_key=trader.keys[venue], role=roles[venue])
            for venue in ("bybit", "bingx")
        ]
        executions = self.executions(trader)
        row.counted = (row.counted + " | " if row.counted else "") + f"{trader.name}: {counted_text(counts)}"
        row.status = (row.status + ", " if row.status else "") + ", ".join(e["status"] for e in executions)
        return violations(
            counts,
            db_orders=self.operator("orders", subscription=trader.subscription),
            executions=executions,
            allowed=allowed,
            open_until_close=open_until_close,
        )


@pytest.fixture
def stack(databases: Databases, tmp_path: Path) -> Iterator[Stack]:
    database_url = databases.clone()
    sim = Simulator(seed=11, random_walk=False)
    sim.start()
    operator = Operator(cluster_env(database_url, **simulator_env(sim)), tmp_path / "operator.log")
    stack = Stack(sim=sim, database_url=database_url, logs=tmp_path, operator=operator)
    try:
        yield stack
    finally:
        for cluster in stack.clusters:
            cluster.kill()
        operator.close()
        sim.stop()
        databases.drop(database_url)


def _instant_in(sim: Simulator, venue: str, seconds: float) -> str:
    funding = sim.set_next_funding(SYMBOL, venue, in_seconds=seconds)
    return datetime.fromtimestamp(funding["next_ms"] / 1000, tz=UTC).isoformat()


def _deadline_passed(stack: Stack, trader: Trader) -> bool:
    deadline = datetime.fromisoformat(stack.executions(trader)[0]["deadline_at"])
    return datetime.now(tz=UTC) > deadline


def _reconcile_after_restart(stack: Stack, trader: Trader) -> None:
    """A fresh cluster comes up; once the execution's deadline passed, the reconciler task runs on it."""
    restarted = stack.cluster("restarted")
    restarted.wait_running()
    wait_for(lambda: _deadline_passed(stack, trader), timeout=30, what="the execution's deadline")
    stack.operator("enqueue", func="arbitrage.tasks.reconcile")
    stack.wait_status(trader, TERMINAL, timeout=40)


# --- Races ---------------------------------------------------------------------------------------------------------


def test_two_clusters_race_for_one_instant(stack: Stack, reliability: Row) -> None:
    """Two qcluster processes both receive driver tasks for one instant (and both run the planner): exactly one
    driver acts, every other copy claims nothing, one order per leg and action on each venue."""
    reliability.group = "Races"
    reliability.scenario = "Two qclusters pick the same instant"
    reliability.order = 1
    reliability.injected = (
        "2 clusters x 2 workers on one PostgreSQL broker; plan_instants x2, then drive_instant copies until both "
        "clusters have run at least one while the instant is in flight"
    )
    reliability.must_hold = "one execution; one driver acts, the others claim nothing; one open and one close per leg"
    reliability.database = DATABASE
    drive = "arbitrage.tasks.drive_instant"
    trader = stack.trader("race")
    clusters = [stack.cluster("a"), stack.cluster("b")]
    for cluster in clusters:
        cluster.wait_running()
    instant = _instant_in(stack.sim, "bybit", 12)
    stack.operator("enqueue", func="arbitrage.tasks.plan_instants", count=2)
    wait_for(lambda: stack.executions(trader), timeout=20, what="the instant armed")
    stack.operator("enqueue", func=drive, args=[instant], count=2)  # the two copies may land on both at once
    # Whichever cluster drives, keep delivering copies while it does until the other one has run one too. A few at a
    # time: a cluster's pusher prefetches up to its queue limit, so single copies can all land on the same one.
    for _ in range(20):
        if all(cluster.processed(drive) for cluster in clusters) or stack.status(trader) in TERMINAL:
            break
        time.sleep(0.4)
        stack.operator("enqueue", func=drive, args=[instant], count=3)

    stack.wait_status(trader, TERMINAL, timeout=45)
    sent = len(stack.operator("tasks", func=drive)) + stack.operator("queued")
    drives = wait_for(
        lambda: (rows := stack.operator("tasks", func=drive)) and stack.operator("queued") == 0 and rows,
        timeout=30,
        what="every driver task to finish",
    )

    results = sorted((task["result"] for task in drives), reverse=True)
    split = [cluster.processed(drive) for cluster in clusters]
    reliability.extra = {"driver results": results, "driver tasks per cluster": split, "sent": sent}
    problems = stack.check(trader, reliability, allowed={"completed"})
    reliability.counted = (
        f"{len(drives)} driver tasks: cluster A ran {split[0]}, B ran {split[1]}, {results.count(1)} acted | "
        + reliability.counted
    )
    assert problems == [], problems
    assert all(task["success"] for task in drives)
    assert results.count(1) == 1 and set(results) <= {0, 1}, f"exactly one driver task may act: {results}"
    assert all(split), f"both clusters must have received a driver task: {split}"
    for venue in ("bybit", "bingx"):
        assert [o["reduce_only"] for o in stack.orders_on(trader, venue)] == [False, True]


def test_pause_and_kill_switch_while_executing(stack: Stack, reliability: Row) -> None:
    """Four users on one instant: pause / kill switch before the trigger open nothing; after it, both legs close."""
    reliability.group = "Races"
    reliability.scenario = "Pause and kill switch during an instant"
    reliability.order = 2
    reliability.injected = (
        "4 users, one instant: pause and kill switch after the leverage sync (before the trigger), "
        "and again once the legs are open (before the close)"
    )
    reliability.must_hold = "before the trigger: SKIPPED, no order; after: held and closed normally (COMPLETED)"
    reliability.database = DATABASE
    stack.env_extra = {"EXECUTOR_SYNC_BEFORE": "4"}  # a wider gap between the sync and the trigger to act in
    cluster = stack.cluster("a")
    traders = {
        name: stack.trader(name, close_delay_seconds=3)
        for name in ("pause-before", "kill-before", "pause-after", "kill-after")
    }
    _instant_in(stack.sim, "bybit", 12)
    cluster.wait_running()
    stack.operator("enqueue", func="arbitrage.tasks.plan_instants")

    before = [traders["pause-before"], traders["kill-before"]]
    for trader in before:
        stack.wait_status(trader, {"synced"}, timeout=30)
    stack.operator("pause", subscription=traders["pause-before"].subscription)
    stack.operator("kill_switch", user=traders["kill-before"].user)
    for trader in (traders["pause-after"], traders["kill-after"]):
        stack.wait_status(trader, {"open"}, timeout=20)
    stack.operator("pause", subscription=traders["pause-after"].subscription)
    stack.operator("kill_switch", user=traders["kill-after"].user)
    for trader in traders.values():
        stack.wait_status(trader, TERMINAL, timeout=30)

    problems = []
    for trader in before:
        problems += stack.check(trader, reliability, allowed={"skipped"})
    for trader in (traders["pause-after"], traders["kill-after"]):
        problems += stack.check(trader, reliability, allowed={"completed"})
    assert problems == [], problems
    for trader in before:
        assert stack.orders_on(trader, "bybit") == [] and stack.orders_on(trader, "bingx") == []
    assert "paused" in stack.executions(traders["pause-before"])[0]["error"]
    assert "Kill switch" in stack.executions(traders["kill-before"])[0]["error"]
    for name in ("pause-after", "kill-after"):
        for venue in ("bybit", "bingx"):
            assert [o["reduce_only"] for o in stack.orders_on(traders[name], venue)] == [False, True]


# --- Crashes -------------------------------------------------------------------------------------------------------


def _crash_row(row: Row, scenario: str, injected: str, must_hold: str) -> None:
    row.group = "Crashes"
    row.scenario = scenario
    row.order = CRASH_ORDER.index(scenario) + 1
    row.injected = injected
    row.must_hold = must_hold
    row.database = DATABASE


def test_sigkill_after_the_first_leg_is_sent(stack: Stack, reliability: Row) -> None:
    """SIGKILL while the hedge order's outcome is unknown (its request was lost): the reconciler on a restarted
    cluster finds the primary by client id, sees the hedge never existed, unwinds the primary: both flat."""
    _crash_row(
        reliability,
        "SIGKILL after the first leg is sent",
        "BingX drops the hedge order request; the qcluster tree is SIGKILLed as soon as the Bybit leg is on the venue",
        "after restart the reconciler unwinds the naked leg: UNWOUND, both flat, nothing resent",
    )
    cluster = stack.cluster("a")
    trader = stack.trader("crash-first-leg")
    stack.sim.faults("bingx").drop_request(ORDER["bingx"])
    _instant_in(stack.sim, "bybit", 10)
    cluster.wait_running()
    stack.operator("enqueue", func="arbitrage.tasks.plan_instants")

    wait_for(lambda: stack.orders_on(trader, "bybit"), timeout=30, what="the primary leg on Bybit")
    cluster.kill()
    assert stack.status(trader) == "opening"
    assert len(stack.sim.positions("bybit", trader.keys["bybit"])) == 1  # naked, until the reconciler comes
    assert stack.orders_on(trader, "bingx") == []

    _reconcile_after_restart(stack, trader)

    problems = stack.check(trader, reliability, allowed={"unwound"})
    assert problems == [], problems
    assert [o["reduce_only"] for o in stack.orders_on(trader, "bybit")] == [False, True]
    assert stack.orders_on(trader, "bingx") == []
    assert "worker failure" in stack.executions(trader)[0]["error"]
    assert stack.operator("subscription_state", subscription=trader.subscription)["status"] == "error"


def test_sigkill_with_both_legs_open(stack: Stack, reliability: Row) -> None:
    """SIGKILL while the hedged pair is held: it stays hedged (both legs open) until the reconciler on a restarted
    cluster closes both after the close time: COMPLETED, both flat."""
    _crash_row(
        reliability,
        "SIGKILL with both legs open",
        "the qcluster tree is SIGKILLed once the execution is OPEN (hold of 4 s before the close)",
        "both legs stay open and hedged until the close time; the reconciler then closes both: COMPLETED",
    )
    cluster = stack.cluster("a")
    trader = stack.trader("crash-open", close_delay_seconds=4)
    _instant_in(stack.sim, "bybit", 10)
    cluster.wait_running()
    stack.operator("enqueue", func="arbitrage.tasks.plan_instants")

    stack.wait_status(trader, {"open"}, timeout=30)
    cluster.kill()
    held = {venue: stack.sim.positions(venue, trader.keys[venue]) for venue in ("bybit", "bingx")}
    assert all(len(positions) == 1 for positions in held.values()), held
    assert held["bybit"][0]["size"] == held["bingx"][0]["size"]  # hedged, not naked

    _reconcile_after_restart(stack, trader)

    problems = stack.check(trader, reliability, allowed={"completed"})
    assert problems == [], problems
    for venue in ("bybit", "bingx"):
        assert [o["reduce_only"] for o in stack.orders_on(trader, venue)] == [False, True]


def test_sigkill_during_the_close(stack: Stack, reliability: Row) -> None:
    """SIGKILL while closing, with the hedge's close request lost: the reconciler finds the primary closed and the
    hedge still open, closes the hedge with a new client id: COMPLETED, both flat, no duplicate."""
    _crash_row(
        reliability,
        "SIGKILL during the close",
        "BingX drops the hedge's close request; the qcluster tree is SIGKILLed once Bybit's close is on the venue",
        "the reconciler closes the leg still open (new attempt, new client id): COMPLETED, both flat",
    )
    cluster = stack.cluster("a")
    trader = stack.trader("crash-close", close_delay_seconds=2)
    _instant_in(stack.sim, "bybit", 10)
    cluster.wait_running()
    stack.operator("enqueue", func="arbitrage.tasks.plan_instants")

    stack.wait_status(trader, {"open"}, timeout=30)
    stack.sim.faults("bingx").drop_request(ORDER["bingx"])
    wait_for(
        lambda: any(o["reduce_only"] for o in stack.orders_on(trader, "bybit")),
        timeout=20,
        what="the primary's close on Bybit",
    )
    cluster.kill()
    assert stack.status(trader) == "closing"
    assert len(stack.sim.positions("bingx", trader.keys["bingx"])) == 1

    _reconcile_after_restart(stack, trader)

    problems = stack.check(trader, reliability, allowed={"completed"})
    assert problems == [], problems
    hedge_orders = stack.orders_on(trader, "bingx")
    assert [o["reduce_only"] for o in hedge_orders] == [False, True]
    assert hedge_orders[1]["client_id"].endswith("hc2")  # the lost attempt 1 was never resent under its id

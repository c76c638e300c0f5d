"""The pages at 1 000 and 10 000 executions: the same queries at both sizes, each served by an index that reads
only the rows shown, and totals that still add up to every execution."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from arbitrage.models import Execution, ExecutionStatus, PnlTotal
from arbitrage.selectors import (
    executions_of_user,
    executions_recent_for_user,
    executions_upcoming_for_user,
    pnl_cumulative_for_user,
)
from arbitrage.services.pnl import pnl_day, pnl_totals_add
from tests.web.conftest import add_legs, make_execution, subscribe

pytestmark = pytest.mark.django_db

SMALL, LARGE = 1_000, 10_000


def seed(subscription, *, start: int, stop: int) -> None:
    """Executions ``start``..``stop``, one an hour going back in time; one in ten skipped (no P&L). Rows are
    bulk-created, so the running totals are added here the way the P&L service adds them."""
    now = timezone.now().replace(microsecond=0)
    rows, totals = [], defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0)])
    for index in range(start, stop):
        at = now - timedelta(hours=index + 1)
        done = index % 10 != 0
        pnl = (Decimal("0.034"), Decimal("-0.02"), Decimal(index % 7 - 3) / 1000) if done else (None, None, None)
        rows.append(
            Execution(
                subscription=subscription,
                owner_id=subscription.owner_id,
                funding_time=at,
                status=ExecutionStatus.COMPLETED if done else ExecutionStatus.SKIPPED,
                status_changed_at=at,
                deadline_at=at + timedelta(minutes=1),
                symbol=subscription.symbol,
                primary_venue="bybit",
                hedge_venue="bingx",
                primary_side="sell",
                quantity=subscription.quantity,
                leverage=3,
                lead_seconds=45,
                close_delay_seconds=60,
                pnl_funding=pnl[0],
                pnl_fees=pnl[1],
                pnl_price=pnl[2],
                pnl_final=done,
            )  # fmt: skip
        )
        if done:
            day = totals[pnl_day(at)]
            day[0] += 1
            for i, amount in enumerate(pnl, start=1):
                day[i] += amount
    Execution.objects.bulk_create(rows, batch_size=2000)
    for day, (count, funding, fees, price) in totals.items():
        pnl_totals_add(
            owner_id=subscription.owner_id, day=day, executions=count, funding=funding, fees=fees, price=price
        )


def page_queries(client, paths: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, path in paths.items():
        client.get(path)  # a second visit, as the benchmark counts
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        counts[name] = len(captured.captured_queries)
    return counts


def pages(user) -> dict[str, str]:
    newest = executions_of_user(user=user).order_by("-funding_time", "-pk").first()
    return {
        "dashboard": reverse("dashboard"),
        "executions list": reverse("execution_list"),
        "execution detail": reverse("execution_detail", args=[newest.pk]),
    }


def test_pages_run_the_same_queries_at_1k_and_10k_executions(alice_client, subscription, user):
    """Dashboard, executions list and a detail page: the query count is a property of the page, not of the data;
    and the chart still ends at the sum of every execution's P&L."""
    for minutes in (3, 20):  # something in flight for "Next executions"
        make_execution(subscription, minutes=minutes, status=ExecutionStatus.PLANNED)
    seed(subscription, start=0, stop=SMALL)
    add_legs(executions_of_user(user=user).order_by("-funding_time", "-pk").first(), prefix="small")
    small = page_queries(alice_client, pages(user))

    seed(subscription, start=SMALL, stop=LARGE)
    newest = make_execution(
        subscription, minutes=-1, pnl_funding=Decimal("1"), pnl_fees=Decimal("-0.5"), pnl_price=Decimal("0.25")
    )
    add_legs(newest, prefix="large")
    large = page_queries(alice_client, pages(user))

    assert Execution.objects.count() == LARGE + 3
    assert small == large, (small, large)
    chart = alice_client.get(reverse("dashboard")).context["chart"]
    columns = zip(*Execution.objects.values_list("pnl_funding", "pnl_fees", "pnl_price"), strict=True)
    funding, fees, price = (sum((v for v in column if v is not None), Decimal(0)) for column in columns)
    # To 1e-9: SQLite's SUM() of the day totals adds floats (PostgreSQL's is exact).
    nano = Decimal("1e-9")
    assert {s.key: s.last.quantize(nano) for s in chart.series} == {
        "funding": funding.quantize(nano),
        "fees": fees.quantize(nano),
        "price": price.quantize(nano),
        "net": (funding + fees + price).quantize(nano),
    }


def _plans(run) -> list[str]:
    """EXPLAIN of every statement ``run`` sends to the execution table, exactly as the pages send it."""
    with CaptureQueriesContext(connection) as captured:
        run()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if "arbitrage_execution" not in query["sql"]:
                continue
            if connection.vendor == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
                plans.append("\n".join(str(row[-1]) for row in cursor.fetchall()))
            else:
                cursor.execute(f"EXPLAIN {query['sql']}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


def test_newest_first_pages_read_the_owner_index_without_sorting(subscription, user):
    """The list, the recent executions and the chart's window walk ``execution_owner_newest`` in order and stop at
    their LIMIT: no sort of the owner's whole history."""
    seed(subscription, start=0, stop=300)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # tiny tables: make the planner show what the index can do
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
    reads = {
        "list": lambda: list(executions_of_user(user=user).order_by("-funding_time", "-pk")[:25]),
        "recent": lambda: executions_recent_for_user(user=user),
        "chart": lambda: pnl_cumulative_for_user(user=user, limit=100),
    }
    for name, run in reads.items():
        (plan,) = _plans(run)
        with_index = plan.split("\n")[0] if connection.vendor == "sqlite" else plan
        assert "execution_owner_newest" in with_index, (name, plan)
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, (name, plan)


def test_upcoming_reads_only_what_is_in_flight(subscription, user):
    """'Next executions' finds the few rows in flight in ``execution_owner_status`` and sorts only them, rather
    than walking the owner's finished history for them (SQLite would, to skip a sort)."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL plans this from its statistics")
    seed(subscription, start=0, stop=300)
    make_execution(subscription, minutes=3, status=ExecutionStatus.PLANNED)
    (plan,) = _plans(lambda: executions_upcoming_for_user(user=user))
    assert "COVERING INDEX execution_owner_status" in plan, plan
    assert "execution_owner_newest" not in plan, plan


def test_chart_starts_from_the_running_total_of_everything_before_its_window(subscription, user):
    """Past the chart's window the first point carries every older execution, including those that share the
    window's first instant: the totals less the window, not a sum over older instants."""
    same_instant = timezone.now().replace(microsecond=0) - timedelta(hours=8)
    amounts = [Decimal("1"), Decimal("2"), Decimal("4"), Decimal("8"), Decimal("16")]
    for index, amount in enumerate(amounts):
        other = subscription if index == 0 else _another_subscription(subscription, index)
        at = same_instant - timedelta(hours=index // 3)
        make_execution(other, funding_time=at, pnl_funding=amount, pnl_fees=Decimal("-0.5"), pnl_final=True)
    points = pnl_cumulative_for_user(user=user, limit=2)
    assert [p.funding for p in points][-1] == sum(amounts)
    assert points[-1].fees == Decimal("-2.5")
    assert PnlTotal.objects.filter(owner=user).aggregate(n=Sum("executions"))["n"] == len(amounts)


def _another_subscription(subscription, index: int):
    """A copy of ``subscription`` on another symbol (one execution per subscription and instant)."""
    return subscribe(
        subscription.owner,
        subscription.primary_account,
        subscription.hedge_account,
        symbol=("ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT")[index - 1],
        quantity="100",
    )


def test_deleting_a_subscription_takes_its_pnl_out_of_the_totals(subscription, user):
    """Its executions go with it, and so does their P&L: the totals keep matching the rows that remain."""
    make_execution(subscription, pnl_funding=Decimal("3"), pnl_fees=Decimal("-1"), pnl_final=True)
    kept = _another_subscription(subscription, 1)
    make_execution(kept, pnl_funding=Decimal("2"), pnl_price=Decimal("0.5"), pnl_final=True)
    subscription.delete()
    total = PnlTotal.objects.filter(owner=user).aggregate(
        n=Sum("executions"), f=Sum("funding"), c=Sum("fees"), p=Sum("price")
    )
    assert total == {"n": 1, "f": Decimal("2"), "c": Decimal("0"), "p": Decimal("0.5")}

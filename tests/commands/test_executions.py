"""executions: the JSON shape scripts rely on, the table, filters, and a query count independent of the rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arbitrage.models import Execution, ExecutionEvent, Order
from arbitrage.services.accounts import account_create
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create
from tests.commands.conftest import one_line

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("simulator_nowhere")]

T = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def offline_subscription(owner, symbol: str = "DOGEUSDT"):
    """A subscription whose accounts point nowhere: these tests only read the database."""
    accounts = [
        account_create(
            owner=owner, exchange=exchange, label=f"{exchange} {symbol}", api_key=f"{owner.username}-{exchange}-key",
            api_secret="secret", environment="simulator",
        )
        for exchange in ("bybit", "bingx")
    ]  # fmt: skip
    data = SubscriptionInput(symbol=symbol, primary_account=accounts[0], hedge_account=accounts[1], quantity=100)
    return subscription_create(owner=owner, data=data, check_live_limits=False)


def make_execution(subscription, *, funding_time=T, status="completed", legs=True, **fields) -> Execution:
    execution = Execution.objects.create(
        subscription=subscription, owner_id=subscription.owner_id, funding_time=funding_time, status=status,
        status_changed_at=funding_time,
        deadline_at=funding_time + timedelta(minutes=5), symbol=subscription.symbol, primary_venue="bybit",
        hedge_venue="bingx", primary_side="sell", quantity=Decimal(100), leverage=3, lead_seconds=5,
        close_delay_seconds=10, **fields,
    )  # fmt: skip
    if legs:
        for role, venue, account, side in (
            ("primary", "bybit", subscription.primary_account, "sell"),
            ("hedge", "bingx", subscription.hedge_account, "buy"),
        ):
            Order.objects.create(
                execution=execution, role=role, action="open", venue=venue, account=account, symbol=execution.symbol,
                side=side, quantity=Decimal(100), client_order_id=f"x{execution.pk}-{role}", status="filled",
                exchange_order_id="123456789012345678" if venue == "bingx" else "", filled_quantity=Decimal("100"),
                avg_price=Decimal("0.150030000000"), fee=Decimal("0.0082500"),
                sent_at=funding_time - timedelta(seconds=5),
                acked_at=funding_time - timedelta(seconds=4, microseconds=987654),
            )  # fmt: skip
        ExecutionEvent.objects.create(
            execution=execution, at=funding_time - timedelta(seconds=5, microseconds=12345), step="open_sent",
            outcome="ok", venue="bybit", duration_ms=Decimal("12.345"), detail="",
        )  # fmt: skip
        ExecutionEvent.objects.create(execution=execution, at=funding_time + timedelta(seconds=10), step="closed",
                                      outcome="ok")  # fmt: skip
    return execution


def test_executions_json_shape(user, cli):
    """Every documented key, decimals as strings, times ISO UTC with ms and Z, offsets from funding time."""
    subscription = offline_subscription(user)
    execution = make_execution(
        subscription, pnl_funding=Decimal("0.0150"), pnl_fees=Decimal("-0.0165"), pnl_price=None, pnl_final=True
    )
    [row] = json.loads(cli("executions", "--json").stdout)
    assert row == {
        "id": execution.pk,
        "subscription": subscription.pk,
        "user": "alice",
        "symbol": "DOGEUSDT",
        "funding_time": "2026-11-24T08:00:00.000Z",
        "status": "completed",
        "error": None,
        "pnl": {"funding": "0.015", "fees": "-0.0165", "price": None, "net": "-0.0015", "final": True},
        "legs": [
            {
                "role": "primary", "action": "open", "attempt": 1, "venue": "bybit", "side": "sell",
                "quantity": "100", "client_order_id": f"x{execution.pk}-primary", "exchange_order_id": None,
                "status": "filled", "filled_quantity": "100", "avg_price": "0.15003", "fee": "0.00825",
                "sent_at": "2026-11-24T07:59:55.000Z", "acked_at": "2026-11-24T07:59:55.012Z",
            },
            {
                "role": "hedge", "action": "open", "attempt": 1, "venue": "bingx", "side": "buy",
                "quantity": "100", "client_order_id": f"x{execution.pk}-hedge",
                "exchange_order_id": "123456789012345678", "status": "filled", "filled_quantity": "100",
                "avg_price": "0.15003", "fee": "0.00825",
                "sent_at": "2026-11-24T07:59:55.000Z", "acked_at": "2026-11-24T07:59:55.012Z",
            },
        ],
        "events": [
            {
                "at": "2026-11-24T07:59:54.987Z", "offset_ms": "-5012.345", "step": "open_sent", "outcome": "ok",
                "venue": "bybit", "duration_ms": "12.345", "detail": None,
            },
            {
                "at": "2026-11-24T08:00:10.000Z", "offset_ms": "10000", "step": "closed", "outcome": "ok",
                "venue": None, "duration_ms": None, "detail": None,
            },
        ],
    }  # fmt: skip


def test_executions_unknown_pnl_is_null_and_error_kept(user, cli):
    """An execution without P&L: every pnl figure null, final false; its error text is returned."""
    make_execution(offline_subscription(user), status="failed", legs=False, error="BingX open failed: no margin")
    [row] = json.loads(cli("executions", "--json").stdout)
    assert row["pnl"] == {"funding": None, "fees": None, "price": None, "net": None, "final": False}
    assert (row["status"], row["error"], row["legs"], row["events"]) == (
        "failed",
        "BingX open failed: no margin",
        [],
        [],
    )


def test_executions_newest_first_with_limit(user, cli):
    """Newest funding time first; --limit caps the count; default 50."""
    subscription = offline_subscription(user)
    for hour in range(55):
        make_execution(subscription, funding_time=T + timedelta(hours=hour), legs=False)
    rows = json.loads(cli("executions", "--json", "--limit", "3").stdout)
    assert [row["funding_time"] for row in rows] == [
        "2026-11-26T14:00:00.000Z",
        "2026-11-26T13:00:00.000Z",
        "2026-11-26T12:00:00.000Z",
    ]
    assert len(json.loads(cli("executions", "--json").stdout)) == 50


def test_executions_filters_by_user_subscription_and_status(user, other_user, cli):
    """--user, --subscription and --status (case-insensitive) each narrow the list."""
    mine, theirs = offline_subscription(user), offline_subscription(other_user, symbol="XRPUSDT")
    done = make_execution(mine, legs=False)
    skipped = make_execution(mine, funding_time=T + timedelta(hours=8), status="skipped", legs=False)
    other = make_execution(theirs, legs=False)

    def ids(*args):
        return [row["id"] for row in json.loads(cli("executions", "--json", *args).stdout)]

    assert ids() == [skipped.pk, other.pk, done.pk]  # same funding time: the newer row first
    assert ids("--user", "bob") == [other.pk]
    assert ids("--user", "alice", "--status", "SKIPPED") == [skipped.pk]
    assert ids("--subscription", str(theirs.pk)) == [other.pk]
    assert ids("--status", "unwound") == []


def test_executions_query_count_is_constant(user, cli):
    """One execution or twelve (with legs and events): the same number of queries."""

    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as captured:
            cli("executions", "--json", "--user", "alice")
        return len(captured)

    subscription = offline_subscription(user)
    make_execution(subscription)
    few = queries_for_listing()
    for hour in range(1, 12):
        make_execution(subscription, funding_time=T + timedelta(hours=hour))
    assert queries_for_listing() == few == 4  # the user, the executions, their orders, their events
    with CaptureQueriesContext(connection) as captured:
        cli("executions")
    assert len(captured) == 3


def test_executions_table_has_one_line_per_execution(user, cli):
    """Without --json: a header, then one row per execution with status and net P&L; multi-line errors folded."""
    subscription = offline_subscription(user)
    make_execution(subscription, pnl_funding=Decimal("0.5"), pnl_final=True)
    make_execution(subscription, funding_time=T + timedelta(hours=8), status="failed", error="line one\nline two")
    lines = cli("executions").stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "FUNDING", "TIME"]
    assert len(lines) == 3
    assert "failed" in lines[1] and lines[1].endswith("line one line two")
    assert "completed" in lines[2] and "+0.5000" in lines[2]


def test_executions_empty_list(user, cli):
    """No executions: JSON is an empty list."""
    assert json.loads(cli("executions", "--json").stdout) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--user", "ghost"), "--user: no user named 'ghost'"),
        (("--subscription", "999999"), "--subscription: no subscription with id 999999"),
        (("--subscription", "abc"), "--subscription: 'abc' is not an id"),
        (("--status", "done"), "--status: choose one of planned, "),
        (("--limit", "0"), "--limit: enter a whole number from 1 to 10000"),
        (("--limit", "-5"), "--limit: enter a whole number from 1 to 10000"),
        (("--limit", "1.5"), "--limit: '1.5' is not a whole number"),
        (("--limit", "many"), "--limit: 'many' is not a whole number"),
    ],
)
def test_executions_rejects_mistakes_with_one_line(user, cli, args, expected):
    """Unknown users and ids, bad statuses and limits: one CommandError line."""
    with pytest.raises(CommandError) as caught:
        cli("executions", *args)
    assert expected in str(caught.value)
    assert one_line(caught.value)


def test_executions_refuses_another_users_subscription(user, other_user, cli):
    """--user bob with alice's subscription id: not found for bob."""
    subscription = offline_subscription(user)
    with pytest.raises(CommandError, match=f"no subscription of user 'bob' with id {subscription.pk}"):
        cli("executions", "--user", "bob", "--subscription", str(subscription.pk))

"""Measurement 6: the dashboard, the executions list and an execution detail with 10 000 executions and 100 000
events in the database, served by gunicorn on loopback to 8 concurrent logged-in clients.

Queries per page are counted in-process (``CaptureQueriesContext``) at 1 000 and again at 10 000 executions: the
same count at both sizes means constant in the data size.

Run: ``python -m bench.web OUT.json [executions] [requests_per_client]`` (the orchestrator does).
"""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.common import ROOT, django_setup, summary, write_json

CLIENTS = 8
PASSWORD = "bench-password-1"
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT")
STEPS = (
    "status_preflight",
    "clock_synced",
    "venues_read",
    "preflight",
    "leverage_set",
    "leverage_verified",
    "primary_open_sent",
    "hedge_open_sent",
    "status_open",
    "status_completed",
)


def seed_user():
    from django.contrib.auth import get_user_model

    from arbitrage.models import ExchangeAccount, Subscription

    user = get_user_model().objects.create_user("bench", password=PASSWORD)
    accounts = []
    for venue in ("bybit", "bingx"):
        account = ExchangeAccount(owner=user, exchange=venue, label=f"{venue} main", environment="simulator")
        account.set_credentials(api_key=f"bench-{venue}-key", api_secret=f"bench-{venue}-secret")
        account.save()
        accounts.append(account)
    subscriptions = [
        Subscription.objects.create(
            owner=user,
            symbol=SYMBOLS[i % len(SYMBOLS)],
            primary_account=accounts[i % 2],
            hedge_account=accounts[1 - i % 2],
            quantity=Decimal("0.1"),
            leverage=3,
        )
        for i in range(20)
    ]
    return user, subscriptions


def seed_executions(subscriptions, *, start: int, stop: int) -> None:
    """Executions ``start``..``stop`` (counted across subscriptions), each with 10 events and its two open orders."""
    from arbitrage.models import Execution, ExecutionEvent, Order

    now = datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(start)
    rows = []
    for index in range(start, stop):
        subscription = subscriptions[index % len(subscriptions)]
        instant = now - timedelta(hours=8 * (index // len(subscriptions)))
        status = "completed" if index % 10 else rng.choice(["skipped", "failed", "unwound"])
        rows.append(
            Execution(
                subscription=subscription,
                owner_id=subscription.owner_id,
                funding_time=instant,
                status=status,
                status_changed_at=instant,
                deadline_at=instant + timedelta(minutes=1),
                symbol=subscription.symbol,
                primary_venue=subscription.primary_account.exchange,
                hedge_venue=subscription.hedge_account.exchange,
                primary_side="sell",
                quantity=subscription.quantity,
                leverage=3,
                lead_seconds=5,
                close_delay_seconds=10,
                primary_rate=Decimal("0.0001"),
                hedge_rate=Decimal("0.00005"),
                mark_price=Decimal("3400"),
                expected_edge_bps=Decimal("0.5"),
                pnl_funding=Decimal("0.034") if status == "completed" else None,
                pnl_fees=Decimal("-0.02") if status == "completed" else None,
                pnl_price=Decimal(rng.randint(-100, 100)) / 1000 if status == "completed" else None,
                pnl_final=status == "completed",
                opened_at=instant - timedelta(seconds=5),
                closed_at=instant + timedelta(seconds=10),
            )
        )
    executions = Execution.objects.bulk_create(rows, batch_size=2000)
    if executions[0].pk is None:  # backends that do not return ids
        executions = list(Execution.objects.order_by("-pk")[: len(rows)])
    events, orders = [], []
    for execution in executions:
        base = execution.funding_time - timedelta(seconds=40)
        for step_index, step in enumerate(STEPS):
            events.append(
                ExecutionEvent(
                    execution=execution,
                    at=base + timedelta(seconds=4 * step_index),
                    step=step,
                    outcome="ok",
                    venue="bybit" if step_index % 2 else "",
                    duration_ms=Decimal("51.250"),
                    detail=f"{step}: sell 0.1 {execution.symbol}",
                )
            )
        for role, account, side in (
            ("primary", execution.subscription.primary_account, "sell"),
            ("hedge", execution.subscription.hedge_account, "buy"),
        ):
            orders.append(
                Order(
                    execution=execution,
                    role=role,
                    action="open",
                    venue=account.exchange,
                    account=account,
                    symbol=execution.symbol,
                    side=side,
                    quantity=execution.quantity,
                    client_order_id=f"fabench-{execution.pk:x}-{role[0]}o1",
                    status="filled",
                    filled_quantity=execution.quantity,
                    avg_price=Decimal("3400"),
                    fee=Decimal("-0.01"),
                    sent_at=base,
                    acked_at=base + timedelta(milliseconds=52),
                )
            )
    ExecutionEvent.objects.bulk_create(events, batch_size=5000)
    Order.objects.bulk_create(orders, batch_size=5000)


def pages(user) -> dict[str, str]:
    from arbitrage.models import Execution

    latest = Execution.objects.filter(subscription__owner=user).order_by("-funding_time", "-pk").first()
    return {"dashboard": "/", "executions list": "/executions/", "execution detail": f"/executions/{latest.pk}/"}


def count_queries(user) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    counts = {}
    for name, path in pages(user).items():
        client.get(path)  # warm caches the way a second visit would
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[name] = len(captured.captured_queries)
    return counts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _login(base: str):
    import requests

    session = requests.Session()
    form = session.get(f"{base}/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    answer = session.post(
        f"{base}/login/",
        data={"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login failed: HTTP {answer.status_code}")
    return session


def drive(base: str, paths: dict[str, str], detail_ids: list[int], per_client: int) -> dict[str, dict]:
    sessions = [_login(base) for _ in range(CLIENTS)]
    for session in sessions:  # warm every worker and connection
        for path in paths.values():
            session.get(base + path, timeout=30)
    results = {}
    for name, path in paths.items():
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()

        def client(session, seed: int, name=name, path=path, latencies=latencies, errors=errors, lock=lock) -> None:
            rng = random.Random(seed)
            for _ in range(per_client):
                target = f"/executions/{rng.choice(detail_ids)}/" if name == "execution detail" else path
                started = time.perf_counter()
                response = session.get(base + target, timeout=30)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed * 1000)
                    if response.status_code != 200 or "csrfmiddlewaretoken" in response.text[:0]:
                        errors[0] += 1

        threads = [threading.Thread(target=client, args=(s, i)) for i, s in enumerate(sessions)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        stats = summary(latencies)
        ordered = sorted(latencies)
        stats["p50"] = stats["median"]
        stats["p95"] = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
        stats["errors"] = errors[0]
        stats["requests_per_second"] = len(latencies) / wall
        results[name] = stats
    return results


def main() -> None:
    out = sys.argv[1]
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    per_client = int(sys.argv[3]) if len(sys.argv) > 3 else 25
    django_setup()
    from arbitrage.models import Execution, ExecutionEvent

    started = time.monotonic()
    user, subscriptions = seed_user()
    small = max(1, total // 10)
    seed_executions(subscriptions, start=0, stop=small)
    queries_small = count_queries(user)
    seed_executions(subscriptions, start=small, stop=total)
    seed_seconds = time.monotonic() - started
    queries_full = count_queries(user)
    executions = Execution.objects.count()
    events = ExecutionEvent.objects.count()
    paths = pages(user)
    detail_ids = list(Execution.objects.values_list("pk", flat=True))

    from django.db import connections

    connections.close_all()
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    server = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "fundarb_site.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        latency = drive(base, paths, detail_ids, per_client)
    finally:
        server.terminate()
        server.wait(timeout=20)
    write_json(
        out,
        {
            "executions": executions,
            "events": events,
            "clients": CLIENTS,
            "requests_per_page": CLIENTS * per_client,
            "server": "gunicorn, 2 workers x 4 threads (gthread)",
            "queries_small": queries_small,
            "queries_full": queries_full,
            "small_executions": small,
            "pages": latency,
            "seed_seconds": seed_seconds,
        },
    )


if __name__ == "__main__":
    main()

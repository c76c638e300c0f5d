"""Shared plumbing for the benchmark parts: Django on the throw-away database, the simulator process, statistics,
a query counter that sees every thread's connection, and fast set-up of users, accounts and subscriptions."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LATENCY_MS = 50


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if os.environ.get("BENCH_DATABASE_URL"):
        call_command("flush", verbosity=0, interactive=False)


# --- Statistics ----------------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (p99 of 30 values is the largest: no interpolation flatters it)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "median": statistics.median(values) if values else float("nan"),
        "p99": percentile(values, 99),
        "min": min(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
    }


def write_json(path: str, data: dict) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=str))


# --- The simulator, in its own process ---------------------------------------------------------------------------


class SimProcess:
    """A simulator subprocess with the given latency, as this process's SIMULATOR_URL; ``control`` drives it over
    its HTTP control API."""

    def __init__(self, latency_ms: int = LATENCY_MS) -> None:
        from django.conf import settings

        from exchanges.simulator import SimulatorControl

        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.simserver", str(latency_ms)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the simulator did not start")
        settings.SIMULATOR_URL = self.base_url
        self.control = SimulatorControl(self.base_url, timeout=30)

    def instant(self, venue: str, at_ms: int, *symbols: str) -> None:
        """Put the next funding of ``symbols`` on ``venue`` at exactly ``at_ms`` (venue clock)."""
        self.process.stdin.write(f"instant {venue} {at_ms} {' '.join(symbols)}\n")
        self.process.stdin.flush()
        if self.process.stdout.readline().strip() != "ok":
            raise RuntimeError("the simulator refused the instant")

    def stop(self) -> None:
        self.control.close()
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- Query counting on every connection (the driver's stage threads each have their own) --------------------------


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self.enabled = False

    def __call__(self, execute, sql, params, many, context):
        if self.enabled:
            with self._lock:
                self.count += 1
        return execute(sql, params, many, context)

    def install(self) -> None:
        from django.db import connections
        from django.db.backends.signals import connection_created

        def attach(sender, connection, **kwargs) -> None:
            if self not in connection.execute_wrappers:
                connection.execute_wrappers.append(self)

        connection_created.connect(attach, weak=False)
        for connection in connections.all():
            attach(None, connection)


# --- Fast set-up ---------------------------------------------------------------------------------------------------


def make_users_and_accounts(control, count: int, *, prefix: str = "u", balance: str = "100000"):
    """``count`` users, each with one Bybit and one BingX account (one-way mode) on the simulator at SIMULATOR_URL."""
    from django.contrib.auth import get_user_model

    from arbitrage.models import ExchangeAccount

    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"{prefix}{i}", password="!") for i in range(count)], batch_size=500
    )
    users = list(user_model.objects.filter(username__startswith=prefix).order_by("pk"))
    accounts = []
    for user in users:
        for venue in ("bybit", "bingx"):
            key, secret = f"{user.username}-{venue}-key", f"{user.username}-{venue}-secret"
            control.add_account(venue, key, secret, hedge=False, balance=Decimal(balance))
            account = ExchangeAccount(owner=user, exchange=venue, label=f"{venue} main", environment="simulator")
            account.set_credentials(api_key=key, api_secret=secret)
            accounts.append(account)
    ExchangeAccount.objects.bulk_create(accounts, batch_size=500)
    by_owner: dict[int, dict[str, ExchangeAccount]] = {}
    for account in ExchangeAccount.objects.filter(owner__in=users):
        by_owner.setdefault(account.owner_id, {})[account.exchange] = account
    return [(user, by_owner[user.pk]["bybit"], by_owner[user.pk]["bingx"]) for user in users]


QUANTITY = {"BTCUSDT": Decimal("0.01"), "ETHUSDT": Decimal("0.2")}


def make_subscriptions(triples, symbols: tuple[str, ...], *, lead: int = 1, close_delay: int = 1):
    from arbitrage.models import Subscription

    rows = [
        Subscription(
            owner=user,
            symbol=symbol,
            primary_account=bybit,
            hedge_account=bingx,
            quantity=QUANTITY[symbol],
            leverage=5,
            lead_seconds=lead,
            close_delay_seconds=close_delay,
            min_edge_bps=Decimal("-1000"),  # mechanics, not profitability
        )
        for user, bybit, bingx in triples
        for symbol in symbols
    ]
    return Subscription.objects.bulk_create(rows, batch_size=500)


def executor_settings(**overrides) -> None:
    from django.conf import settings

    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, **overrides}


def machine() -> dict:
    import platform

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }

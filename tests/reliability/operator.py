"""An operator process for the real-process tests: a Django process on the test's private database that does what a
user, an admin page or a command would (seed accounts, pause, pull the kill switch, enqueue tasks) and reads rows
back, answering one JSON line per JSON line on stdin. It stays up, so each action takes milliseconds, not a Django
start-up.

    python -m tests.reliability.operator      (DJANGO_SETTINGS_MODULE and DATABASE_URL from the environment)
"""

from __future__ import annotations

import json
import sys
import traceback
from datetime import datetime
from decimal import Decimal
from typing import Any


def _setup() -> None:
    import django

    django.setup()


def seed(*, username: str, accounts: dict[str, dict[str, str]], primary: str, **options: Any) -> dict:
    """A user, an account per venue (keys already added on the simulator at SIMULATOR_URL) and one subscription."""
    from django.contrib.auth import get_user_model

    from arbitrage.services.accounts import account_create
    from arbitrage.services.subscriptions import SubscriptionInput, subscription_create

    user = get_user_model().objects.create_user(username, email=f"{username}@example.com", password="x-Pass-1234")
    created = {
        venue: account_create(
            owner=user,
            exchange=venue,
            label=f"{venue} main",
            api_key=keys["key"],
            api_secret=keys["secret"],
            environment="simulator",
        )
        for venue, keys in accounts.items()
    }
    hedge = "bingx" if primary == "bybit" else "bybit"
    subscription = subscription_create(
        owner=user,
        data=SubscriptionInput(
            symbol=options.get("symbol", "ETHUSDT"),
            primary_account=created[primary],
            hedge_account=created[hedge],
            quantity=Decimal(options.get("quantity", "0.5")),
            leverage=int(options.get("leverage", 5)),
            lead_seconds=int(options.get("lead_seconds", 1)),
            close_delay_seconds=int(options.get("close_delay_seconds", 1)),
            min_edge_bps=Decimal("-1000"),
        ),
    )
    return {"user": user.pk, "subscription": subscription.pk}


def plan() -> list[str]:
    from arbitrage.services.planner import executions_plan

    return [instant.isoformat() for instant in executions_plan()]


def enqueue(*, func: str, args: list[Any] | None = None, count: int = 1) -> list[str]:
    from django_q.tasks import async_task

    return [async_task(func, *(args or []), task_name=f"{func} #{n}") for n in range(count)]


def pause(*, subscription: int) -> None:
    from arbitrage.models import Subscription
    from arbitrage.services.subscriptions import subscription_pause

    subscription_pause(subscription=Subscription.objects.get(pk=subscription))


def kill_switch(*, user: int) -> None:
    from django.contrib.auth import get_user_model

    from arbitrage.services.subscriptions import kill_switch_set

    kill_switch_set(user=get_user_model().objects.get(pk=user), engaged=True)


def executions(*, subscription: int) -> list[dict]:
    from arbitrage.models import Execution

    return list(
        Execution.objects.filter(subscription_id=subscription).values(
            "pk", "status", "error", "funding_time", "deadline_at", "driver_token"
        )
    )


def orders(*, subscription: int) -> list[dict]:
    from arbitrage.models import Order

    return list(
        Order.objects.filter(execution__subscription_id=subscription).values(
            "client_order_id", "role", "action", "attempt", "status", "filled_quantity"
        )
    )


def subscription_state(*, subscription: int) -> dict:
    from arbitrage.models import Subscription

    return Subscription.objects.values("status", "last_error").get(pk=subscription)


def tasks(*, func: str) -> list[dict]:
    from django_q.models import Task

    return list(Task.objects.filter(func=func).values("name", "result", "success", "started", "stopped"))


def queued() -> int:
    from django_q.models import OrmQ

    return OrmQ.objects.count()


OPERATIONS = {
    f.__name__: f
    for f in (seed, plan, enqueue, pause, kill_switch, executions, orders, subscription_state, tasks, queued)
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def main() -> None:
    _setup()
    out = sys.stdout
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            result = OPERATIONS[request["op"]](**request.get("args", {}))
            answer = {"ok": True, "result": result}
        except Exception as exc:
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        print(json.dumps(answer, default=_plain), file=out, flush=True)


if __name__ == "__main__":
    main()

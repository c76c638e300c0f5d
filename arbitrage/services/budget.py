"""One request budget per venue account and endpoint class, shared by every process that calls the venue.

The venues count requests per account over a rolling second and block an account that keeps going over (BingX:
HTTP 429, then 418 for minutes). A per-process pacer cannot keep several workers, the web server and a command
under that limit together, so the budget lives in the database: each row keeps the latest request slots of one
account and endpoint class, and a request takes the next free slot under a row lock. Slots may lie in the future
(reserved): both legs of a pair take theirs before either is sent, so the caller can check the pair's later slot
against the open cutoff before anything leaves.

Callers reserve in their own thread (a database transaction) and then wait for the slot wherever they send.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from arbitrage.models import ExchangeAccount, RequestBudget
from arbitrage.services import clock
from exchanges.base import Venue
from exchanges.limits import REQUEST_LIMITS, RequestKind

# Slightly more than the venues' one-second window: requests spaced by our clock can arrive closer together.
WINDOW_SECONDS = 1.1


def request_limit(venue: Venue, kind: RequestKind) -> int:
    """Requests per second this account may send to ``kind`` endpoints (the venue's documented limit)."""
    if venue is Venue.BINGX and kind is RequestKind.ORDER:
        return int(settings.FUNDARB_EXECUTOR["BINGX_ORDERS_PER_SECOND"])
    return REQUEST_LIMITS[venue][kind]


@dataclass(frozen=True)
class Slot:
    account_id: int
    kind: RequestKind
    at: float  # epoch seconds on the service clock

    def wait(self) -> None:
        """Sleep until the slot (safe on any thread: no database access)."""
        pause = self.at - clock.clock.time()
        if pause > 0:
            time.sleep(pause)


def _rows(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], RequestBudget]:
    """Lock (creating if needed) the budget rows. Precondition: inside a transaction.

    A trigger reserves for hundreds of accounts at once, so this costs a few statements whatever their number."""
    accounts, kinds = {a for a, _ in pairs}, {k for _, k in pairs}
    existing = set(
        RequestBudget.objects.filter(account_id__in=accounts, kind__in=kinds).values_list("account_id", "kind")
    )
    # A concurrent first request may create a row meanwhile: ignoring that conflict leaves its row standing.
    RequestBudget.objects.bulk_create(
        [RequestBudget(account_id=a, kind=k) for a, k in sorted(pairs - existing)], ignore_conflicts=True
    )
    rows = RequestBudget.objects.select_for_update().filter(account_id__in=accounts, kind__in=kinds)
    return {(row.account_id, row.kind): row for row in rows.order_by("pk") if (row.account_id, row.kind) in pairs}


def budget_reserve(
    requests: Iterable[tuple[ExchangeAccount, RequestKind]], *, not_before: float | None = None
) -> list[Slot]:
    """Take the next free slot for each request, in order, in one transaction. Returns the slots (same order)."""
    requests = list(requests)
    if not requests:
        return []
    start = max(clock.clock.time(), not_before or 0.0)
    with transaction.atomic():
        rows = _rows({(account.pk, kind.value) for account, kind in requests})
        slots = []
        for account, kind in requests:
            row = rows[(account.pk, kind.value)]
            limit = request_limit(account.venue, kind)
            recent = sorted(at for at in row.slots if at > start - WINDOW_SECONDS)
            at = start if len(recent) < limit else max(start, recent[-limit] + WINDOW_SECONDS)
            row.slots = sorted([*recent, at])[-limit:]
            slots.append(Slot(account_id=account.pk, kind=kind, at=at))
        RequestBudget.objects.bulk_update(list(rows.values()), ["slots"], batch_size=500)
    return slots


def budget_take(account: ExchangeAccount, kind: RequestKind) -> Slot:
    """One slot now or as soon as the account's budget allows."""
    return budget_reserve([(account, kind)])[0]

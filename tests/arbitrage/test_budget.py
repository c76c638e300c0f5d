"""The shared request budget: per account and endpoint class, in the database, never over the venue's limit."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from arbitrage.services.budget import WINDOW_SECONDS, budget_reserve, request_limit
from exchanges.limits import RequestKind

pytestmark = pytest.mark.django_db(transaction=True)


def _most_in_any_window(times: list[float]) -> int:
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + WINDOW_SECONDS) for start in times)


def test_slots_beyond_the_limit_wait_a_window(sim_accounts):
    """BingX takes 5 orders a second: the sixth slot is a window after the first; the Bybit budget is separate."""
    bybit, bingx = sim_accounts
    slots = budget_reserve([(bingx, RequestKind.ORDER)] * 6 + [(bybit, RequestKind.ORDER)])
    bingx_slots = [s.at for s in slots[:6]]
    assert request_limit(bingx.venue, RequestKind.ORDER) == 5
    assert bingx_slots[5] >= bingx_slots[0] + WINDOW_SECONDS
    assert _most_in_any_window(bingx_slots) == 5
    assert slots[6].at <= bingx_slots[0] + 0.1  # another account, another budget


def test_the_bingx_order_limit_is_configurable(sim_accounts, settings):
    """One setting for BingX's order limit (5/s documented, 10/s announced)."""
    settings.FUNDARB_EXECUTOR = {**settings.FUNDARB_EXECUTOR, "BINGX_ORDERS_PER_SECOND": 10}
    _, bingx = sim_accounts
    slots = [s.at for s in budget_reserve([(bingx, RequestKind.ORDER)] * 10)]
    assert max(slots) - min(slots) < 0.5


def test_concurrent_takers_share_one_budget(sim_accounts):
    """Four threads (standing in for four workers) taking BingX position-read slots at once: never more than the
    venue's 5 in any window, however they interleave."""
    _, bingx = sim_accounts
    taken: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        try:
            for _ in range(3):
                (slot,) = budget_reserve([(bingx, RequestKind.POSITIONS)])
                with lock:
                    taken.append(slot.at)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(taken) == 12
    assert _most_in_any_window(taken) <= 5

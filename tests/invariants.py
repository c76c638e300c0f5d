"""Checks that hold for every scenario, read from the simulator's own books (shared by the whole suite)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from exchanges.simulator.control import ControlError

_SIGN = {("both", "buy"): 1, ("both", "sell"): -1, ("long", "buy"): 1, ("long", "sell"): -1}
_SIGN |= {("short", "sell"): 1, ("short", "buy"): -1}


def _net_by_slot(orders: list[dict], prefix: str) -> dict[str, Decimal]:
    net: dict[str, Decimal] = defaultdict(Decimal)
    for order in orders:
        if order["client_id"].startswith(prefix):
            net[order["slot"]] += _SIGN[(order["slot"], order["side"])] * Decimal(order["filled"])
    return {slot: size for slot, size in net.items() if size}


def positions_left_by_final_executions(sim) -> list[str]:
    """Executions in a final status whose own orders (by client id) still net to a position on this simulator."""
    from arbitrage.models import TERMINAL_STATUSES, Execution
    from arbitrage.services.plan import client_order_id

    problems = []
    executions = Execution.objects.filter(status__in=TERMINAL_STATUSES).select_related(
        "subscription__primary_account", "subscription__hedge_account"
    )
    for execution in executions:
        # Every order of one execution starts with these fixed-width fields, and no other execution's does.
        prefix = client_order_id(execution_id=execution.pk, role="p", action="o", attempt=1)[: -len("po1")]
        for account in (execution.subscription.primary_account, execution.subscription.hedge_account):
            try:
                orders = sim.orders(account.exchange, account.api_key)
            except ControlError:
                continue  # this account lives on another simulator
            left = _net_by_slot(orders, prefix)
            if left:
                problems.append(f"execution #{execution.pk} is {execution.status} but {account.exchange} holds {left}")
    return problems

"""What must hold after every scenario, checked on the venues (the simulator's own books) and in the database.

Shared by the in-process fault matrix and the real-process tests: venue books come from ``orders()``/``positions()``
of a ``Simulator`` or a ``SimulatorControl``; database rows come in as plain dicts, wherever they were read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

# fa<install prefix: 6><execution base36: 13><role><action><attempt>, as services.plan.client_order_id writes them.
CLIENT_ID = re.compile(r"^fa[a-z0-9]{6}(?P<execution>[a-z0-9]{13})(?P<role>[ph])(?P<action>[ocu])(?P<attempt>\d+)$")
ROLES = {"p": "primary", "h": "hedge"}
ACTIONS = {"o": "open", "c": "close", "u": "unwind"}
LABELS = {"bybit": "Bybit", "bingx": "BingX"}
TERMINAL = {"completed", "skipped", "failed", "unwound"}
ON_VENUE_STATES = {"acked", "filled", "partially_filled"}


class VenueBooks(Protocol):
    def orders(self, venue: str, api_key: str) -> list[dict[str, Any]]: ...

    def positions(self, venue: str, api_key: str) -> list[dict[str, Any]]: ...


@dataclass
class VenueCount:
    """One account's book on one venue, read from the venue."""

    venue: str
    role: str
    orders: list[dict[str, Any]]
    positions: list[dict[str, Any]]
    kinds: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for order in self.orders:
            match = CLIENT_ID.match(order["client_id"])
            if match:
                self.kinds[(ROLES[match["role"]], ACTIONS[match["action"]])] += 1

    @property
    def client_ids(self) -> list[str]:
        return [order["client_id"] for order in self.orders]

    def count(self, action: str) -> int:
        return sum(n for (_, kind), n in self.kinds.items() if kind == action)

    def summary(self) -> str:
        parts = [f"{self.count(action)} {action}" for action in ("open", "close", "unwind") if self.count(action)]
        book = ", ".join(parts) if parts else "0 orders"
        held = "flat" if not self.positions else f"{sum(Decimal(p['size']) for p in self.positions)} open"
        return f"{LABELS[self.venue]} ({self.role}): {book}; {held}"


def venue_count(books: VenueBooks, *, venue: str, api_key: str, role: str) -> VenueCount:
    return VenueCount(
        venue=venue, role=role, orders=books.orders(venue, api_key), positions=books.positions(venue, api_key)
    )


def counted_text(counts: Iterable[VenueCount]) -> str:
    return " · ".join(count.summary() for count in counts)


def violations(
    counts: list[VenueCount],
    *,
    db_orders: list[dict[str, Any]],
    executions: list[dict[str, Any]],
    allowed: Iterable[str],
    open_until_close: bool = False,
) -> list[str]:
    """Every broken rule, in words (empty when the scenario held).

    ``db_orders``: client_order_id, status, filled_quantity; ``executions``: status, error.
    """
    problems: list[str] = []
    allowed = set(allowed)
    # No lost or duplicated execution record, a clear status and message.
    if len(executions) != 1:
        problems.append(f"{len(executions)} execution rows for one instant (want exactly 1)")
    for execution in executions:
        if execution["status"] not in allowed:
            problems.append(f"status {execution['status']!r} not in {sorted(allowed)}: {execution['error']!r}")
        if not open_until_close and execution["status"] not in TERMINAL:
            problems.append(f"status {execution['status']!r} is not terminal")
        if execution["status"] != "completed" and not str(execution["error"]).strip():
            problems.append(f"status {execution['status']!r} without a message")
    known = {order["client_order_id"]: order for order in db_orders}
    for count in counts:
        label = LABELS[count.venue]
        # No duplicate order: one venue order per client id, at most one open per leg.
        duplicates = [cid for cid, n in Counter(count.client_ids).items() if n > 1]
        if duplicates:
            problems.append(f"{label}: client ids sent twice: {duplicates}")
        opens = count.count("open")
        if opens > 1:
            problems.append(f"{label}: {opens} open orders (want at most 1)")
        # No naked leg, nothing open the database does not know about.
        if count.positions and not open_until_close:
            problems.append(f"{label}: left open: {count.positions}")
        for order in count.orders:
            row = known.get(order["client_id"])
            if row is None:
                problems.append(f"{label}: order {order['client_id']} on the venue is unknown to the database")
            elif row["status"] not in ON_VENUE_STATES:
                problems.append(f"{label}: order {order['client_id']} is on the venue but recorded {row['status']!r}")
    on_venues = {cid for count in counts for cid in count.client_ids}
    for order in db_orders:
        if Decimal(str(order["filled_quantity"])) > 0 and order["client_order_id"] not in on_venues:
            problems.append(f"order {order['client_order_id']} recorded filled but absent from its venue")
    return problems

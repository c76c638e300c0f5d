"""The question tests ask of settlement records: at venue V's funding instant T, what did given accounts net to?

Records come from ``sim.settlements(...)`` (in-process or over HTTP, the same plain shape): ``{"venue", "symbol",
"time_ms", "positions": [{"venue", "api_key", "slot", "side", "size"}, ...]}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, NamedTuple


class SettlementNet(NamedTuple):
    venue: str  # the venue that settled
    time_ms: int  # its funding instant
    net: Decimal  # long positive, short negative; zero means hedged (or all flat)


def settlement_net(
    records: Iterable[Mapping[str, Any]], symbol: str, accounts: Iterable[tuple[str, str]]
) -> list[SettlementNet]:
    """For each settlement of ``symbol`` (oldest first), the signed sum of the positions of ``accounts``, given as
    ``(venue, api_key)`` pairs: a hedge of account A on Bybit against account B on BingX nets to zero."""
    wanted = {(str(venue), api_key) for venue, api_key in accounts}
    found = []
    for record in records:
        if record["symbol"] != symbol:
            continue
        net = sum(
            (_signed(p) for p in record["positions"] if (p["venue"], p["api_key"]) in wanted),
            Decimal(0),
        )
        found.append(SettlementNet(record["venue"], int(record["time_ms"]), net))
    return found


def _signed(position: Mapping[str, Any]) -> Decimal:
    size = Decimal(str(position["size"]))
    return size if position["side"] == "long" else -size

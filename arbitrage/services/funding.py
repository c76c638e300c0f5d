"""Funding payments from the venues' own ledgers (Bybit's transaction log, BingX's income history), stored as one
row per payment: the proof the close waits for, and what the P&L adds up.

Rows carry the venue's clock (which may differ from ours by seconds) and BingX stamps them seconds after the instant,
so an execution's window is its open time to its close, widened by margins that still exclude the next instant.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from arbitrage.models import Execution, FundingPayment, LegRole
from arbitrage.services import clock
from arbitrage.services.budget import Slot, budget_reserve
from arbitrage.services.clients import client_for_account
from arbitrage.services.parallel import run_parallel
from exchanges.base import FundingPayment as LedgerRow
from exchanges.errors import ExchangeError
from exchanges.limits import RequestKind

logger = logging.getLogger(__name__)
LEDGER_BEFORE = timedelta(seconds=30)
LEDGER_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class LedgerLook:
    rows: dict[str, list[FundingPayment]]  # per leg, every row stored for the execution so far
    new: list[FundingPayment]  # the rows this look found first
    unavailable: dict[str, str]  # per leg whose ledger could not be read: why


def ledger_window(execution: Execution) -> tuple[datetime, datetime]:
    trigger = execution.funding_time - timedelta(seconds=execution.lead_seconds)
    since = min(execution.opened_at or trigger, trigger) - LEDGER_BEFORE
    until = max(execution.closed_at or clock.now(), execution.funding_time) + LEDGER_AFTER
    return since, until


def funding_payments_read(*, execution: Execution, roles: Iterable[str]) -> LedgerLook:
    """Read the given legs' ledgers at once (within each account's budget) and store the payments they show."""
    subscription = execution.subscription
    accounts = {LegRole.PRIMARY: subscription.primary_account, LegRole.HEDGE: subscription.hedge_account}
    roles = set(roles)
    wanted = [role for role in (LegRole.PRIMARY, LegRole.HEDGE) if role in roles]
    since, until = ledger_window(execution)
    slots = budget_reserve([(accounts[role], RequestKind.LEDGER) for role in wanted])

    def read(role: str, slot: Slot) -> list[LedgerRow]:
        slot.wait()
        client = client_for_account(accounts[role])
        return client.funding_payments(since=since, until=until, symbol=execution.symbol)

    outcomes = run_parallel(*[(lambda r=r, s=s: read(r, s)) for r, s in zip(wanted, slots, strict=True)])
    new: list[FundingPayment] = []
    unavailable: dict[str, str] = {}
    for role, outcome in zip(wanted, outcomes, strict=True):
        if outcome.error is not None:
            error = outcome.error
            unavailable[role] = str(error) if isinstance(error, ExchangeError) else type(error).__name__
            logger.warning("funding ledger of account %s unavailable: %s", accounts[role].pk, unavailable[role])
            continue
        for payment in outcome.value:
            if since <= payment.time <= until and payment.payment_id:
                stored = _store(execution, role, payment)
                if stored is not None:
                    new.append(stored)
    rows = {role: [] for role in (LegRole.PRIMARY, LegRole.HEDGE)}
    for row in FundingPayment.objects.filter(execution=execution):
        rows[row.leg].append(row)
    return LedgerLook(rows=rows, new=new, unavailable=unavailable)


def _store(execution: Execution, role: str, payment: LedgerRow) -> FundingPayment | None:
    """The row, if it is new (a second reader racing us stores it once)."""
    row, created = FundingPayment.objects.get_or_create(
        execution=execution,
        leg=role,
        ledger_id=payment.payment_id,
        defaults={
            "venue": payment.venue.value,
            "funding_time": execution.funding_time,
            "paid_at": payment.time,
            "amount": payment.amount,
            "found_at": clock.now(),
        },
    )
    return row if created else None

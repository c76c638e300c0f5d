"""Leverage sync: set on both venues in parallel, read back on both in parallel, explain any failure.

Used before every trigger (execution), and on its own from the UI, the admin and `manage.py sync_leverage`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from arbitrage.models import AuditAction, ExchangeAccount, Subscription
from arbitrage.services import clock
from arbitrage.services.audit import Actor, audit_record
from arbitrage.services.clients import client_for_account
from arbitrage.services.parallel import Outcome, run_parallel
from arbitrage.services.venue_targets import account_target_problem
from exchanges.base import ExchangeClient, LeverageInfo, PositionMode, Venue
from exchanges.errors import ExchangeError

StepRecorder = Callable[..., None]


@dataclass(frozen=True)
class VenueLeverage:
    venue: Venue
    account_id: int
    requested: int
    confirmed: LeverageInfo | None
    error: str
    set_started: datetime | None
    set_seconds: float | None
    verify_seconds: float | None

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class LeverageSyncResult:
    leverage: int
    venues: tuple[VenueLeverage, ...]
    elapsed: float

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.venues)

    @property
    def reason(self) -> str:
        return "; ".join(f"{v.venue.label}: {v.error}" for v in self.venues if v.error)


class LeverageSyncFailed(Exception):
    def __init__(self, result: LeverageSyncResult) -> None:
        self.result = result
        super().__init__(f"Leverage {result.leverage}x could not be set: {result.reason}")


def _explain(error: BaseException) -> str:
    if isinstance(error, ExchangeError):
        return str(error)
    return f"unexpected error ({type(error).__name__}); see the server log"


def _set(client: ExchangeClient, symbol: str, leverage: int, mode: PositionMode | None) -> PositionMode:
    mode = mode or client.position_mode(symbol)
    client.set_leverage(symbol, leverage, position_mode=mode)
    return mode


def _confirmed(info: LeverageInfo, leverage: int, mode: PositionMode) -> str:
    """Empty when the venue reports exactly ``leverage``; a fractional value (set in the web UI) is a mismatch, and
    a side the venue does not report cannot be verified, which fails the sync like a mismatch."""
    sides = (info.long, info.short) if mode is PositionMode.HEDGE else (info.long,)
    if any(side is None for side in sides):
        reason = info.unknown_reason or f"{info.venue.label} did not report the leverage"
        return f"could not verify {leverage}x: {reason}"
    if all(side == leverage for side in sides):
        return ""
    shown = f"{info.long}x long / {info.short}x short" if mode is PositionMode.HEDGE else f"{info.long}x"
    return f"the venue reports {shown} after we set {leverage}x"


def leverage_sync_accounts(
    *,
    symbol: str,
    leverage: int,
    accounts: tuple[ExchangeAccount, ExchangeAccount],
    position_modes: dict[int, PositionMode] | None = None,
    record: StepRecorder | None = None,
) -> LeverageSyncResult:
    """Set ``leverage`` on both accounts at once, then read it back on both at once.

    ``record(step=..., outcome=..., venue=..., duration=..., detail=..., at=...)`` is called for each venue step.
    """
    position_modes = position_modes or {}
    clients = [client_for_account(account) for account in accounts]
    started = clock.clock.time()
    set_outcomes = run_parallel(
        *[
            (lambda c=c, a=a: _set(c, symbol, leverage, position_modes.get(a.pk)))
            for c, a in zip(clients, accounts, strict=True)
        ]
    )
    verify_calls = [(lambda c=c: c.leverage(symbol)) for c, o in zip(clients, set_outcomes, strict=True) if o.ok]
    verify_iter = iter(run_parallel(*verify_calls)) if verify_calls else iter(())

    venues = []
    for account, set_outcome in zip(accounts, set_outcomes, strict=True):
        verify: Outcome | None = next(verify_iter) if set_outcome.ok else None
        error = _explain(set_outcome.error) if set_outcome.error else ""
        if not error and verify is not None:
            error = _explain(verify.error) if verify.error else _confirmed(verify.value, leverage, set_outcome.value)
        venue_result = VenueLeverage(
            venue=account.venue,
            account_id=account.pk,
            requested=leverage,
            confirmed=verify.value if verify is not None and verify.ok else None,
            error=error,
            set_started=datetime.fromtimestamp(set_outcome.started, tz=UTC),
            set_seconds=set_outcome.duration,
            verify_seconds=verify.duration if verify is not None else None,
        )
        venues.append(venue_result)
        if record is not None:
            record(
                step="leverage_set",
                outcome="ok" if set_outcome.ok else "failed",
                venue=account.exchange,
                duration=set_outcome.duration,
                detail=f"{leverage}x" if set_outcome.ok else error,
                at=venue_result.set_started,
            )
            if verify is not None:
                record(
                    step="leverage_verified",
                    outcome="ok" if venue_result.ok else "failed",
                    venue=account.exchange,
                    duration=verify.duration,
                    detail=f"read back {leverage}x" if venue_result.ok else error,
                    at=datetime.fromtimestamp(verify.started, tz=UTC),
                )
    return LeverageSyncResult(leverage=leverage, venues=tuple(venues), elapsed=clock.clock.time() - started)


def leverage_sync(
    *, subscription: Subscription, leverage: int | None = None, actor: Actor | None = None
) -> LeverageSyncResult:
    """Sync a subscription's leverage (or ``leverage``, saved on success) on both venues, by hand (the executor
    uses ``leverage_sync_accounts``). Status is not changed.

    Raises ``LeverageSyncFailed`` (with every venue's reason) when either venue fails or disagrees, and without
    sending anything when the base-URL rules refuse either account.
    """
    target = subscription.leverage if leverage is None else leverage
    accounts = (subscription.primary_account, subscription.hedge_account)
    problems = [account_target_problem(account) for account in accounts]
    result = (
        _refused(target, accounts, problems)
        if any(problems)
        else leverage_sync_accounts(symbol=subscription.symbol, leverage=target, accounts=accounts)
    )
    outcome = f"{target}x confirmed on both venues" if result.ok else f"{target}x failed: {result.reason}"
    audit_record(actor=actor, action=AuditAction.LEVERAGE_SYNCED, obj=subscription, detail=outcome)
    if not result.ok:
        raise LeverageSyncFailed(result)
    fields = {"leverage_synced_at": clock.now()}
    if leverage is not None:
        fields["leverage"] = leverage
    Subscription.objects.filter(pk=subscription.pk).update(**fields)
    for name, value in fields.items():
        setattr(subscription, name, value)
    return result


def _refused(leverage: int, accounts: tuple[ExchangeAccount, ...], problems: list[str]) -> LeverageSyncResult:
    venues = tuple(
        VenueLeverage(
            venue=account.venue,
            account_id=account.pk,
            requested=leverage,
            confirmed=None,
            error=problem or "nothing was sent (the other account is refused)",
            set_started=None,
            set_seconds=None,
            verify_seconds=None,
        )
        for account, problem in zip(accounts, problems, strict=True)
    )
    return LeverageSyncResult(leverage=leverage, venues=venues, elapsed=0.0)

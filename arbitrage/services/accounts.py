"""Exchange accounts: create, change, delete, and the connection check."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.deletion import ProtectedError

from arbitrage.models import (
    TERMINAL_STATUSES,
    AccountEnvironment,
    AuditAction,
    Exchange,
    ExchangeAccount,
    Execution,
    Subscription,
)
from arbitrage.services import clock
from arbitrage.services.audit import Actor, audit_record
from arbitrage.services.clients import client_for_account, probe_client
from arbitrage.services.venue_targets import account_target_problem, base_url_clean
from exchanges.base import ClockSync, KeyPermissions, PositionMode, Venue
from exchanges.errors import ExchangeError

MAX_LABEL = 60
MAX_CREDENTIAL = 512


def _clean_credential(name: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({name: "Required."})
    if len(value) > MAX_CREDENTIAL or any(ch.isspace() for ch in value) or not value.isprintable():
        raise ValidationError({name: f"Must be at most {MAX_CREDENTIAL} printable characters without spaces."})
    return value


def _clean_label(label: str) -> str:
    label = (label or "").strip()
    if not label:
        raise ValidationError({"label": "Required."})
    if len(label) > MAX_LABEL or not label.isprintable():
        raise ValidationError({"label": f"At most {MAX_LABEL} printable characters."})
    return label


def _clean_target(exchange: str, environment: str, base_url: str) -> str:
    if exchange not in Exchange.values:
        raise ValidationError({"exchange": f"Choose one of: {', '.join(Exchange.values)}."})
    if environment not in AccountEnvironment.values:
        raise ValidationError({"environment": f"Choose one of: {', '.join(AccountEnvironment.values)}."})
    if exchange == Exchange.BINGX and environment == AccountEnvironment.TESTNET and not base_url:
        raise ValidationError({"environment": "BingX has no testnet; use demo (BingX VST) instead."})
    return base_url_clean(venue=Venue(exchange), environment=environment, base_url=base_url)


def account_create(
    *,
    owner,
    exchange: str,
    label: str,
    api_key: str,
    api_secret: str,
    environment: str = AccountEnvironment.MAINNET,
    base_url: str = "",
    actor: Actor | None = None,
) -> ExchangeAccount:
    account = ExchangeAccount(
        owner=owner,
        exchange=exchange,
        label=_clean_label(label),
        environment=environment,
        base_url=_clean_target(exchange, environment, base_url),
    )
    account.set_credentials(
        api_key=_clean_credential("api_key", api_key), api_secret=_clean_credential("api_secret", api_secret)
    )
    if ExchangeAccount.objects.filter(owner=owner, label=account.label).exists():
        raise ValidationError({"label": f"You already have an account labelled '{account.label}'."})
    _check_key_unused(account)
    try:
        with transaction.atomic():
            account.save()
            audit_record(actor=actor, action=AuditAction.ACCOUNT_ADDED, obj=account, detail=_where(account))
    except IntegrityError:
        _check_key_unused(account)
        raise ValidationError({"label": f"You already have an account labelled '{account.label}'."}) from None
    return account


def _check_key_unused(account: ExchangeAccount) -> None:
    """One venue account, one row: two rows trading one account would net their positions in one-way mode."""
    taken = ExchangeAccount.objects.filter(
        exchange=account.exchange, environment=account.environment, key_fingerprint=account.key_fingerprint
    ).exclude(pk=account.pk)
    if taken.exists():
        raise ValidationError(
            {"api_key": f"This API key is already registered in fundarb for {account.venue.label} "
             f"({account.get_environment_display()}). One venue account can take part only once: two accounts "
             "trading it would net each other's positions."}
        )  # fmt: skip


def _where(account: ExchangeAccount) -> str:
    own_url = f", base URL {account.base_url}" if account.base_url else ""
    return f"{account.venue.label}, {account.get_environment_display()}{own_url}"


def account_update(
    *,
    account: ExchangeAccount,
    label: str,
    environment: str,
    base_url: str = "",
    api_key: str = "",
    api_secret: str = "",
    actor: Actor | None = None,
) -> ExchangeAccount:
    """Change an account. Blank key or secret fields keep the stored ones (secrets are write-only).

    While an execution on the account is unfinished its venue may hold our position: the environment and base URL
    cannot change, and a new key is taken only when the venue says it belongs to the same account.
    """
    _guard_in_flight(account, environment=environment, base_url=base_url, api_key=api_key, api_secret=api_secret)
    before = _where(account)
    old_label = account.label
    account.label = _clean_label(label)
    account.base_url = _clean_target(account.exchange, environment, base_url)
    account.environment = environment
    if api_key or api_secret:
        account.set_credentials(
            api_key=_clean_credential("api_key", api_key or account.api_key),
            api_secret=_clean_credential("api_secret", api_secret or account.api_secret),
        )
    if ExchangeAccount.objects.filter(owner_id=account.owner_id, label=account.label).exclude(pk=account.pk).exists():
        raise ValidationError({"label": f"You already have an account labelled '{account.label}'."})
    _check_key_unused(account)
    account.last_check_ok = None
    changes = [f"{name} replaced" for name, given in (("API key", api_key), ("API secret", api_secret)) if given]
    if account.label != old_label:
        changes.append(f"label {old_label!r} -> {account.label!r}")
    if _where(account) != before:
        changes.append(f"{before} -> {_where(account)}")
    with transaction.atomic():
        account.save()
        audit_record(
            actor=actor,
            action=AuditAction.KEY_CHANGED if api_key or api_secret else AuditAction.ACCOUNT_CHANGED,
            obj=account,
            detail="; ".join(changes) or "saved without changes",
        )
    return account


def account_in_flight(account: ExchangeAccount) -> Execution | None:
    """An unfinished execution of either role on this account."""
    uses = Q(subscription__primary_account=account) | Q(subscription__hedge_account=account)
    return Execution.objects.filter(uses).exclude(status__in=TERMINAL_STATUSES).order_by("pk").first()


def _guard_in_flight(
    account: ExchangeAccount, *, environment: str, base_url: str, api_key: str, api_secret: str
) -> None:
    execution = account_in_flight(account)
    if execution is None:
        return
    busy = f"execution #{execution.pk} ({execution.get_status_display().lower()}) is still using this account"
    if environment != account.environment or (base_url or "").strip() != account.base_url:
        raise ValidationError(
            {"environment": f"The environment and base URL cannot change while {busy}; change them after it ends."}
        )
    if not (api_key or api_secret):
        return
    new_key, new_secret = api_key or account.api_key, api_secret or account.api_secret
    try:
        known = account.venue_account_id or client_for_account(account).account_id()
        offered = probe_client(account, api_key=new_key, api_secret=new_secret).account_id()
    except ExchangeError as exc:
        raise ValidationError(
            {"api_key": f"The new key could not be checked while {busy} ({exc}); nothing was changed."}
        ) from None
    if offered != known:
        raise ValidationError(
            {"api_key": f"While {busy}, a new key is accepted only for the same {account.venue.label} account; this "
             "key belongs to another one. Nothing was changed."}
        )  # fmt: skip


def account_delete(*, account: ExchangeAccount, actor: Actor | None = None) -> None:
    try:
        with transaction.atomic():
            audit_record(actor=actor, action=AuditAction.ACCOUNT_DELETED, obj=account, detail=_where(account))
            account.delete()
    except ProtectedError:
        used = Subscription.objects.filter(primary_account=account) | Subscription.objects.filter(hedge_account=account)
        ids = ", ".join(f"#{pk}" for pk in used.values_list("pk", flat=True)[:5])
        raise ValidationError(f"'{account.label}' is used by subscription {ids}; delete those first.") from None


@dataclass(frozen=True)
class AccountCheck:
    ok: bool
    message: str
    clock: ClockSync | None = None
    position_mode: PositionMode | None = None
    available_margin: Decimal | None = None
    permissions: KeyPermissions | None = None

    @property
    def warnings(self) -> list[str]:
        return self.permissions.warnings if self.permissions else []


def account_check(*, account: ExchangeAccount, symbol: str = "BTCUSDT", actor: Actor | None = None) -> AccountCheck:
    """Connect with the stored key: clock offset, position mode, margin, key permissions. Stores the outcome.

    An account the base-URL rules refuse is not contacted: the check fails with the reason."""
    problem = account_target_problem(account)
    result, venue_id = (AccountCheck(ok=False, message=problem), "") if problem else _connect(account, symbol)
    result = _store_check(account, result, venue_id)
    outcome = "ok" if result.ok else "failed"
    audit_record(actor=actor, action=AuditAction.ACCOUNT_CHECKED, obj=account, detail=f"{outcome}: {result.message}")
    return result


def _connect(account: ExchangeAccount, symbol: str) -> tuple[AccountCheck, str]:
    client = client_for_account(account)
    venue_id = account.venue_account_id
    try:
        sync = client.sync_clock()
        permissions = client.key_permissions()
        mode = client.position_mode(symbol)
        balance = client.balance()
        venue_id = client.account_id()
    except ExchangeError as exc:
        return AccountCheck(ok=False, message=str(exc)), ""
    return _with_identity(account, venue_id, _connected(sync, permissions, mode, balance)), venue_id


def _store_check(account: ExchangeAccount, result: AccountCheck, venue_id: str) -> AccountCheck:
    """Keep the outcome, and the venue's account id unless another entry already holds it."""
    fields = {
        "last_checked_at": clock.now(),
        "last_check_ok": result.ok,
        "last_check_message": result.message,
        "can_withdraw": result.permissions.can_withdraw if result.permissions else account.can_withdraw,
    }
    if venue_id and not _registered_elsewhere(account, venue_id):
        fields["venue_account_id"] = venue_id
    try:
        with transaction.atomic():
            ExchangeAccount.objects.filter(pk=account.pk).update(**fields)
    except IntegrityError:  # another entry claimed the same venue account a moment ago
        fields.pop("venue_account_id")
        result = AccountCheck(ok=False, message=_taken_message(account))
        fields.update(last_check_ok=False, last_check_message=result.message)
        ExchangeAccount.objects.filter(pk=account.pk).update(**fields)
    return result


def _registered_elsewhere(account: ExchangeAccount, venue_id: str) -> bool:
    return bool(venue_id) and (
        ExchangeAccount.objects.filter(exchange=account.exchange, environment=account.environment)
        .filter(venue_account_id=venue_id)
        .exclude(pk=account.pk)
        .exists()
    )


def _taken_message(account: ExchangeAccount) -> str:
    return (
        f"This key belongs to a {account.venue.label} account that is already registered in fundarb under another "
        "entry. One venue account can take part only once: two entries trading it would net each other's "
        "positions. Use that entry, or a key of another account."
    )


def _with_identity(account: ExchangeAccount, venue_id: str, result: AccountCheck) -> AccountCheck:
    if not _registered_elsewhere(account, venue_id):
        return result
    return AccountCheck(
        ok=False,
        message=_taken_message(account),
        clock=result.clock,
        position_mode=result.position_mode,
        available_margin=result.available_margin,
        permissions=result.permissions,
    )


def _connected(sync: ClockSync, permissions: KeyPermissions, mode: PositionMode, balance) -> AccountCheck:
    trade = "can trade perpetuals" if permissions.can_trade_perpetuals else "CANNOT trade perpetuals"
    message = (
        f"Connected: clock offset {sync.offset * 1000:+.0f} ms, {mode.value.replace('_', '-')} mode, "
        f"{balance.available_margin:.2f} {balance.asset} available, key {trade}"
    )
    if permissions.warnings:
        message += ". " + " ".join(permissions.warnings)
    return AccountCheck(
        ok=permissions.can_trade_perpetuals and not permissions.can_withdraw,
        message=message,
        clock=sync,
        position_mode=mode,
        available_margin=balance.available_margin,
        permissions=permissions,
    )

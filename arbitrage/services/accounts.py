"""Exchange accounts: create, change, delete, and the connection check."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from arbitrage.models import AccountEnvironment, Exchange, ExchangeAccount, Subscription
from arbitrage.services import clock
from arbitrage.services.clients import client_for_account
from exchanges.base import ClockSync, KeyPermissions, PositionMode, Venue
from exchanges.errors import ExchangeError
from exchanges.factory import OFFICIAL_HOSTS

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
    base_url = (base_url or "").strip()
    if base_url:
        try:
            URLValidator(schemes=["http", "https"])(base_url)
        except ValidationError:
            raise ValidationError({"base_url": "Enter a full http:// or https:// URL."}) from None
        _check_base_url_target(Venue(exchange), environment, base_url)
    return base_url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url_target(venue: Venue, environment: str, base_url: str) -> None:
    """Signed requests (and their answers, shown to the user) must not be aimed at internal services: an account's
    own URL may name the venue's official hosts (https), loopback for the simulator, or a host the operator allows
    in VENUE_ALLOWED_HOSTS (a proxy)."""
    parsed = urlsplit(base_url)
    host = (parsed.hostname or "").lower()
    allowed_by_operator = host in {h.lower() for h in settings.VENUE_ALLOWED_HOSTS}
    if allowed_by_operator:
        return
    if environment == AccountEnvironment.SIMULATOR:
        if not _is_loopback(host):
            raise ValidationError(
                {"base_url": "A simulator URL must be on this machine (localhost or 127.0.0.1); ask the operator to "
                 "add other hosts to VENUE_ALLOWED_HOSTS."}
            )  # fmt: skip
        return
    if host not in OFFICIAL_HOSTS[venue] or parsed.scheme != "https":
        hosts = ", ".join(sorted(OFFICIAL_HOSTS[venue]))
        raise ValidationError(
            {"base_url": f"Use https:// with one of {venue.label}'s API hosts ({hosts}), or leave it empty; a proxy "
             "must be added to VENUE_ALLOWED_HOSTS by the operator."}
        )  # fmt: skip


def account_create(
    *,
    owner,
    exchange: str,
    label: str,
    api_key: str,
    api_secret: str,
    environment: str = AccountEnvironment.MAINNET,
    base_url: str = "",
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
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:
        raise ValidationError({"label": f"You already have an account labelled '{account.label}'."}) from None
    return account


def account_update(
    *,
    account: ExchangeAccount,
    label: str,
    environment: str,
    base_url: str = "",
    api_key: str = "",
    api_secret: str = "",
) -> ExchangeAccount:
    """Change an account. Blank key or secret fields keep the stored ones (secrets are write-only)."""
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
    account.last_check_ok = None
    account.save()
    return account


def account_delete(*, account: ExchangeAccount) -> None:
    try:
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


def account_check(*, account: ExchangeAccount, symbol: str = "BTCUSDT") -> AccountCheck:
    """Connect with the stored key: clock offset, position mode, margin, key permissions. Stores the outcome."""
    client = client_for_account(account)
    try:
        sync = client.sync_clock()
        permissions = client.key_permissions()
        mode = client.position_mode(symbol)
        balance = client.balance()
    except ExchangeError as exc:
        result = AccountCheck(ok=False, message=str(exc))
    else:
        trade = "can trade perpetuals" if permissions.can_trade_perpetuals else "CANNOT trade perpetuals"
        message = (
            f"Connected: clock offset {sync.offset * 1000:+.0f} ms, {mode.value.replace('_', '-')} mode, "
            f"{balance.available_margin:.2f} {balance.asset} available, key {trade}"
        )
        if permissions.warnings:
            message += ". " + " ".join(permissions.warnings)
        result = AccountCheck(
            ok=permissions.can_trade_perpetuals and not permissions.can_withdraw,
            message=message,
            clock=sync,
            position_mode=mode,
            available_margin=balance.available_margin,
            permissions=permissions,
        )
    ExchangeAccount.objects.filter(pk=account.pk).update(
        last_checked_at=clock.now(),
        last_check_ok=result.ok,
        last_check_message=result.message,
        can_withdraw=result.permissions.can_withdraw if result.permissions else account.can_withdraw,
    )
    return result

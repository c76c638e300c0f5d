"""API keys and secrets are Fernet ciphertext in the database, and FIELD_ENCRYPTION_KEYS rotates: old secrets
stay readable while a new key is added, `rotate_encryption_keys` re-encrypts them, then the old key can go."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection

from arbitrage.crypto import SecretUnreadable
from arbitrage.models import ExchangeAccount
from arbitrage.services.accounts import account_create
from arbitrage.services.secrets import secrets_rotate
from tests.commands.conftest import run

pytestmark = pytest.mark.django_db

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))
PLAIN_KEY, PLAIN_SECRET = "AtRestKey0123456789abc", "AtRestSecret-9f8e7d6c5b4a"


def add_account(owner, label: str, key: str = PLAIN_KEY, secret: str = PLAIN_SECRET) -> ExchangeAccount:
    return account_create(
        owner=owner, exchange="bybit", label=label, api_key=key, api_secret=secret, environment="testnet"
    )


def raw_credentials(pk: int) -> tuple[str, str]:
    """What the database holds, read past the ORM field (which would decrypt)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, api_secret FROM arbitrage_exchangeaccount WHERE id = %s", [pk])
        return cursor.fetchone()


def test_credentials_are_stored_as_fernet_tokens(user, settings):
    """Raw SQL sees Fernet tokens (version byte 0x80, base64 'gAAAAA') that decrypt to the key and secret, and
    neither plaintext appears in the row."""
    account = add_account(user, "at rest")
    raw_key, raw_secret = raw_credentials(account.pk)
    for raw, plain in ((raw_key, PLAIN_KEY), (raw_secret, PLAIN_SECRET)):
        assert raw.startswith("gAAAAA") and plain not in raw
        assert Fernet(settings.FIELD_ENCRYPTION_KEYS[0]).decrypt(raw).decode() == plain
    assert raw_key != raw_secret


def test_the_same_secret_encrypts_differently_each_time(user):
    """Fernet's random IV: two accounts with one secret have different ciphertexts (no equality leak)."""
    first, second = add_account(user, "one"), add_account(user, "two", key=PLAIN_KEY + "2")
    assert raw_credentials(first.pk)[1] != raw_credentials(second.pk)[1]


def test_rotation_keeps_old_secrets_readable_and_re_encrypts_under_the_new_key(user, settings):
    """Written under A; with "B,A" they still read; rotation moves them to B; with B alone everything reads."""
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    account = add_account(user, "rotating")
    assert Fernet(KEY_A).decrypt(raw_credentials(account.pk)[1])

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert ExchangeAccount.objects.get(pk=account.pk).api_secret == PLAIN_SECRET  # old key still decrypts
    assert secrets_rotate() == 2  # api_key and api_secret
    for raw, plain in zip(raw_credentials(account.pk), (PLAIN_KEY, PLAIN_SECRET), strict=True):
        assert Fernet(KEY_B).decrypt(raw).decode() == plain
        with pytest.raises(InvalidToken):
            Fernet(KEY_A).decrypt(raw)

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    stored = ExchangeAccount.objects.get(pk=account.pk)
    assert (stored.api_key, stored.api_secret) == (PLAIN_KEY, PLAIN_SECRET)


def test_rotation_is_idempotent(user, settings):
    """A second run re-encrypts nothing and changes no ciphertext."""
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    account = add_account(user, "twice")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert secrets_rotate() == 2
    after_first = raw_credentials(account.pk)
    assert secrets_rotate() == 0
    assert raw_credentials(account.pk) == after_first


def test_rotation_with_an_unreadable_secret_changes_nothing(user, settings):
    """A row under a key no longer configured stops the rotation: the error names the row, not the secret, and the
    rows rotated before it are rolled back."""
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    good = add_account(user, "a good")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_C]
    lost = add_account(user, "b lost", key=PLAIN_KEY + "2")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    before = raw_credentials(good.pk)
    with pytest.raises(SecretUnreadable) as caught:
        secrets_rotate()
    assert f"#{lost.pk}" in str(caught.value) and PLAIN_SECRET not in str(caught.value)
    assert raw_credentials(good.pk) == before


def test_rotate_command_prints_the_count_and_refuses_unreadable_rows(user, settings, monkeypatch):
    """`manage.py rotate_encryption_keys` prints how many values moved; a lost key is one error line."""
    from django.core.management.base import CommandError

    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    add_account(user, "cmd")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    ran = run("rotate_encryption_keys", monkeypatch=monkeypatch)
    assert ran.stdout == "re-encrypted 2 secret value(s) with the first key of FIELD_ENCRYPTION_KEYS\n"
    assert run("rotate_encryption_keys", monkeypatch=monkeypatch).stdout.startswith("re-encrypted 0 ")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_C]
    with pytest.raises(CommandError, match="no key in FIELD_ENCRYPTION_KEYS decrypts it"):
        run("rotate_encryption_keys", monkeypatch=monkeypatch)


def test_a_secret_changed_during_rotation_is_not_overwritten(user, settings, monkeypatch):
    """The re-encryption is a compare-and-set on the old ciphertext: a key saved meanwhile wins."""
    import arbitrage.services.secrets as secrets_module

    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    account = add_account(user, "racing")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    real_rotate = secrets_module.rotate

    def rotate_while_the_owner_saves(token: str) -> str:
        fresh = ExchangeAccount.objects.get(pk=account.pk)
        fresh.set_credentials(api_key="NewKeyDuringRotation", api_secret="NewSecretDuringRotation")
        fresh.save(update_fields=["api_key", "api_secret", "api_key_hint"])
        return real_rotate(token)

    monkeypatch.setattr(secrets_module, "rotate", rotate_while_the_owner_saves)
    assert secrets_rotate() == 0
    stored = ExchangeAccount.objects.get(pk=account.pk)
    assert (stored.api_key, stored.api_secret) == ("NewKeyDuringRotation", "NewSecretDuringRotation")

"""Secrets at rest: Fernet with key rotation.

`FIELD_ENCRYPTION_KEYS` lists Fernet keys; the first encrypts, every one decrypts. Rotating is: put a new key first,
run `manage.py rotate_encryption_keys` (re-encrypts every secret with the new key), then drop the old key.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models


class SecretUnreadable(Exception):
    """No configured key decrypts this value: FIELD_ENCRYPTION_KEYS lost the key it was written with."""


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def _reset_cache(*, setting, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_reset_cache)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "a stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS: restore the key it was written with"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt with the first key (a no-op in meaning: the plaintext is unchanged)."""
    return _fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code sees plaintext. Never shown in forms or the admin."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def formfield(self, **kwargs):
        # Secrets are write-only: forms declare their own password input, never a field bound to the stored value.
        return None

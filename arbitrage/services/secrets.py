"""Secrets at rest: re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS.

Rotation procedure (also in .env.example): put the new key first in FIELD_ENCRYPTION_KEYS and restart every web
server and worker, run ``manage.py rotate_encryption_keys``, then drop the old key and restart again.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import ExpressionWrapper, F, Model, TextField, Value

from arbitrage.crypto import EncryptedTextField, SecretUnreadable, rotate
from arbitrage.models import AuditAction
from arbitrage.services.audit import Actor, audit_record

_RAW = "_rotation_raw_ciphertext"


def _encrypted_fields() -> list[tuple[type[Model], str]]:
    return [
        (model, field.attname)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def _raw(model: type[Model], attname: str):
    # Typed as a plain TextField, the column skips EncryptedTextField.from_db_value: this reads the ciphertext.
    return model._default_manager.annotate(**{_RAW: ExpressionWrapper(F(attname), output_field=TextField())})


@transaction.atomic
def secrets_rotate(*, actor: Actor | None = None) -> int:
    """Re-encrypt, under the first configured key, every EncryptedTextField value written under another key.

    Returns how many values were re-encrypted. Idempotent: a value already under the first key is left alone, so
    a second run returns 0. One transaction: if any value cannot be decrypted (its key was dropped too early),
    nothing is changed and ``SecretUnreadable`` names the row, never the secret.
    """
    primary = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
    rotated = 0
    for model, attname in _encrypted_fields():
        rows = _raw(model, attname).exclude(**{f"{attname}__isnull": True}).values_list("pk", _RAW)
        for pk, token in list(rows):  # read first: SQLite cannot update under an open cursor
            if not token:
                continue
            try:
                primary.decrypt(token.encode())
                continue  # already under the first key
            except InvalidToken:
                pass
            try:
                new_token = rotate(token)
            except InvalidToken:
                raise SecretUnreadable(
                    f"{model._meta.label} #{pk} {attname}: no key in FIELD_ENCRYPTION_KEYS decrypts it; "
                    "restore the key it was written with (nothing was re-encrypted)"
                ) from None
            # Compare-and-set on the old ciphertext: a secret changed meanwhile was written under the first key.
            # Value(..., TextField) stores the token as is (the field's own get_prep_value would encrypt it again).
            rotated += (
                _raw(model, attname)
                .filter(pk=pk, **{_RAW: token})
                .update(**{attname: Value(new_token, output_field=TextField())})
            )
    audit_record(actor=actor, action=AuditAction.KEYS_ROTATED, detail=f"re-encrypted {rotated} value(s)")
    return rotated

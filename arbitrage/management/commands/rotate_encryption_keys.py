"""Re-encrypt every stored API key and secret with the first key of FIELD_ENCRYPTION_KEYS.

    manage.py rotate_encryption_keys

Prints how many values were re-encrypted; safe to run again (the second run re-encrypts nothing).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from arbitrage.crypto import SecretUnreadable
from arbitrage.management.commands._common import OperatorCommand
from arbitrage.services.audit import Actor
from arbitrage.services.secrets import secrets_rotate


class Command(OperatorCommand):
    help = "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS (run after adding a key)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            count = secrets_rotate(actor=Actor.command("rotate_encryption_keys"))
        except SecretUnreadable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"re-encrypted {count} secret value(s) with the first key of FIELD_ENCRYPTION_KEYS")

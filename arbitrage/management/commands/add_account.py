"""Add an exchange account for a user. The API secret is read from standard input, never from an argument.

    printf '%s\\n' "$SECRET" | manage.py add_account --user alice --exchange bybit --label main --api-key KEY

Prints the new account's id alone on stdout.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from arbitrage.management.commands._common import OperatorCommand, read_secret, user_named, validation_message
from arbitrage.models import AccountEnvironment, Exchange
from arbitrage.services.accounts import account_create
from arbitrage.services.audit import Actor

FLAGS = {
    "exchange": "--exchange",
    "label": "--label",
    "api_key": "--api-key",
    "api_secret": "API secret (standard input)",
    "environment": "--environment",
    "base_url": "--base-url",
}


class Command(OperatorCommand):
    help = "Add an exchange account for --user; the API secret is the first line of standard input. Prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--exchange", required=True, choices=Exchange.values)
        parser.add_argument("--label", required=True, help="unique among the user's accounts")
        parser.add_argument("--api-key", required=True, metavar="KEY")
        parser.add_argument("--environment", choices=AccountEnvironment.values, default=AccountEnvironment.MAINNET)
        parser.add_argument("--base-url", default="", metavar="URL", help="overrides the environment's standard URL")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = user_named(options["user"])
        secret = read_secret(sys.stdin)
        try:
            account = account_create(
                owner=owner,
                exchange=options["exchange"],
                label=options["label"],
                api_key=options["api_key"],
                api_secret=secret,
                environment=options["environment"],
                base_url=options["base_url"],
                actor=Actor.command("add_account"),
            )
        except ValidationError as exc:
            raise CommandError(validation_message(exc, FLAGS)) from None
        self.stdout.write(str(account.pk))

"""Run the connection check of one account: clock offset, position mode, available margin, key permissions.

    manage.py check_account ACCOUNT [--user USERNAME]

ACCOUNT is an id or a label (``--user`` picks among users who share a label). The check is printed on stdout;
the exit status is 1 when it fails, with the reason as one line on stderr.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from arbitrage.management.commands._common import OperatorCommand, account_by_ref, one_line, user_named
from arbitrage.reports import account_check_lines
from arbitrage.services.accounts import account_check
from arbitrage.services.audit import Actor


class Command(OperatorCommand):
    help = "Check an exchange account's connection and key (by id or label); exit 1 when the check fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account", metavar="ACCOUNT", help="an account id, or a label")
        parser.add_argument("--user", metavar="USERNAME", help="the owner (needed when a label is not unique)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_named(options["user"]) if options["user"] is not None else None
        account = account_by_ref("ACCOUNT", options["account"], user=user)
        check = account_check(account=account, actor=Actor.command("check_account"))
        self.stdout.write(f"account #{account.pk} {account.label} ({account.venue.label}, {account.environment})")
        self.stdout.write("\n".join(account_check_lines(check)))
        if not check.ok:
            raise CommandError(f"check of account #{account.pk} failed: {one_line(check.message)}")

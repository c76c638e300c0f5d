"""Sync one subscription's leverage on both venues (in parallel), then read it back on both.

    manage.py sync_leverage SUBSCRIPTION [--leverage N] [--user USERNAME]

With ``--leverage`` the new value is saved when both venues confirm it. The subscription's status is not changed.
Prints each venue's result and the time taken; exit 1 on failure, with every venue's reason as one line on stderr.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from arbitrage.management.commands._common import (
    OperatorCommand,
    one_line,
    parse_whole,
    subscription_by_id,
    user_named,
)
from arbitrage.reports import leverage_sync_lines
from arbitrage.services.audit import Actor
from arbitrage.services.leverage import LeverageSyncFailed, leverage_sync

# The Subscription check constraint's range: a value outside it could be set on the venues but never saved.
MIN_LEVERAGE, MAX_LEVERAGE = 1, 200


def parse_leverage(text: str) -> int:
    leverage = parse_whole("--leverage", text)
    if not MIN_LEVERAGE <= leverage <= MAX_LEVERAGE:
        raise CommandError(f"--leverage: enter a whole number from {MIN_LEVERAGE} to {MAX_LEVERAGE}")
    return leverage


class Command(OperatorCommand):
    help = "Set and verify a subscription's leverage on both venues (only that); exit 1 on failure."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subscription", metavar="SUBSCRIPTION", help="a subscription id")
        parser.add_argument("--leverage", metavar="N", help="a new leverage, saved when the sync succeeds")
        parser.add_argument("--user", metavar="USERNAME", help="only if the subscription is this user's")

    def handle(self, *args: Any, **options: Any) -> None:
        leverage = parse_leverage(options["leverage"]) if options["leverage"] is not None else None
        user = user_named(options["user"]) if options["user"] is not None else None
        subscription = subscription_by_id("SUBSCRIPTION", options["subscription"], user=user)
        try:
            result = leverage_sync(subscription=subscription, leverage=leverage, actor=Actor.command("sync_leverage"))
        except LeverageSyncFailed as exc:
            self.stdout.write("\n".join(leverage_sync_lines(exc.result)))
            raise CommandError(f"subscription #{subscription.pk}: {one_line(str(exc))}") from None
        self.stdout.write("\n".join(leverage_sync_lines(result)))

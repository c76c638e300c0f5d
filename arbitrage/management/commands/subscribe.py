"""Subscribe a user to a symbol: primary and hedge accounts, quantity per leg and the trigger settings.

    manage.py subscribe --user alice --symbol DOGEUSDT --primary "bybit main" --hedge "bingx main" --quantity 100
        [--leverage 3] [--direction auto|long|short] [--min-edge-bps 0] [--lead-seconds 5]
        [--close-after-seconds 10] [--once]

Validated like the web form, against both venues' live limits. Malformed numbers fail before any venue call.
Prints the new subscription's id alone on stdout.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from arbitrage.management.commands._common import (
    OperatorCommand,
    account_by_ref,
    parse_decimal,
    parse_whole,
    user_named,
    validation_message,
)
from arbitrage.models import Direction
from arbitrage.services.subscriptions import SubscriptionInput, subscription_create

FLAGS = {
    "symbol": "--symbol",
    "primary_account": "--primary",
    "hedge_account": "--hedge",
    "quantity": "--quantity",
    "leverage": "--leverage",
    "direction": "--direction",
    "min_edge_bps": "--min-edge-bps",
    "lead_seconds": "--lead-seconds",
    "close_delay_seconds": "--close-after-seconds",
}
# Optional numeric flags: (option name, SubscriptionInput field, parser). Absent flags keep the service defaults.
OPTIONAL_NUMBERS = (
    ("leverage", "leverage", parse_whole),
    ("min_edge_bps", "min_edge_bps", lambda flag, text: Decimal(parse_decimal(flag, text))),
    ("lead_seconds", "lead_seconds", parse_whole),
    ("close_after_seconds", "close_delay_seconds", parse_whole),
)


class Command(OperatorCommand):
    help = "Subscribe --user to --symbol with two of their accounts; validated against live limits. Prints its id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--symbol", required=True, help="a USDT perpetual like BTCUSDT")
        parser.add_argument("--primary", required=True, metavar="LABEL", help="the account that earns the funding")
        parser.add_argument("--hedge", required=True, metavar="LABEL", help="the account on the other exchange")
        parser.add_argument("--quantity", required=True, metavar="Q", help="base coin per leg")
        parser.add_argument("--leverage", metavar="N", help="whole number (default 3)")
        parser.add_argument("--direction", choices=Direction.values, default=Direction.AUTO, help="of the primary leg")
        parser.add_argument("--min-edge-bps", metavar="N", help="skip an instant whose edge is below this (default 0)")
        parser.add_argument(
            "--lead-seconds",
            metavar="N",
            help="open this many seconds before funding (default and least: the pair's settlement rule, 45 with BingX)",
        )
        parser.add_argument(
            "--close-after-seconds",
            metavar="N",
            help="close at the earliest this long after funding (default and least: 60 with BingX)",
        )
        parser.add_argument("--once", action="store_true", help="one funding instant only, not recurring")

    def handle(self, *args: Any, **options: Any) -> None:
        # Parse every number first: a malformed one fails before any lookup or venue call.
        quantity = Decimal(parse_decimal("--quantity", options["quantity"]))
        numbers = {
            field: parse(f"--{name.replace('_', '-')}", options[name])
            for name, field, parse in OPTIONAL_NUMBERS
            if options[name] is not None
        }
        owner = user_named(options["user"])
        data = SubscriptionInput(
            symbol=options["symbol"],
            primary_account=account_by_ref("--primary", options["primary"], user=owner),
            hedge_account=account_by_ref("--hedge", options["hedge"], user=owner),
            quantity=quantity,
            direction=options["direction"],
            recurring=not options["once"],
            **numbers,
        )
        try:
            subscription = subscription_create(owner=owner, data=data)
        except ValidationError as exc:
            raise CommandError(validation_message(exc, FLAGS)) from None
        self.stdout.write(str(subscription.pk))

"""Executions, newest first, with their legs and timeline.

    manage.py executions [--user USERNAME] [--subscription ID] [--status STATUS] [--limit 50] [--json]

``--json`` prints the list described in ``arbitrage.reports`` (``execution_json``); otherwise a table. Three
queries whatever the number of executions (legs and events are prefetched).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser

from arbitrage.management.commands._common import OperatorCommand, parse_whole, subscription_by_id, user_named
from arbitrage.models import ExecutionStatus
from arbitrage.reports import EXECUTION_COLUMNS, execution_json, execution_row, executions_query, table

DEFAULT_LIMIT = 50
MAX_LIMIT = 10_000


def parse_limit(text: str) -> int:
    limit = parse_whole("--limit", text)
    if not 1 <= limit <= MAX_LIMIT:
        raise CommandError(f"--limit: enter a whole number from 1 to {MAX_LIMIT}")
    return limit


def parse_status(text: str) -> str:
    status = text.strip().lower()
    if status not in ExecutionStatus.values:
        raise CommandError(f"--status: choose one of {', '.join(ExecutionStatus.values)}")
    return status


class Command(OperatorCommand):
    help = "List executions (newest first) with legs and timeline; --json for scripts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", metavar="USERNAME", help="only this user's executions")
        parser.add_argument("--subscription", metavar="ID", help="only this subscription's executions")
        parser.add_argument("--status", metavar="STATUS", help=f"one of: {', '.join(ExecutionStatus.values)}")
        parser.add_argument("--limit", metavar="N", default=str(DEFAULT_LIMIT), help=f"default {DEFAULT_LIMIT}")
        parser.add_argument("--json", action="store_true", help="a JSON list instead of a table")

    def handle(self, *args: Any, **options: Any) -> None:
        limit = parse_limit(options["limit"])
        status = parse_status(options["status"]) if options["status"] is not None else None
        user = user_named(options["user"]) if options["user"] is not None else None
        subscription = (
            subscription_by_id("--subscription", options["subscription"], user=user)
            if options["subscription"] is not None
            else None
        )
        executions = executions_query(
            user=user, subscription_id=subscription.pk if subscription else None, status=status, limit=limit
        )
        if options["json"]:
            self.stdout.write(json.dumps([execution_json(execution) for execution in executions], indent=2))
        else:
            self.stdout.write(table(EXECUTION_COLUMNS, (execution_row(execution) for execution in executions)))

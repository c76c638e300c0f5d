"""What the operator commands share: one-line errors, argument parsing and permission-checked lookups.

Django skips modules whose name starts with ``_``, so this is not a command itself.

Contract of every operator command: stdout carries only the result; a user mistake is one line on stderr and exit
status 1 (``CommandError``), including argparse's own errors, which would otherwise print the usage and exit 2.
"""

from __future__ import annotations

import getpass
import re
import sys
from typing import Any, NoReturn, TextIO

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from arbitrage.models import ExchangeAccount, Subscription
from arbitrage.selectors import account_for_user, subscription_for_user
from arbitrage.services.subscriptions import NUMBER_NOTATION
from exchanges.errors import ExchangeError

MAX_SHOWN = 60
MAX_NUMBER_TEXT = 40
_ID = re.compile(r"[0-9]{1,18}")
# ASCII digits only: str.isdigit() and int() also accept other scripts' digits, which no operator means.
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")


def shown(text: str) -> str:
    """User input quoted for an error message: ``repr`` escapes newlines and control characters (so the message
    stays one line) and long input is cut."""
    if len(text) > MAX_SHOWN:
        return repr(text[:MAX_SHOWN]) + "…"
    return repr(text)


def one_line(text: str) -> str:
    return " ".join(text.split())


def _parser_error(message: str) -> NoReturn:
    raise CommandError(one_line(message))


class OperatorCommand(BaseCommand):
    """A command with the operator contract above. Exchange errors become one-line ``CommandError``s."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # No abbreviations: a script's `--lev` must not change meaning when another flag is added.
        parser = super().create_parser(prog_name, subcommand, allow_abbrev=False, **kwargs)
        parser.error = _parser_error  # type: ignore[method-assign]
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        try:
            super().run_from_argv(argv)
        except CommandError as exc:  # raised while parsing, before Django's own handler around execute()
            self.stderr.write(f"CommandError: {exc}")
            sys.exit(exc.returncode)

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except ExchangeError as exc:
            raise CommandError(one_line(str(exc))) from None


# --- Parsing ------------------------------------------------------------------------------------------------------


def parse_whole(flag: str, text: str) -> int:
    """A whole number written in ASCII digits. Ranges are the service's to check (its message names the limit)."""
    if not _WHOLE.fullmatch(text.strip()):
        raise CommandError(f"{flag}: {shown(text)} is not a whole number")
    return int(text.strip())


def parse_decimal(flag: str, text: str) -> str:
    """A finite decimal number (``0.5``, ``-3``, ``1e-3``), returned as text for ``Decimal``; no NaN, no infinity."""
    stripped = text.strip()
    if len(stripped) > MAX_NUMBER_TEXT or not NUMBER_NOTATION.fullmatch(stripped):
        raise CommandError(f"{flag}: {shown(text)} is not a number")
    return stripped


def parse_id(what: str, text: str) -> int:
    if not _ID.fullmatch(text.strip()) or int(text) == 0:
        raise CommandError(f"{what}: {shown(text)} is not an id (a positive whole number)")
    return int(text)


def printable(flag: str, text: str) -> str:
    """Names and labels: stripped, and free of control characters (PostgreSQL refuses NUL in a query)."""
    stripped = text.strip()
    if not stripped or not stripped.isprintable():
        raise CommandError(f"{flag}: {shown(text)} is empty or contains control characters")
    return stripped


def validation_message(exc: ValidationError, flags: dict[str, str]) -> str:
    """A service's ValidationError as one line naming the command-line flag instead of the model field."""
    if hasattr(exc, "error_dict"):
        field, messages = next(iter(exc.message_dict.items()))
        return one_line(f"{flags.get(field, field)}: {messages[0]}")
    return one_line(" ".join(exc.messages))


def read_secret(stream: TextIO | None) -> str:
    """The first line of ``stream`` without its line ending. On a terminal, ask without echoing it."""
    if stream is None or stream.closed:
        raise CommandError("no standard input: pass the API secret as the first line of standard input")
    # On a terminal, getpass prompts on the terminal itself, so stdout still carries only the id.
    secret = getpass.getpass("API secret: ") if stream.isatty() else stream.readline().rstrip("\r\n")
    if not secret.strip():
        raise CommandError("the API secret is empty: pass it as the first line of standard input")
    return secret


# --- Lookups ------------------------------------------------------------------------------------------------------


def user_named(username: str) -> Any:
    """The active user called ``username`` (commands act for one user, named with ``--user``)."""
    username = printable("--user", username)
    model = get_user_model()
    try:
        user = model.objects.get(**{model.USERNAME_FIELD: username})
    except model.DoesNotExist:
        raise CommandError(f"--user: no user named {shown(username)}") from None
    if not user.is_active:
        raise CommandError(f"--user: user {shown(username)} is inactive")
    return user


def account_by_ref(what: str, ref: str, *, user: Any = None) -> ExchangeAccount:
    """An account by id, else by label. With ``user``, only that user's accounts; without, a label must be unique."""
    ref = printable(what, ref)
    if _ID.fullmatch(ref):
        if user is not None:
            try:
                return account_for_user(user=user, pk=int(ref))
            except ExchangeAccount.DoesNotExist:
                pass
        else:
            account = ExchangeAccount.objects.filter(pk=int(ref)).first()
            if account is not None:
                return account
    accounts = ExchangeAccount.objects.filter(label=ref)
    if user is not None:
        accounts = accounts.filter(owner=user)
    found = list(accounts[:2])
    if len(found) == 1:
        return found[0]
    if found:
        raise CommandError(f"{what}: several users have an account labelled {shown(ref)}; add --user")
    owner = f" of user {shown(user.get_username())}" if user is not None else ""
    raise CommandError(f"{what}: no account{owner} with id or label {shown(ref)}")


def subscription_by_id(what: str, text: str, *, user: Any = None) -> Subscription:
    """A subscription by id; with ``user``, only one of that user's."""
    pk = parse_id(what, text)
    try:
        if user is not None:
            return subscription_for_user(user=user, pk=pk)
        return Subscription.objects.select_related("primary_account", "hedge_account", "owner").get(pk=pk)
    except Subscription.DoesNotExist:
        owner = f" of user {shown(user.get_username())}" if user is not None else ""
        raise CommandError(f"{what}: no subscription{owner} with id {pk}") from None

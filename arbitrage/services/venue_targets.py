"""Where an account's signed requests may go: the base-URL rules, for new input and for stored accounts.

The client appends fixed API paths to the base URL and shows what the venue answers to the account's owner, so a
base URL free to name anything would let any user read services the server can reach. The rules:

- the *simulator* environment exists only in demo mode (``DEMO_SIMULATOR``), and then only at the origin of
  ``SIMULATOR_URL`` (scheme, host and port), which is what it uses: the stored base URL is empty;
- on a venue's official API host, a base URL is ``https://`` and the host, nothing else;
- on a host the operator lists in ``VENUE_ALLOWED_HOSTS`` (an egress proxy), http or https, a port and a path
  prefix are allowed;
- never a query, a fragment or user info, and nothing else at all.

Host names are compared exactly, after lowercasing: a trailing dot, percent-encoding, an IP address spelled
another way, or a non-ASCII look-alike is simply not on the list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from arbitrage.models import AccountEnvironment, ExchangeAccount
from exchanges.base import Venue
from exchanges.factory import OFFICIAL_HOSTS

MAX_BASE_URL = 200  # the model's URLField
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<netloc>[^/?#]*)(?P<path>[^?#]*)")
_NETLOC = re.compile(r"(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_PATH_PREFIX = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?")
DEFAULT_PORTS = {"http": 80, "https": 443}

SIMULATOR_DEMO_ONLY = "The built-in simulator is only available in demo mode (DEMO_SIMULATOR)."
NOT_A_URL = (
    f"Enter a full http:// or https:// URL of at most {MAX_BASE_URL} characters "
    "(plain ASCII, no spaces or backslashes)."
)
NO_QUERY = "A base URL may not contain a query (?), a fragment (#) or a user name (@)."


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    explicit_port: bool
    path: str


def _parse(base_url: str) -> _Target:
    if len(base_url) > MAX_BASE_URL or any(not "!" <= ch <= "~" or ch == "\\" for ch in base_url):
        raise ValidationError({"base_url": NOT_A_URL})
    if "?" in base_url or "#" in base_url or "@" in base_url:
        raise ValidationError({"base_url": NO_QUERY})
    url = _URL.fullmatch(base_url)
    netloc = _NETLOC.fullmatch(url["netloc"]) if url else None
    scheme = url["scheme"].lower() if url else ""
    if url is None or netloc is None or scheme not in DEFAULT_PORTS:
        raise ValidationError({"base_url": NOT_A_URL})
    host = netloc["host"].lower()
    port = int(netloc["port"]) if netloc["port"] else DEFAULT_PORTS[scheme]
    if not _HOSTNAME.fullmatch(host) or not 0 < port < 65536:
        raise ValidationError({"base_url": NOT_A_URL})
    return _Target(scheme=scheme, host=host, port=port, explicit_port=bool(netloc["port"]), path=url["path"])


def _simulator_origin() -> str:
    try:
        target = _parse(settings.SIMULATOR_URL)
    except ValidationError:
        return ""  # a SIMULATOR_URL fundarb cannot read matches nothing a user types
    return f"{target.scheme}://{target.host}:{target.port}"


def base_url_clean(*, venue: Venue, environment: str, base_url: str) -> str:
    """The base URL to store for an account, normalised; raises ValidationError naming the field and the rule."""
    base_url = (base_url or "").strip()
    if environment == AccountEnvironment.SIMULATOR:
        if not settings.DEMO_SIMULATOR:
            raise ValidationError({"environment": SIMULATOR_DEMO_ONLY})
        if base_url:
            target = _parse(base_url)
            origin = _simulator_origin()
            if f"{target.scheme}://{target.host}:{target.port}" != origin or target.path not in ("", "/"):
                raise ValidationError(
                    {"base_url": f"A simulator account uses the demo's simulator at {origin}: leave the base URL "
                     "empty."}
                )  # fmt: skip
        return ""  # the simulator's URL comes from SIMULATOR_URL
    if not base_url:
        return ""
    target = _parse(base_url)
    if target.host in {h.strip().lower() for h in settings.VENUE_ALLOWED_HOSTS}:
        if not _PATH_PREFIX.fullmatch(target.path) or any(part in (".", "..") for part in target.path.split("/")):
            raise ValidationError({"base_url": "A path prefix may use letters, digits and - . _ ~ only."})
        port = f":{target.port}" if target.explicit_port else ""
        return f"{target.scheme}://{target.host}{port}{target.path.rstrip('/')}"
    hosts = OFFICIAL_HOSTS[venue]
    if target.host not in hosts:
        raise ValidationError(
            {"base_url": f"Use https:// with one of {venue.label}'s API hosts ({', '.join(sorted(hosts))}), or leave "
             "it empty; a proxy must be added to VENUE_ALLOWED_HOSTS by the operator."}
        )  # fmt: skip
    if target.scheme != "https" or target.port != 443 or target.path not in ("", "/"):
        raise ValidationError(
            {"base_url": f"On {venue.label}'s API hosts a base URL is https:// and the host only, like "
             f"https://{target.host} (no port, path or query)."}
        )  # fmt: skip
    return f"https://{target.host}"


def account_target_problem(account: ExchangeAccount) -> str:
    """Why a stored account may not open positions under the rules above, naming it and what to fix; empty when it
    may. Accounts stored before a rule existed keep closing what is open: only new positions need this empty."""
    try:
        base_url_clean(venue=account.venue, environment=account.environment, base_url=account.base_url)
    except ValidationError as error:
        rule = " ".join(error.messages)
        return (
            f"{account.venue.label} account '{account.label}' cannot open positions: {rule} Edit the account "
            "(Exchange accounts) to fix it; positions already open are still closed."
        )
    return ""


def accounts_target_problem(accounts: Iterable[ExchangeAccount]) -> str:
    """The first of ``accounts``' problems, or empty when every one may open positions."""
    return next((problem for problem in map(account_target_problem, accounts) if problem), "")

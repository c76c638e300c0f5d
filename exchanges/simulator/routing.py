"""What both venue modules share: routes, the per-call context, and the error a handler raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .state import Account
from .wire import Request


class VenueError(Exception):
    """A business error in the venue's own code and words; answered inside the venue's envelope."""

    def __init__(self, code: int, message: str, *, http_status: int = 200) -> None:
        self.code = code
        self.message = message
        self.http_status = http_status
        super().__init__(f"{code} {message}")


@dataclass(frozen=True)
class Call:
    request: Request
    params: dict[str, Any]
    account: Account | None
    now_ms: int

    @property
    def owner(self) -> Account:
        """The authenticated account (private routes only)."""
        assert self.account is not None
        return self.account


Handler = Callable[..., Any]


@dataclass(frozen=True)
class Route:
    handler: Handler
    private: bool = False
    limit: int = 0  # calls per second per account; 0 on public routes
    trade: bool = False  # needs a key with trading permission
    bare: bool = False  # success answers the payload alone, without the envelope (errors keep it)


def int_param(params: dict[str, Any], name: str, default: int) -> int:
    """An integer parameter; a malformed one raises ``ValueError``, which the venue answers as a parameter error."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    return int(str(raw))

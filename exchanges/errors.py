"""One hierarchy of exchange errors.

Every error names the venue, the operation and, where there is one, what the user can do about it. Messages are
written for a trader reading them in the dashboard, never for a programmer reading a traceback, and never contain
a key, a secret or a signature.
"""

from __future__ import annotations

_VENUE_LABELS = {"bybit": "Bybit", "bingx": "BingX"}


class ExchangeError(Exception):
    """A venue refused, failed or could not be understood.

    ``code`` is the venue's own error code as a string (``"110043"``, ``"100421"``), or ``None`` for transport
    failures; ``hint`` is what the user can do about it.
    """

    default_hint = ""

    def __init__(
        self,
        message: str,
        *,
        venue: str = "",
        operation: str = "",
        code: str | None = None,
        hint: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.reason = message
        self.venue = venue
        self.operation = operation
        self.code = code
        self.hint = self.default_hint if hint is None else hint
        self.http_status = http_status
        super().__init__(self.describe())

    def describe(self) -> str:
        venue = _VENUE_LABELS.get(self.venue.lower(), self.venue)
        where = f"{venue} {self.operation}".strip()
        code = f" (code {self.code})" if self.code else ""
        text = f"{where} failed{code}: {self.reason}" if where else f"{self.reason}{code}"
        if self.hint:
            text = f"{text}. {self.hint}"
        return text


class AuthenticationError(ExchangeError):
    default_hint = "Check the API key and secret, and that the key belongs to this environment"


class PermissionDenied(ExchangeError):
    default_hint = "Give the API key permission to trade perpetual futures, or add this machine's IP to its list"


class RateLimited(ExchangeError):
    """The venue asked us to slow down; ``retry_after`` is seconds to wait, when the venue said."""

    default_hint = "Too many requests: fundarb backs off and retries reads; orders are not retried blindly"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ClockSkewError(ExchangeError):
    default_hint = "This machine's clock and the venue's disagree; fundarb re-measured the offset and retried once"


class InvalidRequest(ExchangeError):
    """The venue rejected a parameter (not one of the more specific cases below)."""


class InvalidLeverage(ExchangeError):
    default_hint = "Choose a whole-number leverage within both venues' limits for this symbol"


class PositionConflict(ExchangeError):
    """Position mode mismatch, an existing position or open orders block the operation."""

    default_hint = "Check the account's position mode and close any open position or order on this symbol"


class ReduceOnlyRejected(ExchangeError):
    """A reduce-only order was refused: usually the position is already flat. Look at the position."""

    default_hint = "The position is probably already closed; fundarb checks the position before deciding"


class InsufficientMargin(ExchangeError):
    default_hint = "Add margin to the account, lower the quantity, or raise the leverage"


class SymbolNotFound(ExchangeError):
    default_hint = "The symbol is not listed or not tradable on this venue"


class DuplicateOrder(ExchangeError):
    """The client order id was used before: the order exists, look it up instead of sending again."""


class OrderNotFound(ExchangeError):
    pass


class OrderProcessing(ExchangeError):
    """The venue is still processing the order (BingX 80019): ask again shortly."""


class ExchangeUnavailable(ExchangeError):
    """The venue cannot be reached or answered with a server error on a call that changed nothing."""

    default_hint = "The venue is unreachable or overloaded; try again shortly"


class UnknownOutcome(ExchangeError):
    """An order request whose result is unknown (timeout, 5xx, 504): it may or may not have been placed.

    Never resend: look the order up by its client order id.
    """

    default_hint = "fundarb looks the order up by its client order id instead of sending it again"


class MalformedResponse(ExchangeError):
    """A body that is not JSON, an HTML error page, or JSON missing fields the operation needs."""

    default_hint = "The venue answered with something unexpected; try again shortly"

"""Signed HTTP plumbing shared by the venue clients.

One ``requests.Session`` per client with a keep-alive pool, (connect, read) timeouts, a measured clock offset, a
bounded retry for reads and idempotent writes, and request logging that never shows a key, a secret or a signature.

What differs per venue (signing, envelope, error codes, rate-limit headers) lives in a ``Dialect``; the client
modules define one each. Order placement is never retried, except once after a timestamp rejection: the venue
definitely refused that request, so sending a freshly signed copy cannot create a second order.
"""

from __future__ import annotations

import abc
import enum
import json
import logging
import random
import re
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from . import symbols
from .base import ClockSync, Credentials, Venue, check_client_order_id, quantity_text, whole_leverage
from .errors import (
    AuthenticationError,
    ClockSkewError,
    ExchangeError,
    ExchangeUnavailable,
    InvalidLeverage,
    InvalidRequest,
    MalformedResponse,
    PermissionDenied,
    RateLimited,
    UnknownOutcome,
)

POOL_MAXSIZE = 32
MAX_WAIT_SECONDS = 2.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOTHING_SENT = "Nothing was sent"  # the hint on a refusal raised before any byte left
_SENSITIVE_NAMES = frozenset({"signature", "sign", "apikey", "api_key", "secret", "x-bapi-sign", "x-bx-apikey"})
_SIGNATURE_IN_TEXT = re.compile(r"(signature=)[0-9A-Za-z%]+", re.IGNORECASE)
# An answer that is not the venue's envelope is not shown to anybody: it may be another service's page. The log gets
# a short, scrubbed excerpt; messages get at most this much of a venue's own error text or of an unreadable field.
EXCERPT_CHARS = 120
VENUE_MESSAGE_CHARS = 200
SHOWN_VALUE_CHARS = 40


class Intent(enum.Enum):
    """What a request does, which decides whether a transient failure may be retried."""

    READ = "read"
    IDEMPOTENT_WRITE = "idempotent write"  # sending it twice leaves the same state (set leverage)
    ORDER = "order"  # never resent: a second copy could double the position


@dataclass(frozen=True)
class Call:
    """One request as the client describes it: the transport signs, sends, decodes and classifies it."""

    operation: str  # trader-readable, used in messages: "set leverage", "place order"
    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    signed: bool = True
    intent: Intent = Intent.READ
    reduce_only: bool = False  # lets the error mapping recognise "already flat" rejections
    ok_codes: frozenset[str] = frozenset()  # venue codes that mean success here (Bybit 110043)
    # The venue documents this one endpoint's success as the payload object alone (BingX apiPermissions). Its
    # errors still come enveloped, so a non-zero code raises as anywhere else; only a bare object counts as data.
    unenveloped: bool = False


@dataclass(frozen=True)
class Prepared:
    """The exact bytes to send: ``target`` is path plus query string, already final (nothing re-encodes it)."""

    target: str
    body: bytes | None
    headers: dict[str, str]
    signature: str | None = None


@dataclass(frozen=True)
class Ready:
    """A call signed and built into the exact request, waiting for its send (``Transport.ready``)."""

    call: Call
    prepared: Prepared
    wire: requests.PreparedRequest


@dataclass(frozen=True)
class Reply:
    code: str
    message: str
    data: Any  # the envelope's payload (Bybit ``result``, BingX ``data``)
    document: dict[str, Any]  # the whole envelope, for fields such as the server time


@dataclass(frozen=True)
class Rejection:
    """How a venue code maps onto the error hierarchy.

    ``definite`` says the code proves the venue did not act on the request. Only then may an order count as "not
    placed"; on an order, an indefinite rejection (a code the dialect does not know, "still processing") becomes
    ``UnknownOutcome`` so the caller looks the order up instead of trusting a refusal nobody confirmed.
    """

    error: type[ExchangeError]
    explanation: str = ""
    hint: str | None = None
    definite: bool = True


class Dialect(abc.ABC):
    """The venue-specific half of the transport: signing, envelope, error codes, rate-limit headers."""

    venue: Venue
    server_time_path: str

    @abc.abstractmethod
    def prepare(
        self, call: Call, *, timestamp_ms: int, recv_window_ms: int, credentials: Credentials | None
    ) -> Prepared:
        """Sign ``call`` and lay out the exact bytes to send."""

    @abc.abstractmethod
    def unwrap(self, document: Mapping[str, Any]) -> tuple[str, str, Any] | None:
        """``(code, message, payload)`` or ``None`` when the JSON is not this venue's envelope."""

    @abc.abstractmethod
    def classify(self, code: str, message: str, call: Call) -> Rejection:
        """Map a venue error code (and its message, where codes are overloaded) onto the error hierarchy."""

    @abc.abstractmethod
    def retry_after(self, headers: Mapping[str, str], *, now: float) -> float | None:
        """Seconds the rate-limit headers ask us to wait, uncapped, or ``None``."""

    @abc.abstractmethod
    def server_seconds(self, reply: Reply, reader: Reader) -> float:
        """The venue's clock, in epoch seconds, from a server-time reply."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3  # first try included
    base_delay: float = 0.2
    max_delay: float = MAX_WAIT_SECONDS

    def delay(self, attempt: int, retry_after: float | None) -> float:
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        if retry_after is not None:
            backoff = max(backoff, retry_after)
        return min(backoff, self.max_delay)


class Endpoint:
    """What every client of one venue host can share in a process: the connection pool and the venue's clock.

    With one client per account, a private pool per client means hundreds of cold connections at an instant's
    trigger and one clock measurement per account; sharing the endpoint lets any account's order leave on a
    connection another account's read warmed, and one measurement serve them all. A client without a shared
    endpoint gets a private one.
    """

    def __init__(self, *, clock: Callable[[], float], pool_maxsize: int = POOL_MAXSIZE) -> None:
        # max_retries=0: urllib3 must never resend on its own, or a POST could reach the venue twice.
        self.adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
        self.pool_maxsize = pool_maxsize
        self.clock = clock
        self.offset = 0.0
        self.one_way = 0.0  # seconds a request typically takes to reach the venue (0 until measured)
        self.measured_at: float | None = None  # local clock
        self.last: ClockSync | None = None
        self.sync_lock = threading.Lock()
        self.rules = TTLCache(clock, RULES_TTL_SECONDS)  # public symbol rules: the same for every account

    def measured(self, sync: ClockSync, *, at: float) -> None:
        self.offset, self.one_way, self.measured_at, self.last = sync.offset, sync.one_way, at, sync

    def age(self) -> float | None:
        """Seconds since the clock was last measured here, or None if never."""
        return None if self.measured_at is None else self.clock() - self.measured_at

    def close(self) -> None:
        self.adapter.close()


class Transport:
    """Sends ``Call``s for one client. Safe to share between threads (the session pool is)."""

    def __init__(
        self,
        *,
        dialect: Dialect,
        credentials: Credentials | None,
        base_url: str,
        clock: Callable[[], float],
        timeout: tuple[float, float],
        recv_window_ms: int,
        logger: logging.Logger | None = None,
        endpoint: Endpoint | None = None,
    ) -> None:
        _check_base_url(base_url)
        self.dialect = dialect
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.timeout = timeout
        self.recv_window_ms = recv_window_ms
        self.logger = logger or logging.getLogger(f"exchanges.{dialect.venue.value}")
        self._shares_endpoint = endpoint is not None
        self.endpoint = endpoint or Endpoint(clock=clock)
        self.retry = RetryPolicy()
        self.sleep: Callable[[float], None] = time.sleep
        self.session = requests.Session()
        self.session.mount("https://", self.endpoint.adapter)
        self.session.mount("http://", self.endpoint.adapter)
        # Environment proxies (HTTPS_PROXY, NO_PROXY...) resolved once for the venue's host instead of on every
        # request: that lookup was a sixth of each order's CPU when a thousand legs leave at one instant.
        self.session.trust_env = False
        self.session.proxies = requests.utils.get_environ_proxies(self.base_url)
        _protect_urllib3_log()

    @property
    def label(self) -> str:
        return self.dialect.venue.label

    @property
    def offset(self) -> float:
        """Venue clock minus local clock, seconds, as last measured at this endpoint."""
        return self.endpoint.offset

    @offset.setter
    def offset(self, value: float) -> None:
        self.endpoint.offset = value

    def now(self) -> float:
        """Venue time in seconds: the local clock plus the last measured offset."""
        return self.clock() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def reader(self, operation: str, *, error: type[ExchangeError] = MalformedResponse) -> Reader:
        return Reader(venue=self.label, operation=operation, error=error)

    def close(self) -> None:
        if self._shares_endpoint:
            self.session.adapters.clear()  # the pool is the endpoint's: other clients still use it
        self.session.close()

    def sync_clock(self, *, samples: int = 3, max_age: float | None = None) -> ClockSync:
        """Measure the offset ``samples`` times and keep the one with the smallest round trip.

        With ``max_age``, a measurement this endpoint took less than ``max_age`` seconds ago is returned instead: many
        accounts at one host then cost one measurement, not one each.
        """
        if samples < 1:
            raise ValueError("samples must be at least 1")
        with self.endpoint.sync_lock:
            age = self.endpoint.age()
            if max_age is not None and age is not None and age < max_age and self.endpoint.last is not None:
                return self.endpoint.last
            best: tuple[float, float] | None = None
            trips = []
            call = Call("clock sync", "GET", self.dialect.server_time_path, signed=False)
            for _ in range(samples):
                sent = self.clock()
                reply = self.request(call)
                received = self.clock()
                server = self.dialect.server_seconds(reply, self.reader(call.operation))
                round_trip = max(0.0, received - sent)
                trips.append(round_trip)
                offset = server - (sent + round_trip / 2)
                if best is None or round_trip < best[1]:
                    best = (offset, round_trip)
            assert best is not None
            sync = ClockSync(offset=best[0], round_trip=best[1], samples=samples, one_way=statistics.median(trips) / 2)
            self.endpoint.measured(sync, at=received)
        self.logger.info(
            "%s clock offset %.3f s (round trip %.0f ms, one way %.1f ms)",
            self.label,
            sync.offset,
            sync.round_trip * 1000,
            sync.one_way * 1000,
        )
        return sync

    def request(self, call: Call, *, ready: Ready | None = None) -> Reply:
        """Send ``call`` and return the successful envelope, or raise the mapped ``ExchangeError``.

        ``ready`` is ``call`` already signed (``ready()``): its first attempt only sends; any later one re-signs.
        """
        resynced = False
        attempt = 1
        while True:
            try:
                first, ready = ready, None
                return self._send(first or self.ready(call))
            except ClockSkewError:
                if resynced or not call.signed:
                    raise
                resynced = True
                self.logger.warning("%s %s: timestamp rejected; re-measuring the clock", self.label, call.operation)
                self.sync_clock()
            except (ExchangeUnavailable, RateLimited, MalformedResponse) as exc:
                # A truncated or garbled answer to a read is as transient as a 5xx: one bad body must not stop a
                # subscription. (Orders never get here: their unreadable answers are UnknownOutcome.)
                if not self._may_retry(call, exc, attempt):
                    raise
                wait = self.retry.delay(attempt, getattr(exc, "retry_after", None))
                self.logger.info("%s %s: %s; retry %d in %.2f s", self.label, call.operation, exc.reason, attempt, wait)
                self.sleep(wait)
                attempt += 1

    def _may_retry(self, call: Call, exc: ExchangeError, attempt: int) -> bool:
        if call.intent is Intent.ORDER or attempt >= self.retry.attempts:
            return False
        # 403/418 are IP bans lasting minutes: retrying within seconds only prolongs them.
        return exc.http_status not in (403, 418)

    def ready(self, call: Call, *, at: float | None = None) -> Ready:
        """Sign ``call`` for a send at local time ``at`` (default now) and build the exact request; sends nothing."""
        if call.signed and self.credentials is None:
            raise AuthenticationError(
                "this operation needs an API key and none is configured",
                venue=self.label,
                operation=call.operation,
                hint="Add the account's API key and secret",
            )
        timestamp_ms = self.now_ms() if at is None else int((at + self.offset) * 1000)
        try:
            prepared = self.dialect.prepare(
                call, timestamp_ms=timestamp_ms, recv_window_ms=self.recv_window_ms, credentials=self.credentials
            )
        except ValueError as exc:
            raise InvalidRequest(str(exc), venue=self.label, operation=call.operation, hint=NOTHING_SENT) from None
        request = requests.Request(call.method, self.base_url, headers=prepared.headers, data=prepared.body)
        wire = self.session.prepare_request(request)
        wire.url = self.base_url + prepared.target  # set after preparing so requests cannot re-encode the query
        return Ready(call=call, prepared=prepared, wire=wire)

    def _send(self, ready: Ready) -> Reply:
        call, prepared = ready.call, ready.prepared
        started = time.perf_counter()
        try:
            # Straight to the pool's adapter: Session.send would add hook dispatch, a cookie jar and redirect
            # handling, none of which a venue API uses, at a tenth of an order's CPU when a thousand leave at once.
            response = self.endpoint.adapter.send(ready.wire, timeout=self.timeout, proxies=self.session.proxies)
        except requests.RequestException as exc:
            self._log(call, status=None, code=None, started=started, failure=type(exc).__name__)
            raise self._transport_error(call, exc) from None  # the cause's text carries the URL and signature
        text = response.content.decode("utf-8", errors="replace")
        document = _loads(text)
        envelope = self.dialect.unwrap(document) if isinstance(document, dict) else None
        code = envelope[0] if envelope else None
        self._log(call, status=response.status_code, code=code, started=started)
        return self._interpret(call, response, text, document, envelope, prepared)

    def _interpret(
        self,
        call: Call,
        response: requests.Response,
        text: str,
        document: Any,
        envelope: tuple[str, str, Any] | None,
        prepared: Prepared,
    ) -> Reply:
        status = response.status_code
        if status in (401, 403, 418, 429) or status >= 500 or (status >= 400 and envelope is None):
            raise self._http_error(call, response, text, envelope, prepared)
        if envelope is None and call.unenveloped and isinstance(document, dict):
            return Reply(code="0", message="", data=document, document=document)
        if envelope is None:
            self._log_excerpt(call, status, text, prepared)
            error = UnknownOutcome if call.intent is Intent.ORDER else MalformedResponse
            raise error(
                f"the answer (HTTP {status}) is not the venue's JSON envelope",
                venue=self.label,
                operation=call.operation,
                http_status=status,
            )
        code, message, payload = envelope
        if code == "0" or code in call.ok_codes:
            return Reply(code=code, message=message, data=payload, document=document)
        raise self._rejection(call, code, self._scrub(message, prepared)[:VENUE_MESSAGE_CHARS], response)

    def _rejection(self, call: Call, code: str, message: str, response: requests.Response) -> ExchangeError:
        rejection = self.dialect.classify(code, message, call)
        error, hint, explanation = rejection.error, rejection.hint, rejection.explanation
        if call.intent is Intent.ORDER and (error is ExchangeUnavailable or not rejection.definite):
            # A server error, or a code nobody mapped, says nothing about whether the order was placed; "try again"
            # or "not placed" would both be the wrong advice.
            error, hint = UnknownOutcome, None
            explanation = f"{explanation or 'the venue answered'}; the order may or may not have been placed"
        reason = f"{explanation} (venue said: {message!r})" if explanation else repr(message)
        kwargs: dict[str, Any] = {
            "venue": self.label,
            "operation": call.operation,
            "code": code,
            "hint": hint,
            "http_status": response.status_code,
        }
        if error is RateLimited:
            return RateLimited(reason, retry_after=self._retry_after(response), **kwargs)
        return error(reason, **kwargs)

    def _http_error(
        self,
        call: Call,
        response: requests.Response,
        body: str,
        envelope: tuple[str, str, Any] | None,
        prepared: Prepared,
    ) -> ExchangeError:
        status = response.status_code
        kwargs: dict[str, Any] = {"venue": self.label, "operation": call.operation, "http_status": status}
        if envelope is not None:
            kwargs["code"] = envelope[0]
        if status >= 500:
            if call.intent is Intent.ORDER:
                return UnknownOutcome(
                    f"the venue answered HTTP {status}; the order may or may not have been placed", **kwargs
                )
            return ExchangeUnavailable(f"the venue answered HTTP {status} (server error)", **kwargs)
        if status == 401:
            return AuthenticationError("the venue rejected the API key (HTTP 401)", **kwargs)
        if status == 429 or status == 418 or "too frequent" in body.lower():
            return RateLimited(
                f"the venue is limiting requests (HTTP {status})", retry_after=self._retry_after(response), **kwargs
            )
        if status == 403:
            return PermissionDenied(
                "the venue's firewall refused the request (HTTP 403)",
                hint="The venue blocks this IP (region or firewall rule); try again in a few minutes or from "
                "another location",
                **kwargs,
            )
        if envelope is None:
            self._log_excerpt(call, status, body, prepared)
        return InvalidRequest(
            f"the venue answered HTTP {status}", hint="Check the base URL configured for this account", **kwargs
        )

    def _transport_error(self, call: Call, exc: requests.RequestException) -> ExchangeError:
        kind = type(exc).__name__
        kwargs: dict[str, Any] = {"venue": self.label, "operation": call.operation}
        if _never_sent(exc):
            return ExchangeUnavailable(f"could not connect to the venue ({kind}); nothing was sent", **kwargs)
        if call.intent is Intent.ORDER:
            return UnknownOutcome(
                f"the connection failed after the order was sent ({kind}); it may or may not have been placed",
                **kwargs,
            )
        return ExchangeUnavailable(f"the request failed ({kind})", **kwargs)

    def _retry_after(self, response: requests.Response) -> float | None:
        try:
            wait = self.dialect.retry_after(response.headers, now=self.now())
        except (TypeError, ValueError, ArithmeticError):
            return None
        if wait is None:
            return None
        return min(max(wait, 0.0), self.retry.max_delay)

    def _log_excerpt(self, call: Call, status: int, text: str, prepared: Prepared) -> None:
        """What the unreadable answer began with, for the operator only: scrubbed and bounded."""
        flat = " ".join(self._scrub(text, prepared).split())
        excerpt = flat[:EXCERPT_CHARS] + ("…" if len(flat) > EXCERPT_CHARS else "")
        self.logger.warning(
            "%s %s: HTTP %s answer is not the venue's envelope: %r", self.label, call.operation, status, excerpt
        )

    def _scrub(self, text: str, prepared: Prepared) -> str:
        """Remove anything secret a venue might echo back in an error message."""
        secrets = [prepared.signature]
        if self.credentials is not None:
            secrets += [self.credentials.api_key, self.credentials.api_secret]
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return _SIGNATURE_IN_TEXT.sub(r"\1***", text)

    def _log(self, call: Call, *, status: int | None, code: str | None, started: float, failure: str = "") -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        failed = failure or status is None or status >= 400 or (code not in (None, "0") and code not in call.ok_codes)
        self.logger.log(
            logging.WARNING if failed else logging.DEBUG,
            "%s %s %s params=%s status=%s code=%s %.0fms%s",
            self.label,
            call.method,
            call.path,
            redact(call.params),
            status,
            code,
            elapsed_ms,
            f" error={failure}" if failure else "",
        )


class Reader:
    """Typed access to a decoded payload: a missing or unreadable field becomes ``MalformedResponse``."""

    def __init__(self, *, venue: str, operation: str, error: type[ExchangeError] = MalformedResponse) -> None:
        self.venue = venue
        self.operation = operation
        self.error = error

    def fail(self, reason: str) -> ExchangeError:
        return self.error(reason, venue=self.venue, operation=self.operation)

    def mapping(self, value: Any, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"expected an object for {what}, got {type(value).__name__}")
        return value

    def rows(self, value: Any, what: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"expected a list for {what}, got {type(value).__name__}")
        return value

    def get(self, obj: Any, key: str) -> Any:
        row = self.mapping(obj, repr(key))
        if key not in row or row[key] is None:
            raise self.fail(f"the field {key!r} is missing")
        return row[key]

    def text(self, obj: Any, key: str) -> str:
        value = self.get(obj, key)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(f"the field {key!r} is not a string: {shown(value)}")
        return str(value)

    def decimal(self, obj: Any, key: str) -> Decimal:
        value = self.optional_decimal(obj, key)
        if value is None:
            raise self.fail(f"the field {key!r} is missing")
        return value

    def optional_decimal(self, obj: Any, key: str) -> Decimal | None:
        value = self.mapping(obj, repr(key)).get(key)
        if value is None or value == "":
            return None
        parsed = to_decimal(value)
        if parsed is None:
            raise self.fail(f"the field {key!r} is not a number: {shown(value)}")
        return parsed

    def whole(self, obj: Any, key: str) -> int:
        """An integer field that must hold a whole number ("10", 10, "10.00")."""
        value = self.decimal(obj, key)
        if value != value.to_integral_value():
            raise self.fail(f"the field {key!r} is not a whole number: {shown(value)}")
        return int(value)

    def floor(self, obj: Any, key: str) -> int:
        return int(self.decimal(obj, key).to_integral_value(rounding=ROUND_FLOOR))

    def boolean(self, obj: Any, key: str) -> bool:
        parsed = to_bool(self.get(obj, key))
        if parsed is None:
            raise self.fail(f"the field {key!r} is not true/false: {shown(self.get(obj, key))}")
        return parsed

    def millis(self, obj: Any, key: str) -> datetime:
        value = self.decimal(obj, key)
        if value <= 0:
            raise self.fail(f"the field {key!r} is not a timestamp: {shown(value)}")
        return from_millis(int(value))


def to_decimal(value: Any) -> Decimal | None:
    """A finite ``Decimal`` from a JSON string or number, or ``None`` when it is not one."""
    if isinstance(value, bool):
        return None
    try:
        parsed = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return parsed if parsed.is_finite() else None


def to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    return None


def wait_from_header(raw: str | None, *, now: float) -> float | None:
    """Seconds to wait from a rate-limit header whose unit is not pinned down by the docs.

    Epoch milliseconds and epoch seconds are told apart by magnitude; a small value is a relative wait, taken as
    milliseconds from 1000 up and as seconds below. A wrong guess costs little: callers cap the wait.
    """
    value = to_decimal(raw) if raw is not None else None
    if value is None or value < 0:
        return None
    number = float(value)
    if number >= 1e12:
        return number / 1000 - now
    if number >= 1e9:
        return number - now
    return number / 1000 if number >= 1000 else number


def optional_whole(value: Any) -> int | None:
    """A whole number, or ``None`` for an absent, empty or fractional value (for informational fields)."""
    parsed = to_decimal(value) if value not in (None, "") else None
    return int(parsed) if parsed is not None and parsed == parsed.to_integral_value() else None


def query_text(value: Any) -> str:
    """A parameter value as text: JSON-style booleans, everything else via ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def from_millis(ms: int) -> datetime:
    """Exact UTC datetime from epoch milliseconds (no float rounding)."""
    return EPOCH + timedelta(milliseconds=ms)


def to_millis(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("datetimes passed to a venue client must be timezone-aware (UTC)")
    return (moment - EPOCH) // timedelta(milliseconds=1)


def redact(params: Mapping[str, Any]) -> dict[str, Any]:
    return {key: ("***" if key.lower() in _SENSITIVE_NAMES else value) for key, value in params.items()}


def _loads(text: str) -> Any:
    try:
        # parse_float=Decimal keeps prices exact; JSON integers (BingX order ids > 2**53) stay exact ints.
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return None


def shown(value: Any) -> str:
    """A value from a venue's answer, quoted (numbers as written) and bounded, for an error message."""
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "…"


def _check_base_url(base_url: str) -> None:
    """The client appends fixed paths to the base URL: a query or fragment in it would turn them into data, and
    user info would make the host ambiguous. Callers validate URLs; this is the library's own last line."""
    if "?" in base_url or "#" in base_url or "@" in urlsplit(base_url).netloc:
        raise ValueError("a venue base URL may not contain a query (?), a fragment (#) or user info (@)")


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the venue (connect failed, bad URL)."""
    if isinstance(
        exc,
        requests.exceptions.ConnectTimeout
        | requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.InvalidHeader,
    ):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        cause = exc.args[0]
        # urllib3's NewConnectionError (refused, DNS failure) subclasses ConnectTimeoutError.
        return isinstance(cause, MaxRetryError) and isinstance(cause.reason, ConnectTimeoutError)
    return False


class _RedactSignatureFilter(logging.Filter):
    """urllib3 logs request lines with their query string at DEBUG; BingX carries its signature there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                _SIGNATURE_IN_TEXT.sub(r"\1***", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


_URLLIB3_FILTER = _RedactSignatureFilter()


def _protect_urllib3_log() -> None:
    target = logging.getLogger("urllib3.connectionpool")
    if _URLLIB3_FILTER not in target.filters:
        target.addFilter(_URLLIB3_FILTER)


RULES_TTL_SECONDS = 300.0


class TTLCache:
    """A small per-client cache whose entries expire after ``ttl`` seconds of the client's clock."""

    def __init__(self, clock: Callable[[], float], ttl: float) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, key: Any, value: Any) -> None:
        self._entries[key] = (self._clock() + self._ttl, value)


class ClientCore:
    """What both venue clients share: the transport, a rules cache and argument checks with venue-named errors.

    Subclasses name their ``venue`` and their wire ``dialect``.
    """

    venue: Venue
    dialect: type[Dialect]

    def __init__(
        self,
        credentials: Credentials | None,
        *,
        base_url: str,
        clock: Callable[[], float] = time.time,
        timeout: tuple[float, float] = (3.05, 10),
        recv_window_ms: int = 5000,
        logger: logging.Logger | None = None,
        endpoint: Endpoint | None = None,
    ) -> None:
        self.transport = Transport(
            dialect=self.dialect(),
            credentials=credentials,
            base_url=base_url,
            clock=clock,
            timeout=timeout,
            recv_window_ms=recv_window_ms,
            logger=logger,
            endpoint=endpoint,
        )
        self.cache = TTLCache(clock, RULES_TTL_SECONDS)  # this account's own answers
        self.rules = self.transport.endpoint.rules  # the venue's public rules, shared at the endpoint

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.transport.base_url!r}, credentials={self.transport.credentials!r})"
        )

    @property
    def label(self) -> str:
        return self.venue.label

    def _error(
        self, error: type[ExchangeError], operation: str, reason: str, *, hint: str | None = None
    ) -> ExchangeError:
        return error(reason, venue=self.label, operation=operation, hint=hint)

    def _now(self) -> datetime:
        return EPOCH + timedelta(seconds=self.transport.now())

    def _symbol(self, symbol: str, operation: str) -> str:
        try:
            return symbols.canonical(symbol)
        except symbols.InvalidSymbol as exc:
            raise self._error(InvalidRequest, operation, str(exc), hint="Use the canonical spelling") from None

    def _leverage_arg(self, leverage: object, operation: str) -> int:
        try:
            return whole_leverage(leverage)
        except ValueError as exc:
            raise self._error(InvalidLeverage, operation, str(exc)) from None

    def _check_leverage(self, symbol: str, leverage: int, *, minimum: int, maximum: int, operation: str) -> None:
        if leverage > maximum:
            raise self._error(
                InvalidLeverage,
                operation,
                f"{self.label} allows at most {maximum}x for {symbol}; you asked for {leverage}x",
            )
        if leverage < minimum:
            raise self._error(
                InvalidLeverage,
                operation,
                f"{self.label} allows at least {minimum}x for {symbol}; you asked for {leverage}x",
            )

    def _order_args(self, quantity: Decimal, client_order_id: str, operation: str) -> tuple[str, str]:
        try:
            return quantity_text(quantity), check_client_order_id(client_order_id)
        except ValueError as exc:
            raise self._error(InvalidRequest, operation, str(exc), hint=NOTHING_SENT) from None

    def _parse_rows(self, rows: list[Any], parse: Callable[[Any], Any], operation: str) -> list[Any]:
        """Parse a bulk listing row by row. Rows for other products are expected and skipped quietly; a summary
        warning names how many rows were skipped so a format change on the venue does not go unnoticed."""
        parsed, skipped = [], []
        for row in rows:
            try:
                parsed.append(parse(row))
            except MalformedResponse as exc:
                skipped.append(exc.reason)
        if skipped:
            level = logging.WARNING if len(skipped) > len(parsed) else logging.DEBUG
            self.transport.logger.log(
                level,
                "%s %s: skipped %d of %d rows (first: %s)",
                self.label,
                operation,
                len(skipped),
                len(rows),
                skipped[0],
            )
        return parsed

    def _since_until(self, since: datetime, until: datetime | None, operation: str) -> tuple[int, int]:
        try:
            start = to_millis(since)
            end = to_millis(until) if until is not None else int(self.transport.now() * 1000)
        except ValueError as exc:
            raise self._error(InvalidRequest, operation, str(exc)) from None
        return start, end

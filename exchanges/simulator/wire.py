"""Request/response values shared by the venue modules, the control API and the WSGI adapter."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl


class DropConnection(Exception):
    """Raised by the app to make the server close the socket without answering (a lost request or response)."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str  # raw, exactly as received: signatures cover these bytes
    body: bytes
    headers: dict[str, str]  # lowercased names

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=environ.get("PATH_INFO") or "/",
            query=environ.get("QUERY_STRING", ""),
            body=body,
            headers=headers,
        )

    def query_params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def form_params(self) -> dict[str, str]:
        if not self.body or "json" in self.headers.get("content-type", ""):
            return {}
        return dict(parse_qsl(self.body.decode(errors="replace"), keep_blank_values=True))


@dataclass
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":"), default=_json_default).encode()
        return cls(status, body, [("Content-Type", "application/json"), *(headers or [])])

    @classmethod
    def html(cls, status: int, title: str) -> Response:
        """What a gateway in front of a venue answers on overload: not JSON at all."""
        body = f"<html><head><title>{status} {title}</title></head><body><h1>{status} {title}</h1></body></html>"
        return cls(status, body.encode(), [("Content-Type", "text/html")])


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return fmt(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def fmt(value: Decimal) -> str:
    """A plain decimal string, as the venues send them: no exponent, no trailing zeros, never ``-0``."""
    if not value:
        return "0"
    return format(value.normalize(), "f")


def num(value: Decimal) -> int | float:
    """A JSON number, for the few fields the venues send unquoted (BingX contract rules)."""
    return int(value) if value == value.to_integral_value() else float(value)


def parse_decimal(raw: Any) -> Decimal | None:
    try:
        value = Decimal(str(raw))
    except (ArithmeticError, ValueError):
        return None
    return value if value.is_finite() else None

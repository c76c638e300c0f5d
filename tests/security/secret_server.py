"""A loopback service with a secret page, as an internal service on the web server's machine would be.

Every path answers the secret: as plain text, and under the venues' own path prefixes also inside a venue-shaped
JSON error envelope, so neither a raw excerpt nor a "venue message" could carry it out unnoticed.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.exchanges.loopback import serving


class SecretServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = f"INTERNAL-ONLY-{secrets.token_hex(12)}"
        self.requests: list[str] = []  # raw request targets
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def record(self, target: str) -> None:
        with self._lock:
            self.requests.append(target)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SecretServer

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.record(self.path)
        path = urlsplit(self.path).path
        secret = self.server.secret
        if path.startswith(("/v5", "/openApi")):
            body = json.dumps({"retCode": 10001, "retMsg": secret, "code": 100400, "msg": secret}).encode()
            kind = "application/json"
        else:
            body = f"top secret: {secret}\n".encode()
            kind = "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        return


@contextmanager
def secret_server() -> Iterator[SecretServer]:
    with serving(SecretServer()) as server:
        yield server

"""A tiny threaded HTTP/1.1 keep-alive server on 127.0.0.1 that answers like both venues, for real-socket tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .conftest import NOW_MS, bingx_contract, bingx_ok, bybit_instrument, bybit_ok

SLOW_PATHS = frozenset({"/v5/position/set-leverage", "/openApi/swap/v2/trade/leverage"})


def _answer(method: str, path: str) -> dict[str, Any]:
    if path == "/v5/market/instruments-info":
        return bybit_ok({"list": [bybit_instrument()], "nextPageCursor": ""})
    if path == "/v5/market/time":
        return bybit_ok({"timeNano": str(NOW_MS * 10**6)})
    if path == "/v5/position/set-leverage":
        return bybit_ok({})
    if path == "/openApi/swap/v2/trade/leverage":
        data = {"longLeverage": 5, "shortLeverage": 5, "maxLongLeverage": 75, "maxShortLeverage": 75}
        return bingx_ok(data if method == "GET" else {"leverage": 5, "symbol": "BTC-USDT"})
    if path == "/openApi/swap/v2/quote/contracts":
        return bingx_ok([bingx_contract("BTC-USDT")])
    return {"code": 100400, "msg": f"no route {path}", "retCode": 10017, "retMsg": "route not found"}


class VenueServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.delay = delay
        self.accepted = 0
        self.requests: list[tuple[str, str]] = []
        self.targets: list[str] = []  # raw request targets, query string included
        self._lock = threading.Lock()

    def get_request(self):  # type: ignore[override]
        connection = super().get_request()
        with self._lock:
            self.accepted += 1
        return connection

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so pooled connections can be reused
    server: VenueServer

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = urlsplit(self.path).path
        self.server.requests.append((self.command, path))
        self.server.targets.append(self.path)
        if self.command == "POST" and path in SLOW_PATHS:
            time.sleep(self.server.delay)
        payload = json.dumps(_answer(self.command, path)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        return


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """``server`` answering on its own thread while the block runs."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def venue_server(delay: float = 0.0) -> Iterator[VenueServer]:
    with serving(VenueServer(delay)) as server:
        yield server

"""A threaded HTTP/1.1 server with keep-alive that runs a WSGI app, plus connection-level faults.

``wsgiref.simple_server`` speaks HTTP/1.0 and serves one request at a time; the simulator needs parallel legs to
really run in parallel and clients to reuse pooled connections, hence this small adapter. Responses always carry
``Content-Length``. When the app raises ``DropConnection`` the socket is closed without a byte of answer, which a
client sees exactly like a network loss.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .wire import DropConnection

logger = logging.getLogger(__name__)
IDLE_CONNECTION_TIMEOUT_S = 120


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog of 5 resets connections when a client opens dozens at once (a trigger warming
    # its pool); a venue's load balancer accepts them.
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], app: Any) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self.accepted_at: list[float] = []  # local clock, one per connection accepted (a cold client's handshake)
        self._connections_lock = threading.Lock()
        super().__init__(address, WSGIRequestHandler)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)
            if open_:
                self.accepted_at.append(time.time())

    def close_connections(self) -> None:
        """Hang up on every kept-alive client so their handler threads end with the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class WSGIRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fundarb-simulator"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT_S
    # Headers and body go out in separate writes; without TCP_NODELAY, delayed ACKs add ~40 ms per keep-alive call.
    disable_nagle_algorithm = True
    server: SimulatorServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, open_=False)

    def do_GET(self) -> None:
        self._run_app()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def _run_app(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value

        status_line: list[str] = []
        headers: list[tuple[str, str]] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            status_line[:] = [status]
            headers[:] = response_headers

        try:
            chunks = self.server.app(environ, start_response)
            payload = b"".join(chunks)
        except DropConnection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        except Exception:
            logger.exception("simulator app failed on %s %s", self.command, path)
            payload = b'{"error":"simulator internal error"}'
            status_line[:] = ["500 Internal Server Error"]
            headers[:] = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        code, _, reason = status_line[0].partition(" ")
        try:
            self.send_response(int(code), reason)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except OSError:
            # The client gave up (a timeout fault held the answer past its read timeout).
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

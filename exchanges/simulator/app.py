"""The WSGI application: routes each request to a venue (or the control API) through that venue's faults.

One request, as a network and a venue would treat it:
latency/2 in -> drop_request? -> banned? -> outage? -> rate block? -> fail / error rate? -> the venue handles it
(auth, limits, state) -> fail after apply? -> drop_response? -> malformed? -> timeout hold? -> latency/2 out. Every
sleep happens outside the state lock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from . import trading
from .bingx_api import BingxApi
from .bybit_api import BybitApi
from .control import CONTROL_PREFIX, Controller
from .faults import VenueFaults
from .wire import DropConnection, Request, Response

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class SimulatorApp:
    def __init__(
        self,
        *,
        bybit: BybitApi,
        bingx: BingxApi,
        faults: dict[str, VenueFaults],
        controller: Controller,
        stopping: threading.Event,
    ) -> None:
        self.apis: dict[str, BybitApi | BingxApi] = {"bybit": bybit, "bingx": bingx}
        self.faults = faults
        self.controller = controller
        self.stopping = stopping

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        response = self.dispatch(Request.from_environ(environ))
        reason = HTTPStatus(response.status).phrase
        start_response(f"{response.status} {reason}", [*response.headers, ("Content-Length", str(len(response.body)))])
        return [response.body]

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self.controller.handle(request)
        if request.path.startswith("/v5/"):
            venue = "bybit"
        elif request.path.startswith("/openApi/"):
            venue = "bingx"
        else:
            return Response.json({"error": f"no venue serves {request.path}"}, status=404)
        faults = self.faults[venue]
        half_latency = faults.latency_ms / 2000
        self._sleep(half_latency)
        response = self._through_faults(self.apis[venue], faults, request)
        self._sleep(half_latency)
        return response

    def _through_faults(self, api: BybitApi | BingxApi, faults: VenueFaults, request: Request) -> Response:
        method, path = request.method, request.path
        if faults.take("drop_request", method, path):
            raise DropConnection
        if faults.banned():
            return api.banned()
        outage = faults.active("outage", method, path)
        if outage:
            return self._failure(api, None, None, outage.http_status)
        block = faults.active("rate_block", method, path)
        if block:
            return api.banned() if faults.refuse(block) else api.rate_limited(method, path, block.until_ms)
        failure = faults.take("fail", method, path)
        if failure:
            return self._failure(api, failure.code, failure.message, failure.http_status)
        if faults.roll_error():
            return self._failure(api, None, None, faults.error_http_status or 200)
        order_faults = self._order_faults(faults, method, path) if (method, path) == api.create_route else None
        response = api.handle(request, order_faults)
        if _applied(api, response):
            late = faults.take("fail_after_apply", method, path)
            if late:
                assert late.code is not None
                kept = [header for header in response.headers if header[0] != "Content-Type"]
                response = api.error(late.code, late.message or api.message_for(late.code), headers=kept)
        if faults.take("drop_response", method, path):
            raise DropConnection
        if faults.take("malformed", method, path):
            # Applied; the answer arrives cut off mid-JSON (what a broken proxy or a truncated read delivers).
            response = Response(200, response.body[: max(1, len(response.body) // 2)], response.headers)
        hold = faults.take("timeout", method, path)
        if hold:
            self._sleep(hold.seconds)
        return response

    def _order_faults(self, faults: VenueFaults, method: str, path: str) -> trading.OrderFaults:
        changes: dict[str, Any] = {}
        partial = faults.take("partial_fill", method, path)
        if partial:
            changes["fill_fraction"] = Decimal(partial.fraction)
        processing = faults.take("processing", method, path)
        if processing:
            changes["hidden_for_ms"] = int(processing.seconds * 1000)
            # Neither given: hidden from exactly one query.
            changes["hidden_calls"] = processing.calls or (0 if processing.seconds else 1)
        not_found = faults.take("not_found", method, path)
        if not_found:
            changes["unknown_for_ms"] = int(not_found.seconds * 1000)
        return trading.OrderFaults(**changes)

    def _failure(self, api: BybitApi | BingxApi, code: int | None, message: str | None, http_status: int) -> Response:
        if http_status >= 500 and code is None:
            return Response.html(http_status, HTTPStatus(http_status).phrase)
        code = code or api.internal_error[0]
        return api.error(code, message or api.message_for(code), http_status=http_status)

    def _sleep(self, seconds: float) -> None:
        """Sleep without any lock; a stopping simulator cuts every hold short."""
        if seconds > 0:
            self.stopping.wait(seconds)


def _applied(api: BybitApi | BingxApi, response: Response) -> bool:
    """Whether the venue accepted the call: HTTP 200 and a zero code in its own envelope."""
    if response.status != 200:
        return False
    try:
        return json.loads(response.body).get(api.code_field) == 0
    except ValueError:
        return False

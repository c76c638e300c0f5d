"""A deliberately tiny signed-request helper for the simulator tests.

Written from the notes alone, independent of both ``exchanges/simulator/auth.py`` and the real clients, so a
signing bug cannot hide by being shared.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests


def hex_hmac(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


class BybitRaw:
    def __init__(self, base_url: str, key: str = "", secret: str = "", *, recv_window: int = 5000) -> None:
        self.base_url = base_url
        self.key = key
        self.secret = secret
        self.recv_window = recv_window
        self.session = requests.Session()
        self.offset_ms = 0

    def _headers(self, payload: str, timestamp: int | None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time() * 1000) + self.offset_ms)
        sign = hex_hmac(self.secret, f"{ts}{self.key}{self.recv_window}{payload}")
        return {
            "X-BAPI-API-KEY": self.key,
            "X-BAPI-TIMESTAMP": ts,
            "X-BAPI-RECV-WINDOW": str(self.recv_window),
            "X-BAPI-SIGN": sign,
        }

    def get(self, path: str, *, timestamp: int | None = None, timeout: float = 5, **params: Any) -> requests.Response:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        headers = self._headers(query, timestamp) if self.key else {}
        return self.session.get(url, headers=headers, timeout=timeout)

    def post(
        self, path: str, body: dict[str, Any], *, timestamp: int | None = None, timeout: float = 5
    ) -> requests.Response:
        payload = json.dumps(body, separators=(",", ":"))
        headers = {**self._headers(payload, timestamp), "Content-Type": "application/json"}
        return self.session.post(f"{self.base_url}{path}", data=payload, headers=headers, timeout=timeout)

    def ok(self, response: requests.Response) -> Any:
        payload = response.json()
        assert payload["retCode"] == 0, payload
        return payload["result"]

    def order(self, symbol: str, side: str, qty: str, *, timeout: float = 5, **extra: Any) -> requests.Response:
        body = {"category": "linear", "symbol": symbol, "side": side, "orderType": "Market", "qty": qty}
        return self.post("/v5/order/create", {**body, "positionIdx": 0, **extra}, timeout=timeout)


class BingxRaw:
    def __init__(self, base_url: str, key: str = "", secret: str = "") -> None:
        self.base_url = base_url
        self.key = key
        self.secret = secret
        self.session = requests.Session()

    def request(
        self, method: str, path: str, *, timestamp: int | None = None, timeout: float = 5, **params: Any
    ) -> requests.Response:
        params = {**params, "timestamp": timestamp if timestamp is not None else int(time.time() * 1000)}
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"{self.base_url}{path}?{query}"
        headers = {}
        if self.key:
            url += f"&signature={hex_hmac(self.secret, query)}"
            headers["X-BX-APIKEY"] = self.key
        return self.session.request(method, url, headers=headers, timeout=timeout)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, **params)

    def post(self, path: str, **params: Any) -> requests.Response:
        return self.request("POST", path, **params)

    def ok(self, response: requests.Response) -> Any:
        payload = response.json()
        assert payload["code"] == 0, payload
        return payload.get("data")

    def order(self, symbol: str, side: str, quantity: str, position_side: str = "BOTH", **extra: Any):
        return self.post(
            "/openApi/swap/v2/trade/order",
            symbol=symbol,
            side=side,
            positionSide=position_side,
            type="MARKET",
            quantity=quantity,
            **extra,
        )

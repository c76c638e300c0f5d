"""Real sockets: set_leverage on both venues runs in parallel and reuses pooled keep-alive connections."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from exchanges.base import Credentials, PositionMode
from exchanges.bingx import BingXClient
from exchanges.bybit import BybitClient

from .conftest import API_KEY, API_SECRET
from .loopback import venue_server

DELAY = 0.3


def _set_both(bybit: BybitClient, bingx: BingXClient) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(client.set_leverage, "BTCUSDT", 5, position_mode=PositionMode.ONE_WAY)
            for client in (bybit, bingx)
        ]
        for future in futures:
            future.result()
    return time.perf_counter() - started


def test_set_leverage_runs_in_parallel_and_reuses_connections() -> None:
    """Two venues' set_leverage overlap (< 1.5 x delay, sequential is 2 x) and a second round opens no sockets."""
    credentials = Credentials(API_KEY, API_SECRET)
    with venue_server(delay=DELAY) as server:
        bybit = BybitClient(credentials, base_url=server.url)
        bingx = BingXClient(credentials, base_url=server.url)
        try:
            elapsed = _set_both(bybit, bingx)
            assert elapsed < 1.5 * DELAY, f"took {elapsed:.3f} s: the calls did not overlap"
            assert [path for method, path in server.requests if method == "POST"].count(
                "/openApi/swap/v2/trade/leverage"
            ) == 1
            opened = server.accepted
            assert opened <= 2, "each client should keep one connection alive for its sequential requests"
            _set_both(bybit, bingx)
            assert server.accepted == opened, "the second round must reuse the pooled keep-alive connections"
        finally:
            bybit.close()
            bingx.close()

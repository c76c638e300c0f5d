from __future__ import annotations

from collections.abc import Iterator

import pytest

from exchanges.simulator import Simulator

from .signing import BingxRaw, BybitRaw

BYBIT_KEY, BYBIT_SECRET = "bybit-test-key", "bybit-test-secret"
BINGX_KEY, BINGX_SECRET = "bingx-test-key", "bingx-test-secret"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A fresh simulator on an ephemeral port, marks and rates frozen so amounts are exact."""
    with Simulator(seed=7, random_walk=False) as simulator:
        yield simulator


@pytest.fixture
def bybit(sim: Simulator) -> BybitRaw:
    sim.add_account("bybit", BYBIT_KEY, BYBIT_SECRET)
    return BybitRaw(sim.base_url, BYBIT_KEY, BYBIT_SECRET)


@pytest.fixture
def bybit_hedge(sim: Simulator) -> BybitRaw:
    sim.add_account("bybit", "bybit-hedge-key", "bybit-hedge-secret", hedge=True)
    return BybitRaw(sim.base_url, "bybit-hedge-key", "bybit-hedge-secret")


@pytest.fixture
def bingx(sim: Simulator) -> BingxRaw:
    sim.add_account("bingx", BINGX_KEY, BINGX_SECRET)
    return BingxRaw(sim.base_url, BINGX_KEY, BINGX_SECRET)


@pytest.fixture
def bingx_hedge(sim: Simulator) -> BingxRaw:
    sim.add_account("bingx", "bingx-hedge-key", "bingx-hedge-secret", hedge=True)
    return BingxRaw(sim.base_url, "bingx-hedge-key", "bingx-hedge-secret")

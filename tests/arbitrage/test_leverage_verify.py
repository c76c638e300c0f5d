"""Leverage read-back: Bybit's documented position row verifies, an empty one cannot, a fractional one is a mismatch."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import responses

from arbitrage.models import ExchangeAccount
from arbitrage.services import leverage as leverage_service
from exchanges.base import Credentials, LeverageInfo, PositionMode, Venue
from exchanges.bybit import BybitClient
from tests.exchanges.conftest import (
    API_KEY,
    API_SECRET,
    BYBIT_URL,
    NOW,
    bybit_instrument,
    bybit_ok,
    bybit_position_sample,
)

BYBIT = ExchangeAccount(pk=1, exchange=Venue.BYBIT.value)
BINGX = ExchangeAccount(pk=2, exchange=Venue.BINGX.value)
ONE_WAY = {BYBIT.pk: PositionMode.ONE_WAY, BINGX.pk: PositionMode.ONE_WAY}


class SteadyBingX:
    """A hedge venue that takes any leverage and reads it back exactly."""

    def __init__(self) -> None:
        self.leverage_set = 0

    def set_leverage(self, symbol: str, leverage: int, *, position_mode: PositionMode) -> None:
        self.leverage_set = leverage

    def leverage(self, symbol: str) -> LeverageInfo:
        return LeverageInfo(Venue.BINGX, symbol, long=Decimal(self.leverage_set), short=Decimal(self.leverage_set))


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sync(mocked, monkeypatch):
    """Run a one-way sync of BTCUSDT at ``leverage`` with Bybit answering position/list with ``rows``."""
    bybit = BybitClient(Credentials(API_KEY, API_SECRET), base_url=BYBIT_URL, clock=lambda: NOW)
    clients = {Venue.BYBIT.value: bybit, Venue.BINGX.value: SteadyBingX()}
    monkeypatch.setattr(leverage_service, "client_for_account", lambda account: clients[account.exchange])
    mocked.get(f"{BYBIT_URL}/v5/market/instruments-info", json=bybit_ok({"list": [bybit_instrument()]}))
    mocked.post(f"{BYBIT_URL}/v5/position/set-leverage", json=bybit_ok({}))

    def run(leverage: int, *rows: dict) -> leverage_service.LeverageSyncResult:
        mocked.get(f"{BYBIT_URL}/v5/position/list", json=bybit_position_sample(*rows))
        return leverage_service.leverage_sync_accounts(
            symbol="BTCUSDT", leverage=leverage, accounts=(BYBIT, BINGX), position_modes=ONE_WAY
        )

    yield run
    bybit.close()


def test_documented_row_verifies(sync) -> None:
    """The docs' row (leverage "10") confirms 10x."""
    result = sync(10)
    assert result.ok and result.reason == ""
    assert result.venues[0].confirmed.long == Decimal("10")


def test_empty_leverage_could_not_be_verified(sync) -> None:
    """leverage "" (portfolio margin): the sync fails with a reason naming Bybit, never a crash or a pass."""
    result = sync(10, {"leverage": ""})
    assert not result.ok
    assert result.reason == (
        "Bybit: could not verify 10x: Bybit shows no per-position leverage for this account (as under portfolio margin)"
    )
    assert result.venues[0].confirmed.long is None and result.venues[1].ok


@pytest.mark.parametrize("wanted", [12, 13])
def test_fractional_leverage_is_not_what_we_set(sync, wanted) -> None:
    """A web-UI 12.5x matches no whole leverage we set: a mismatch naming both values."""
    result = sync(wanted, {"leverage": "12.5"})
    assert result.reason == f"Bybit: the venue reports 12.5x after we set {wanted}x"

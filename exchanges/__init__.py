"""Venue clients for Bybit v5 and BingX perpetual swap: a plain library that knows nothing of Django models."""

from .base import (
    Balance,
    ClockSync,
    Credentials,
    Environment,
    ExchangeClient,
    FundingInfo,
    FundingPayment,
    KeyPermissions,
    LeverageInfo,
    Order,
    OrderAck,
    OrderStatus,
    Position,
    PositionMode,
    PositionSide,
    Side,
    SymbolRules,
    Venue,
)
from .bingx import BingXClient
from .bybit import BybitClient
from .factory import make_client, make_public_client, resolve_base_url

__all__ = [
    "Balance",
    "BingXClient",
    "BybitClient",
    "ClockSync",
    "Credentials",
    "Environment",
    "ExchangeClient",
    "FundingInfo",
    "FundingPayment",
    "KeyPermissions",
    "LeverageInfo",
    "Order",
    "OrderAck",
    "OrderStatus",
    "Position",
    "PositionMode",
    "PositionSide",
    "Side",
    "SymbolRules",
    "Venue",
    "make_client",
    "make_public_client",
    "resolve_base_url",
]

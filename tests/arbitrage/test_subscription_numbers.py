"""The subscription service reads numbers in plain ASCII notation only, whichever edge calls it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from arbitrage.services.subscriptions import SubscriptionInput, subscription_clean

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("leverage", "1_0"),
        ("leverage", "\u0663"),
        ("quantity", "1_0"),
        ("quantity", "NaN"),
        ("min_edge_bps", "Infinity"),
    ],
)
def test_notation_python_accepts_but_no_trader_means_is_refused(sim_accounts, user, field, value):
    """Underscored digits, other scripts' digits, NaN and infinity are refused by the service, naming the field."""
    primary, hedge = sim_accounts
    data = {"symbol": "ETHUSDT", "primary_account": primary, "hedge_account": hedge, "quantity": Decimal("0.5")}
    with pytest.raises(ValidationError) as caught:
        subscription_clean(owner=user, data=SubscriptionInput(**{**data, field: value}), check_live_limits=False)
    assert field in caught.value.message_dict

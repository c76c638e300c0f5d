"""Client order ids: letters and digits only, within the venues' 36 characters, one id per order slot."""

from __future__ import annotations

import itertools
import re

import pytest

from arbitrage.models import Installation, LegRole, OrderAction
from arbitrage.services import plan
from exchanges.base import check_client_order_id
from tests.reliability.invariants import CLIENT_ID

ALPHANUMERIC = re.compile(r"^[a-z0-9]{1,36}$")
EXECUTION_IDS = [1, 2, 35, 36, 37, 1295, 1296, 46655, 46656, 10**6, 2**31, 2**53 + 1, 36**12, 2**63 - 1]
ATTEMPTS = [1, 2, 9, 10, 11, 99, 100, 101, 32767]
READ_PREFIX = plan._order_prefix.__wrapped__  # uncached, and taken before the fixture replaces it


@pytest.fixture(autouse=True)
def prefix(monkeypatch) -> str:
    """A fresh installation's prefix, without a database."""
    value = Installation().order_prefix
    monkeypatch.setattr(plan, "_order_prefix", lambda: value)
    return value


def every_id() -> list[str]:
    slots = itertools.product(EXECUTION_IDS, LegRole.values, OrderAction.values, ATTEMPTS)
    return [plan.client_order_id(execution_id=e, role=r, action=a, attempt=n) for e, r, a, n in slots]


def test_ids_are_lowercase_letters_and_digits_within_36() -> None:
    """Every id for a range of executions, legs, actions and attempts is [a-z0-9]{1,36} and passes the clients'
    own check."""
    for client_id in every_id():
        assert ALPHANUMERIC.fullmatch(client_id), client_id
        assert check_client_order_id(client_id) == client_id


def test_distinct_slots_get_distinct_ids() -> None:
    """No two (execution, leg, action, attempt) share an id, not even 1/10 with attempts 0/10 and the like."""
    ids = every_id()
    assert len(set(ids)) == len(ids) == len(EXECUTION_IDS) * 2 * 3 * len(ATTEMPTS)


def test_ids_are_deterministic_and_fixed_width(prefix) -> None:
    """The same slot always gives the same id: fa, the prefix, the execution in 13 base36 digits, leg, action,
    attempt; the reliability invariants read each part back."""
    client_id = plan.client_order_id(execution_id=37, role=LegRole.HEDGE, action=OrderAction.UNWIND, attempt=12)
    assert client_id == f"fa{prefix}0000000000011hu12"  # 37 is "11" in base36
    assert client_id == plan.client_order_id(execution_id=37, role="hedge", action="unwind", attempt=12)
    match = CLIENT_ID.match(client_id)
    assert match is not None
    assert (int(match["execution"], 36), match["role"], match["action"], match["attempt"]) == (37, "h", "u", "12")


def test_one_execution_prefix_never_covers_another() -> None:
    """The ids of execution 1 and of execution 36 ("10" in base36) share no leading part beyond the prefix, so
    matching an execution's orders by the start of their ids cannot pick up another's."""
    first = plan.client_order_id(execution_id=1, role="primary", action="open", attempt=1)[: -len("po1")]
    later = plan.client_order_id(execution_id=36, role="primary", action="open", attempt=11)
    assert not later.startswith(first)


@pytest.mark.parametrize("bad", ["", "abc", "ABCDEF", "abc-ef", "abcdefg"])
def test_an_unusable_installation_prefix_is_refused(monkeypatch, bad) -> None:
    """A prefix that is not 6 lowercase letters or digits would make ids ambiguous: refused, never used."""
    monkeypatch.setattr(Installation, "current", classmethod(lambda cls: Installation(order_prefix=bad)))
    with pytest.raises(ValueError, match="must be 6 lowercase letters or digits"):
        READ_PREFIX()

"""The reliability recorder: every scenario fills one row, written as a JSON line when the test ends.

Rows go to ``var/reliability/<run>/<worker>.jsonl`` (one file per pytest-xdist worker, so no two processes write one
file); ``tests/reliability/report.py`` merges them into RELIABILITY.md. ``RELIABILITY_DIR`` overrides the directory.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNS_DIR = REPO / "var" / "reliability"
_OUTCOME = pytest.StashKey[str]()
_LONGREPR = pytest.StashKey[str]()


def run_dir() -> Path:
    explicit = os.environ.get("RELIABILITY_DIR")
    if explicit:
        return Path(explicit)
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", f"{os.getpid()}")[:12]
    return RUNS_DIR / f"run-{run}"


@dataclass
class Row:
    """One line of the RELIABILITY.md table."""

    group: str = ""  # "Fault matrix", "Races", "Crashes"
    order: int = 0  # position in the report within its group
    scenario: str = ""
    injected: str = ""
    must_hold: str = ""
    counted: str = ""
    status: str = ""  # the execution status(es) reached
    at_settlement: str = ""  # the legs' net position at each venue's settlement of T
    recovery: str = ""  # how the final status was reached once the fault cleared
    database: str = ""
    seconds: float = 0.0
    test: str = ""
    result: str = ""
    failure: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.when == "call" or (report.when == "setup" and not report.passed):
        item.stash[_OUTCOME] = "skipped" if report.skipped else "pass" if report.passed else "FAIL"
        if report.failed:
            text = str(report.longrepr) if report.longrepr else ""
            lines = [line for line in text.splitlines() if line.startswith("E ")]
            item.stash[_LONGREPR] = " ".join(line[1:].strip() for line in lines)[:400]
    return report


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Iterator[Row]:
    """The row this scenario reports; written at teardown with the test's outcome (failures are reported too)."""
    row = Row(test=request.node.nodeid)
    started = time.monotonic()
    yield row
    if not row.scenario:
        return
    row.seconds = round(time.monotonic() - started, 1)
    row.result = request.node.stash.get(_OUTCOME, "FAIL")
    row.failure = request.node.stash.get(_LONGREPR, "")
    if row.result == "skipped":
        return
    directory = run_dir()
    directory.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (directory / f"{worker}.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(row), default=str) + "\n")

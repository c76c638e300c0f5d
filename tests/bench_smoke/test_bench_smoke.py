"""The benchmark harness runs end to end at tiny sizes and writes its table (figures are not checked: benchmarks
report, they do not fail CI)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_bench_harness_writes_the_table(tmp_path):
    results = tmp_path / "results.md"
    env = {
        **os.environ,
        "BENCH_QUICK": "1",
        "BENCH_FANOUT": "2",
        "BENCH_FANOUT_ARM": "4",
        "BENCH_RESULTS": str(results),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("BENCH_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bench"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    text = results.read_text()
    assert "| 1 | Trigger to both legs acknowledged" in text
    assert "Fan-out N=2" in text
    assert "Web dashboard" in text

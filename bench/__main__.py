"""``python -m bench``: run every part in its own subprocess and database, then write bench/results.md.

``BENCH_QUICK=1`` runs tiny sizes (a smoke run of a few tens of seconds); ``BENCH_FANOUT=100,500`` picks the fan-out
sizes; ``BENCH_DATABASE_URL`` runs on PostgreSQL instead of temporary SQLite files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import ROOT, machine
from bench.report import render

HERE = Path(__file__).resolve().parent


def run_part(tmp: Path, name: str, module: str, *args: str, timeout: float) -> dict | None:
    out = tmp / f"{name}.json"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_SQLITE": str(tmp / f"{name}.sqlite3")}
    started = time.monotonic()
    print(f"bench: {name} ...", flush=True)
    with open(tmp / f"{name}.log", "w") as log:
        try:
            code = subprocess.run(
                [sys.executable, "-m", module, str(out), *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            ).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    seconds = time.monotonic() - started
    if code != 0 or not out.exists():
        print(f"bench: {name} FAILED ({code}); log: {tmp / (name + '.log')}", flush=True)
        print((tmp / f"{name}.log").read_text()[-3000:], flush=True)
        return None
    print(f"bench: {name} done in {seconds:.0f} s", flush=True)
    data = json.loads(out.read_text())
    data["wall_seconds"] = seconds
    return data


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    sizes = [int(n) for n in os.environ.get("BENCH_FANOUT", "2" if quick else "100,500,1000").split(",")]
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="fundarb-bench-"))
    results: dict = {"machine": machine(), "date": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")}
    results["database"] = (
        "PostgreSQL (BENCH_DATABASE_URL)" if os.environ.get("BENCH_DATABASE_URL") else "SQLite (temporary file, WAL)"
    )
    try:
        runs = ("1", "1", "1") if quick else ("25", "20", "20")
        results["executor"] = run_part(tmp, "executor", "bench.executor", *runs, timeout=420)
        results["fanout"] = [run_part(tmp, f"fanout-{n}", "bench.fanout", str(n), timeout=180) for n in sizes]
        web_args = ("40", "1") if quick else ("10000", "25")
        results["web"] = run_part(tmp, "web", "bench.web", *web_args, timeout=240)
    finally:
        results["total_seconds"] = time.monotonic() - started
        target = Path(os.environ.get("BENCH_RESULTS", HERE / "results.md"))
        target.write_text(render(results))
        (tmp / "results.json").write_text(json.dumps(results, indent=2, default=str))
        print(f"bench: wrote {target} in {results['total_seconds']:.0f} s", flush=True)
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)
    parts = [results.get("executor"), *results.get("fanout", []), results.get("web")]
    return 0 if all(parts) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Run the reliability scenarios and write RELIABILITY.md from what they recorded (never typed by hand).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fundarb .venv/bin/python -m tests.reliability.report
    .venv/bin/python -m tests.reliability.report --from-last      # rewrite from the newest recorded run only

The in-process fault matrix runs on the database named by DATABASE_URL (SQLite when unset); the real-process races
and crashes always use the PostgreSQL server at TEST_POSTGRES_URL. Rows come from tests/reliability/conftest.py.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.reliability.conftest import RUNS_DIR

REPO = Path(__file__).resolve().parents[2]
OUTPUT = REPO / "RELIABILITY.md"
GROUPS = ("Fault matrix", "Races", "Crashes")
COMMAND = "make reliability"
KEEP_RUNS = 5


def run_tests(directory: Path, pytest_args: list[str]) -> int:
    env = {**os.environ, "RELIABILITY_DIR": str(directory)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/reliability",
        "-n",
        "2",
        "--dist",
        "loadgroup",
        "-q",
        *pytest_args,
    ]
    print("$", " ".join(command), flush=True)
    return subprocess.call(command, cwd=REPO, env=env)


def load(directory: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(directory.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(rows, key=lambda r: (GROUPS.index(r["group"]) if r["group"] in GROUPS else 99, r.get("order", 0)))


def newest_run() -> Path:
    runs = [p for p in RUNS_DIR.iterdir() if p.is_dir() and any(p.glob("*.jsonl"))] if RUNS_DIR.exists() else []
    if not runs:
        raise SystemExit(f"no recorded run under {RUNS_DIR}: run without --from-last first")
    return max(runs, key=lambda p: p.stat().st_mtime)


def prune_runs(keep: Path) -> None:
    runs = sorted((p for p in RUNS_DIR.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[KEEP_RUNS:]:
        if old != keep:
            for file in old.glob("*"):
                file.unlink()
            old.rmdir()


def postgres_version() -> str:
    url = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/fundarb")
    try:
        import psycopg

        with psycopg.connect(_admin(url), connect_timeout=3) as c:
            return str(c.execute("SHOW server_version").fetchone()[0])
    except Exception as exc:  # the header says so rather than failing the report
        return f"unreachable ({type(exc).__name__})"


def _admin(url: str) -> str:
    return urlparse(url)._replace(path="/postgres").geturl()


def _cell(text: Any) -> str:
    return str(text).replace("|", "/").replace("\n", " ").strip() or "—"


def render(rows: list[dict[str, Any]], *, directory: Path, exit_code: int | None) -> str:
    passed = sum(1 for r in rows if r["result"] == "pass")
    failed = [r for r in rows if r["result"] != "pass"]
    databases = sorted({r["database"] for r in rows})
    database_url = os.environ.get("DATABASE_URL", "sqlite (default)")
    lines = [
        "# Reliability",
        "",
        "What the executor guarantees when a venue, the network, the queue or a worker misbehaves, proven by the",
        "scenarios in `tests/reliability/` and counted on the venues (the simulator's own order books and positions),",
        "not only in the database. **This file is generated; do not edit it by hand.**",
        "",
        f"- Generated: {datetime.now(tz=UTC):%Y-%m-%d %H:%M UTC} from run `{directory.name}`"
        + (f" (pytest exit code {exit_code})" if exit_code is not None else " (rows of the last recorded run)"),
        f"- Machine: {platform.node()}, {platform.system()} {platform.release()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"- Databases: {', '.join(databases)}; DATABASE_URL for the in-process matrix: "
        f"`{_redact(database_url)}`; PostgreSQL server {postgres_version()}",
        f"- Result: **{passed} of {len(rows)} scenarios held**" + (f", {len(failed)} did not" if failed else ""),
        f"- Regenerate: `{COMMAND}` (every pair of faults, about 25 minutes on 2 cores; without "
        "`RELIABILITY_CROSS=1` the CI selection; `python -m tests.reliability.report --from-last` rewrites from the "
        "newest recorded run)",
        "",
        "Two invariants are measured on the simulator for every fault-matrix scenario: **at each venue's settlement",
        "of T the two legs net to zero** (column *At T*: the signed sum of both accounts' positions in the symbol at",
        "each settlement the simulator recorded), and **after the final status both accounts are flat**. Then the",
        "fault clears and the reconciler runs: column *Final* says how and how fast the final status was reached;",
        "only scenarios whose *Must hold* says so may leave the driver in RECONCILING. Every scenario also checks:",
        "no client order id twice on a venue and at most one open per leg on the venue (no duplicate order); every",
        "order on a venue known to the database; exactly one execution row; a final status from the scenario's set,",
        "with a message whenever it did not complete. The whole suite also fails any test that ends with a final",
        "status while a simulator still holds that execution's position (`tests/conftest.py`).",
        "The fault matrix runs each fault on each venue (Bybit and BingX), as the hedge and, where the role",
        "matters, as the primary; timings are a fast timeline (T-3.5 s preflight, T-2.5 s sync, T-1 s trigger).",
        "Pairs of faults are named `a + b`; `make reliability` runs every new fault with every other one.",
        "",
    ]
    for group in GROUPS:
        chosen = [r for r in rows if r["group"] == group]
        if not chosen:
            continue
        matrix = group == "Fault matrix"
        header = ["Scenario", "Injected", "Must hold", "Counted on the venues"]
        header += ["At T", "Final"] if matrix else []
        header += ["Status", "Result"]
        lines += [f"## {group}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in chosen:
            result = f"{'✅ pass' if r['result'] == 'pass' else '❌ ' + r['result']} ({r['seconds']:.0f} s)"
            if r["failure"]:
                result += f": {r['failure']}"
            cells = [r["scenario"], r["injected"], r["must_hold"], r["counted"]]
            cells += [r.get("at_settlement", ""), r.get("recovery", "")] if matrix else []
            cells += [r["status"], result]
            lines.append("| " + " | ".join(_cell(v) for v in cells) + " |")
        lines.append("")
    messages = [r for r in rows if r["group"] == "Fault matrix" and r["extra"].get("message")]
    if messages:
        lines += ["## Messages the trader read", "", "| Scenario | Message |", "|---|---|"]
        lines += [f"| {_cell(r['scenario'])} | {_cell(r['extra']['message'])} |" for r in messages]
        lines.append("")
    return "\n".join(lines)


def _redact(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return parsed._replace(netloc=f"{parsed.username}:***@{parsed.hostname}:{parsed.port}").geturl()
    return url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from-last", action="store_true", help="do not run the tests; use the newest run's rows")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    options = parser.parse_args(argv)
    exit_code = None
    if options.from_last:
        directory = newest_run()
    else:
        directory = RUNS_DIR / f"report-{datetime.now(tz=UTC):%Y%m%d-%H%M%S}"
        directory.mkdir(parents=True, exist_ok=True)
        exit_code = run_tests(directory, options.pytest_args)
    rows = load(directory)
    if not rows:
        print(f"no rows recorded in {directory}", file=sys.stderr)
        return 1
    options.output.write_text(render(rows, directory=directory, exit_code=exit_code), encoding="utf-8")
    prune_runs(directory)
    print(f"wrote {options.output} ({len(rows)} scenarios from {directory})")
    return exit_code or 0


if __name__ == "__main__":
    sys.exit(main())

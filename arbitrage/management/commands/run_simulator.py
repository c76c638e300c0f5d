"""Serve the built-in exchange simulator (both venues, one port) until Ctrl-C or SIGTERM.

The first line on stdout is the base URL, so a parent process can read it. See ``exchanges.simulator`` for the
control API and the fault kinds.
"""

from __future__ import annotations

import signal
import threading
from dataclasses import dataclass
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError

from exchanges.simulator import Simulator
from exchanges.simulator.markets import VENUES

HEDGE_SUFFIX = ":hedge"


@dataclass(frozen=True)
class AccountSpec:
    venue: str
    api_key: str
    api_secret: str
    hedge: bool


def parse_account(spec: str) -> AccountSpec:
    """``VENUE:KEY:SECRET[:hedge]``; the secret is everything after the second colon (minus a ``:hedge`` suffix)."""
    venue, _, rest = spec.partition(":")
    api_key, _, secret = rest.partition(":")
    hedge = secret.endswith(HEDGE_SUFFIX)
    if hedge:
        secret = secret[: -len(HEDGE_SUFFIX)]
    if venue not in VENUES or not api_key or not secret:
        raise ValueError(f"--account {venue}:...: expected VENUE:KEY:SECRET[:hedge] with VENUE in {VENUES}")
    return AccountSpec(venue, api_key, secret, hedge)


def parse_venue_value(spec: str, flag: str) -> tuple[str, float]:
    venue, _, value = spec.partition(":")
    if venue not in VENUES:
        raise ValueError(f"{flag} {spec}: expected VENUE:VALUE with VENUE in {VENUES}")
    return venue, float(value)


def build_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 8100,
    funding_interval: int = 120,
    latency_ms: int = 0,
    seed: int = 1,
    state: str | None = None,
    accounts: list[str] | None = None,
    skew: list[str] | None = None,
    error_rate: list[str] | None = None,
) -> Simulator:
    """The simulator the command serves, configured from its flags (not started)."""
    sim = Simulator(
        host=host, port=port, seed=seed, latency_ms=latency_ms, funding_interval=funding_interval, state_file=state
    )
    for spec in accounts or []:
        account = parse_account(spec)
        sim.add_account(account.venue, account.api_key, account.api_secret, hedge=account.hedge)
    for spec in skew or []:
        venue, value = parse_venue_value(spec, "--skew-ms")
        sim.faults(venue).skew(int(value))
    for spec in error_rate or []:
        venue, value = parse_venue_value(spec, "--error-rate")
        sim.faults(venue).error_rate(value)
    return sim


def serve(sim: Simulator, stdout: TextIO, stop: threading.Event) -> None:
    """Start, announce the URL, block until ``stop`` is set, then stop cleanly (state saved)."""
    url = sim.start()
    stdout.write(f"{url}\n")
    stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()


class Command(BaseCommand):
    help = "Run the Bybit + BingX exchange simulator on one port (demo, end-to-end tests, benchmarks)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--funding-interval", type=int, default=120, help="seconds between funding instants")
        parser.add_argument("--latency-ms", type=int, default=0, help="simulated network latency on both venues")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--state", default=None, help="JSON file the state is saved to and restored from")
        parser.add_argument(
            "--account",
            action="extend",
            nargs="+",
            default=[],
            metavar="VENUE:KEY:SECRET[:hedge]",
            help="one or more accounts; the flag may also repeat",
        )
        parser.add_argument("--skew-ms", action="append", default=[], metavar="VENUE:MS", help="venue clock skew")
        parser.add_argument("--error-rate", action="append", default=[], metavar="VENUE:RATE", help="e.g. bingx:0.05")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sim = build_simulator(
                host=options["host"],
                port=options["port"],
                funding_interval=options["funding_interval"],
                latency_ms=options["latency_ms"],
                seed=options["seed"],
                state=options["state"],
                accounts=options["account"],
                skew=options["skew_ms"],
                error_rate=options["error_rate"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()
        signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
        serve(sim, self.stdout, stop)
        self.stderr.write("simulator stopped")

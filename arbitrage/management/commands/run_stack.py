"""Run the web server and the task workers (and, for the demo, the exchange simulator) as one unit.

Ctrl-C or SIGTERM stops every child; if any child dies on its own, the others are stopped too, so the stack is
never left half-running.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlparse

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from arbitrage.services.demo import demo_login_guard_at_start
from exchanges.simulator import SimulatorControl

STOP_GRACE_SECONDS = 10
# The demo's venues settle funding every two minutes so a visitor sees executions soon.
DEMO_FUNDING_INTERVAL = 120


class Command(BaseCommand):
    help = "Run web server + django-q2 cluster together (make run); stops all of them on Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args, host, port, web_workers, **options):
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        processes: dict[str, subprocess.Popen] = {}
        try:
            if settings.DEMO_SIMULATOR:
                processes["simulator"] = self._start(self._simulator_command(python, manage))
                self._wait_for_simulator()
                call_command("seed_demo", stdout=self.stdout, stderr=self.stderr)
            else:
                demo_login_guard_at_start("stack")
        except (CommandError, TimeoutError) as exc:
            self._stop_all(processes)
            raise CommandError(str(exc)) from None
        children: dict[str, list[str]] = {}
        children["web"] = [
            python, "-m", "gunicorn", "fundarb_site.wsgi:application",
            "--bind", f"{host}:{port}", "--workers", str(web_workers), "--threads", "4",
            "--access-logfile", "-", "--error-logfile", "-",
        ]  # fmt: skip
        children["workers"] = [python, manage, "qcluster"]
        processes.update({name: self._start(command) for name, command in children.items()})

        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        self.stdout.write(f"fundarb is running at http://{host}:{port}/  (Ctrl-C stops everything)", ending="\n")
        self.stdout.flush()

        exit_code = 0
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    self.stderr.write(f"{name} exited with code {process.returncode}; stopping the rest")
                    exit_code = 1
                    stopping = True
                    break
            time.sleep(0.2)
        self._stop_all(processes)
        if exit_code:
            sys.exit(exit_code)

    def _start(self, command: list[str]) -> subprocess.Popen:
        # Each child leads its own process group: Ctrl-C reaches only this supervisor, which then stops every
        # child exactly once (a double signal made gunicorn's master hang without workers).
        return subprocess.Popen(command, cwd=settings.BASE_DIR, start_new_session=True)

    def _simulator_command(self, python: str, manage: str) -> list[str]:
        port = urlparse(settings.SIMULATOR_URL).port or 8100
        return [
            python, manage, "run_simulator", "--port", str(port), "--funding-interval", str(DEMO_FUNDING_INTERVAL),
            "--state", str(settings.DEMO_SIMULATOR_STATE),
        ]  # fmt: skip

    def _wait_for_simulator(self) -> None:
        control = SimulatorControl(settings.SIMULATOR_URL, timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                control.health()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the simulator did not answer at {settings.SIMULATOR_URL}") from None
                time.sleep(0.2)

    def _stop_all(self, processes):
        # SIGTERM to each leader only: qcluster and gunicorn stop their own children gracefully, and signalling
        # those children directly as well makes qcluster's shutdown stall. The group is killed only on timeout.
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        self.stderr.write("stopped")


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)

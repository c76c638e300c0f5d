"""Take the README's dashboard screenshot from a running fundarb (the `make run` demo) with Debian's Chromium.

    .venv/bin/python docs/screenshot.py [URL] [OUTPUT]      # defaults: http://127.0.0.1:8000/  docs/dashboard.png

Logs in as the demo user (demo / fundarb-demo). Let the demo run for a few funding instants first (its simulated
venues fund every two minutes) so the P&L chart has a line. Chromium is never downloaded: set CHROMIUM_PATH if it
is not /usr/bin/chromium.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main(url: str, output: Path) -> int:
    url = url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, "--no-first-run", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.goto(f"{url}/login/")
        page.fill("#id_username", os.environ.get("DEMO_USERNAME", "demo"))
        page.fill("#id_password", os.environ.get("DEMO_PASSWORD", "fundarb-demo"))
        page.click("button[type=submit]")
        page.wait_for_selector("h1:has-text('Dashboard')")
        page.screenshot(path=str(output), full_page=True)
        browser.close()
    print(f"{output}: {output.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(
        main(
            sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/",
            Path(sys.argv[2] if len(sys.argv) > 2 else "docs/dashboard.png"),
        )
    )

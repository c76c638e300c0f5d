"""A trader's whole day in a real browser: log in, add both venues' accounts on the simulator, subscribe (and be
told when the leverage is too high), watch the execution run at a short funding instant, read its timeline; then
another user sees none of it.

The web pages are served by pytest-django's live server; the executor is driven in-process on a background thread
(as a django-q2 worker would), with the fast timeline of the executor tests. Screenshots of every step are written
to test-artifacts/e2e/<test>/.
"""

from __future__ import annotations

import re
import threading
import time
from decimal import Decimal

import pytest
from django.db import connections

from arbitrage.models import Execution, ExecutionStatus, Subscription
from arbitrage.services.driver import instant_drive
from arbitrage.services.planner import executions_plan

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_timeline"),
]

SYMBOL = "ETHUSDT"
# Bybit pays 0.35% per interval, enough to beat four taker fees: the default minimum edge (0 bps) lets it trade.
HOT_RATE = "0.0035"
# Far enough ahead that the planner arms it on a loaded machine, near enough to keep the test short.
FUNDING_IN_SECONDS = 9
KEYS = {
    "bybit": ("e2e-alice-bybit-key", "e2e-alice-bybit-secret"),
    "bingx": ("e2e-alice-bingx-key", "e2e-alice-bingx-secret"),
}
LABELS = {"bybit": "Alice Bybit (sim)", "bingx": "Alice BingX (sim)"}
WAIT_SECONDS = 60


@pytest.fixture
def market(settings, venue_sim):
    """Market data (the dashboard's rates and countdowns) from the simulator, as the periodic refresh writes it."""
    from arbitrage.services.clients import forget_clients
    from arbitrage.services.snapshot import market_snapshot_refresh

    settings.MARKET_DATA_ENVIRONMENT = "simulator"
    forget_clients()
    venue_sim.set_funding_rate(SYMBOL, "bybit", HOT_RATE)
    for venue, (key, secret) in KEYS.items():
        venue_sim.add_account(venue, key, secret, balance=Decimal("10000"))
    market_snapshot_refresh()
    return venue_sim


class Driver(threading.Thread):
    """Drives one funding instant in the background, as a worker task would, while the browser watches."""

    def __init__(self, funding_time) -> None:
        super().__init__(name="e2e-driver", daemon=True)
        self.funding_time = funding_time
        self.driven: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.driven = instant_drive(funding_time=self.funding_time)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc
        finally:
            connections.close_all()


def login(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_selector("h1:has-text('Dashboard')")


def add_account(page, base_url: str, venue: str) -> None:
    """The built-in simulator needs no base URL: in demo mode it is SIMULATOR_URL."""
    key, secret = KEYS[venue]
    page.goto(f"{base_url}/accounts/new/")
    page.select_option("#id_exchange", venue)
    page.fill("#id_label", LABELS[venue])
    page.select_option("#id_environment", label="Built-in simulator")
    page.fill("#id_api_key", key)
    page.fill("#id_api_secret", secret)
    page.click("button:has-text('Add account')")
    page.wait_for_selector(f".msg-success:has-text('{LABELS[venue]}')")


def fill_subscription(page, *, symbol: str, quantity: str, leverage: str) -> None:
    page.fill("#id_symbol", symbol)
    for field, venue in (("primary_account", "bybit"), ("hedge_account", "bingx")):
        option = page.locator(f"#id_{field} option", has_text=LABELS[venue])
        page.select_option(f"#id_{field}", value=option.get_attribute("value"))
    page.fill("#id_quantity", quantity)
    page.fill("#id_leverage", leverage)
    page.fill("#id_lead_seconds", "1")
    page.fill("#id_close_delay_seconds", "1")
    page.click("button:has-text('Subscribe')")


def reload_until(page, url: str, selector: str, *, seconds: float = WAIT_SECONDS) -> None:
    """Reload ``url`` until ``selector`` is on the page (the pages do not refresh themselves)."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if page.locator(selector).count():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector!r} did not appear on {url} within {seconds} s")
        page.wait_for_timeout(500)


def test_trader_subscribes_watches_an_execution_and_another_user_sees_nothing(
    live_server, market, user, other_user, new_page, shot
):
    """Subscribe at 5x (60x refused), watch it execute, read its timeline in a browser; another user sees none of it."""
    base = live_server.url
    console_errors: list[str] = []
    page = new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    # 1. Log in.
    page.goto(f"{base}/")
    page.wait_for_selector("h1:has-text('Log in')")  # every page needs a login
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    shot(page, "01-login")
    page.click("button[type=submit]:has-text('Log in')")
    page.wait_for_selector("h1:has-text('Dashboard')")
    assert page.locator(".username").inner_text() == "alice"
    shot(page, "02-dashboard-empty")

    # 2. Two exchange accounts pointing at the simulator, and a connection test of each.
    for venue in ("bybit", "bingx"):
        add_account(page, base, venue)
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert "Built-in simulator" in rows.first.inner_text()
    html = page.content()
    assert all(secret not in html and key not in html for key, secret in KEYS.values())  # write-only credentials
    shot(page, "03-accounts")
    for venue in ("bybit", "bingx"):
        page.goto(f"{base}/accounts/")
        page.locator("tr", has_text=LABELS[venue]).locator("button:has-text('Test connection')").click()
        page.wait_for_selector("h1:has-text('Connection test')")
        assert page.locator(".badge.good", has_text="OK").count(), page.inner_text("main")
        shot(page, f"04-connection-test-{venue}")

    # 3. A leverage above the symbol's max on one venue is refused, naming the venue and its max.
    page.goto(f"{base}/subscriptions/new/")
    fill_subscription(page, symbol="DOGEUSDT", quantity="100", leverage="60")
    error = page.locator("#err-leverage")
    error.wait_for()
    assert "BingX" in error.inner_text() and "50x" in error.inner_text(), error.inner_text()
    assert Subscription.objects.count() == 0
    shot(page, "05-leverage-above-max")

    # ...and a valid one at 5x is created.
    fill_subscription(page, symbol=SYMBOL, quantity="0.5", leverage="5")
    page.wait_for_selector(".msg-success:has-text('Subscribed')")
    row = page.locator("table tbody tr", has_text=SYMBOL)
    assert "5x" in row.inner_text() and "Active" in row.inner_text()
    shot(page, "06-subscription-created")
    subscription = Subscription.objects.get(owner=user)
    assert (subscription.leverage, subscription.symbol) == (5, SYMBOL)

    # 4. The next funding instant is seconds away: the planner arms it and a worker drives it in the background.
    market.set_next_funding(SYMBOL, "bybit", in_seconds=FUNDING_IN_SECONDS)
    instants = executions_plan()
    assert len(instants) == 1, f"the planner armed {instants} (too slow to arm {FUNDING_IN_SECONDS} s ahead?)"
    instant = instants[0]
    driver = Driver(instant)
    driver.start()
    try:
        page.goto(f"{base}/")
        upcoming = page.locator("section", has=page.locator("h2", has_text="Next executions"))
        assert SYMBOL in upcoming.inner_text()  # planned, with its countdown
        shot(page, "07-dashboard-planned")
        reload_until(page, f"{base}/executions/", "table .badge:has-text('Completed')")
        shot(page, "08-executions-completed")
    finally:
        driver.join(timeout=WAIT_SECONDS)
    assert not driver.is_alive(), "the executor did not finish"
    assert driver.error is None, repr(driver.error)
    assert driver.driven == 1
    execution = Execution.objects.get(subscription=subscription)
    assert execution.status == ExecutionStatus.COMPLETED, execution.error

    # 5. The timeline: leverage set and verified on both venues, both legs opened, funding received, both closed.
    page.locator("table tbody tr", has_text=SYMBOL).locator("a").first.click()
    page.wait_for_selector(f"h1:has-text('Execution #{execution.pk}')")
    timeline = page.locator("ol.timeline").inner_text()
    steps = ("preflight", "leverage_synced", "primary_open_sent", "hedge_open_sent", "status_open")
    steps += ("primary_close_sent", "hedge_close_sent", "primary_flat", "hedge_flat", "status_completed", "pnl_final")
    for step in steps:
        assert step in timeline, f"{step} missing from the timeline:\n{timeline}"
    assert re.search(r"leverage_verified on Bybit", timeline) and re.search(r"leverage_verified on BingX", timeline)
    assert timeline.index("leverage_synced") < timeline.index("primary_open_sent")  # sync-then-open
    assert re.search(r"pnl_final.*funding \+[0-9]", timeline), timeline  # the funding the venue actually paid
    assert "Completed" in page.locator("table.kv").first.inner_text()
    pnl = page.locator("section", has=page.locator("h2", has_text="P&L"))
    assert "final" in pnl.inner_text()
    funding = pnl.locator("tr", has_text="Funding").locator("td").inner_text()
    assert Decimal(funding.split()[0].replace(",", "")) > 0, funding  # funding actually received
    for leg in ("Primary leg", "Hedge leg"):
        orders = page.locator("section", has=page.locator("h2", has_text=leg)).locator("tbody tr")
        assert orders.count() == 2, f"{leg}: one open and one close expected"
        assert "Open" in orders.nth(0).inner_text() and "Filled" in orders.nth(0).inner_text()
        assert "reduce-only" in orders.nth(1).inner_text() and "Filled" in orders.nth(1).inner_text()
    shot(page, "09-execution-timeline")

    page.goto(f"{base}/")
    page.wait_for_selector("h2:has-text('Recent executions')")
    assert page.locator(".chart svg").count() == 1  # cumulative P&L chart
    shot(page, "10-dashboard-after")
    assert console_errors == []  # no script error, no blocked resource (CSP) on any page

    # 6. Bob, in his own browser context, sees nothing of alice's; her execution is a 404 for him.
    bob = new_page()
    login(bob, base, "bob", "bob-password-1")
    assert SYMBOL not in bob.inner_text("main")
    assert "No subscriptions yet" in bob.inner_text("main")
    shot(bob, "11-bob-dashboard")
    for path, empty in (
        ("/subscriptions/", "No subscriptions yet"),
        ("/accounts/", "No exchange accounts yet"),
        ("/executions/", "No executions match"),
    ):
        bob.goto(f"{base}{path}")
        text = bob.inner_text("main")
        assert empty in text, path
        assert SYMBOL not in text and LABELS["bybit"] not in text and LABELS["bingx"] not in text, path
    shot(bob, "12-bob-executions")
    for path in (
        f"/executions/{execution.pk}/",
        f"/subscriptions/{subscription.pk}/edit/",
        f"/accounts/{subscription.primary_account_id}/edit/",
    ):
        response = bob.goto(f"{base}{path}")
        assert response.status == 404, path
        assert SYMBOL not in bob.content() and LABELS["bybit"] not in bob.content(), path
    shot(bob, "13-bob-execution-404")
    assert other_user.exchange_accounts.count() == 0

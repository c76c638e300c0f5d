"""Every page renders for its owner with the data it promises, within a constant number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from arbitrage.models import Execution, ExecutionStatus, FundingPayment, MarketSnapshot, Notice
from tests.web.conftest import add_legs, assert_no_secrets, make_execution

pytestmark = pytest.mark.django_db


def test_dashboard_empty_state_renders(alice_client):
    """A new user's dashboard explains what to do first and shows the kill switch off."""
    response = alice_client.get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No subscriptions yet" in html
    assert "Pause everything" in html
    assert "No P&amp;L yet" in html


def test_dashboard_shows_countdown_rates_plan_recent_and_chart(alice_client, market, subscription, execution):
    """Subscriptions with countdown and both rates from the snapshot, the next plan, recent outcomes, the SVG."""
    planned = make_execution(subscription, minutes=5, status=ExecutionStatus.SYNCED, primary_side="buy")
    snapshot = MarketSnapshot.objects.get(venue="bybit", symbol="BTCUSDT")
    response = alice_client.get(reverse("dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-countdown="{snapshot.next_funding_time.isoformat()}"' in html
    assert "arbitrage/app.js" in html
    assert reverse("execution_detail", args=[planned.pk]) in html
    assert "Leverage synced" in html and "1.25 bps" in html
    assert "Completed" in html and "+1.1000" in html  # net of execution: 2.1 - 0.7 - 0.3
    assert "<svg" in html and 'class="series series-funding"' in html
    assert_no_secrets(response)


def test_dashboard_shows_and_dismisses_notices(alice_client, user, subscription, execution):
    """An undismissed notice is shown with a dismiss button; dismissing hides it."""
    notice = Notice.objects.create(user=user, message="Hedge rejected; primary unwound.", execution=execution)
    html = alice_client.get(reverse("dashboard")).content.decode()
    assert "Hedge rejected; primary unwound." in html
    assert reverse("notice_dismiss", args=[notice.pk]) in html
    response = alice_client.post(reverse("notice_dismiss", args=[notice.pk]))
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.dismissed
    assert "Hedge rejected" not in alice_client.get(reverse("dashboard")).content.decode()


def test_dashboard_queries_do_not_grow_with_data(alice_client, subscription, django_assert_max_num_queries):
    """Many executions with P&L cost no more queries than one."""
    for minutes in range(1, 40):
        make_execution(subscription, minutes=-60 * minutes, pnl_funding=Decimal("0.5"), pnl_fees=Decimal("-0.1"))
    with django_assert_max_num_queries(12):
        assert alice_client.get(reverse("dashboard")).status_code == 200


def test_scanner_lists_symbols_on_both_venues_with_normalised_spread(alice_client, market):
    """Rates, intervals and the per-8h and annualised spread, from the snapshot table, with a prefilled link."""
    market_rows = {(s.venue, s.symbol): s for s in MarketSnapshot.objects.all()}
    bybit, bingx = market_rows[("bybit", "BTCUSDT")], market_rows[("bingx", "BTCUSDT")]
    spread = bybit.funding_rate / bybit.interval_hours * 8 - bingx.funding_rate / bingx.interval_hours * 8
    response = alice_client.get(reverse("funding_scanner"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{spread * 100:+.4f}%" in html
    assert f"{abs(spread) * 3 * 365 * 100:+.2f}%" in html
    primary = "bybit" if abs(bybit.funding_rate) >= abs(bingx.funding_rate) else "bingx"
    assert f"{reverse('subscription_create')}?symbol=BTCUSDT&amp;primary={primary}" in html


def test_scanner_sorts_by_spread_and_symbol(alice_client, market):
    """Default order is the largest absolute spread first; sort=symbol orders alphabetically; junk is ignored."""
    from arbitrage.services.web_support import funding_scanner_rows

    by_spread = [r.symbol for r in funding_scanner_rows()]
    assert [abs(r.spread_8h) for r in funding_scanner_rows()] == sorted(
        (abs(r.spread_8h) for r in funding_scanner_rows()), reverse=True
    )
    html = alice_client.get(reverse("funding_scanner")).content.decode()
    assert html.index(by_spread[0]) < html.index(by_spread[-1])
    html = alice_client.get(reverse("funding_scanner") + "?sort=symbol&dir=asc").content.decode()
    assert html.index("<strong>BTCUSDT") < html.index("<strong>XRPUSDT")
    assert alice_client.get(reverse("funding_scanner") + "?sort=';drop&dir=%00").status_code == 200


def test_scanner_without_market_data_explains_the_refresh(alice_client):
    """An empty snapshot table says where the data comes from instead of calling a venue."""
    assert "No market data yet" in alice_client.get(reverse("funding_scanner")).content.decode()


def test_scanner_queries_are_constant(alice_client, market, django_assert_max_num_queries):
    """The scanner reads the snapshot table in one query whatever the number of symbols."""
    with django_assert_max_num_queries(6):
        alice_client.get(reverse("funding_scanner"))


def test_account_list_shows_masked_key_only(alice_client, sim_accounts):
    """Accounts are listed with the masked key hint; neither the key nor the secret appears."""
    response = alice_client.get(reverse("account_list"))
    html = response.content.decode()
    assert sim_accounts[0].api_key_hint in html and "Test connection" in html
    assert_no_secrets(response)


def test_subscription_list_shows_actions(alice_client, subscription):
    """Each subscription has pause, sync leverage, edit and delete."""
    html = alice_client.get(reverse("subscription_list")).content.decode()
    for name in ("subscription_pause", "subscription_sync_leverage", "subscription_edit", "subscription_delete"):
        assert reverse(name, args=[subscription.pk]) in html


def test_execution_detail_shows_timeline_orders_and_pnl(alice_client, execution, django_assert_max_num_queries):
    """Events relative to T with sign and milliseconds, every order's fields and latency, and the P&L breakdown."""
    with django_assert_max_num_queries(8):
        response = alice_client.get(reverse("execution_detail", args=[execution.pk]))
    html = response.content.decode()
    assert "T-30.004 s" in html and "leverage_set" in html and "on Bybit" in html and "48 ms" in html
    assert "T+0.120 s" in html
    assert f"fa-{execution.pk}-po1" in html and f"x{execution.pk}hc" in html
    assert "37 ms" in html  # sent -> acked latency
    assert "+2.1000" in html and "-0.7000" in html and "-0.3000" in html and "+1.1000" in html and "final" in html
    assert_no_secrets(response)


def test_execution_detail_lists_each_funding_payment_with_its_ledger_proof(alice_client, execution):
    """Each payment the venues' ledgers showed: leg, venue, amount, when (relative to T), the ledger id and where the
    owner finds it on the venue; the close waited for it."""
    FundingPayment.objects.create(
        execution=execution,
        venue="bybit",
        leg="primary",
        funding_time=execution.funding_time,
        paid_at=execution.funding_time + timedelta(seconds=14.2),
        amount=Decimal("0.93"),
        ledger_id="ledger-row-7731",
        found_at=execution.funding_time + timedelta(seconds=15),
    )
    Execution.objects.filter(pk=execution.pk).update(funding_confirmed=True)

    html = alice_client.get(reverse("execution_detail", args=[execution.pk])).content.decode()

    assert "ledger-row-7731" in html and "+0.9300 USDT" in html and "T+14.200 s" in html
    assert "Bybit: the SETTLEMENT row of the transaction log" in html
    assert "confirmed before the close" in html


def test_execution_detail_pending_pnl(alice_client, subscription):
    """An execution without final P&L says pending and shows dashes for unknown parts."""
    execution = make_execution(subscription, status=ExecutionStatus.OPEN)
    html = alice_client.get(reverse("execution_detail", args=[execution.pk])).content.decode()
    assert "pending" in html and "No orders." in html and "No events yet." in html


def test_execution_list_paginates_25_per_page(alice_client, subscription, django_assert_max_num_queries):
    """30 executions: 25 on page one, 5 on page two, in constant queries; a junk page number shows a page."""
    for hours in range(30):
        make_execution(subscription, minutes=-60 * (hours + 1))
    with django_assert_max_num_queries(8):
        first = alice_client.get(reverse("execution_list"))
    assert len(first.context["page"].object_list) == 25
    second = alice_client.get(reverse("execution_list") + "?page=2")
    assert len(second.context["page"].object_list) == 5
    assert alice_client.get(reverse("execution_list") + "?page=abc").status_code == 200
    assert alice_client.get(reverse("execution_list") + "?page=999").status_code == 200


def test_execution_list_filters(alice_client, subscription, sim_accounts, user):
    """Status, subscription, symbol and date range each narrow the list."""
    now = timezone.now()
    old = make_execution(subscription, minutes=-60 * 24 * 10, status=ExecutionStatus.FAILED)
    new = make_execution(subscription, minutes=-30, status=ExecutionStatus.COMPLETED)
    url = reverse("execution_list")

    def listed(query: str) -> set[int]:
        response = alice_client.get(url + query)
        assert response.status_code == 200
        return {e.pk for e in response.context["page"].object_list}

    assert listed("?status=failed") == {old.pk}
    assert listed(f"?subscription={subscription.pk}") == {old.pk, new.pk}
    assert listed("?symbol=btcusdt") == {old.pk, new.pk}
    assert listed("?symbol=ETHUSDT") == set()
    day = (now - timedelta(days=2)).date().isoformat()
    assert listed(f"?date_from={day}") == {new.pk}
    assert listed(f"?date_to={day}") == {old.pk}


def test_execution_list_reports_malformed_filters_and_ignores_them(alice_client, subscription):
    """A bad status, date or subscription id is reported by field name and the remaining filters still apply."""
    execution = make_execution(subscription)
    response = alice_client.get(
        reverse("execution_list") + "?status=bogus&date_from=yesterday&subscription=abc&symbol=BTCUSDT"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Status: Select a valid choice" in html
    assert "From: Enter a valid date" in html
    assert "Subscription: Select a valid choice" in html
    assert [e.pk for e in response.context["page"].object_list] == [execution.pk]


def test_execution_with_many_orders_keeps_detail_queries_constant(
    alice_client, subscription, django_assert_max_num_queries
):
    """Orders and events are fetched in one query each."""
    execution = make_execution(subscription)
    add_legs(execution)
    with django_assert_max_num_queries(8):
        assert alice_client.get(reverse("execution_detail", args=[execution.pk])).status_code == 200

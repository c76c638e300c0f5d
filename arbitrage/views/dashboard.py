"""The dashboard, notices and the kill switches."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from arbitrage.models import MarketSnapshot, Subscription
from arbitrage.selectors import (
    executions_recent_for_user,
    executions_upcoming_for_user,
    kill_switch_state,
    notice_for_user,
    notices_open_for_user,
    pnl_cumulative_for_user,
    snapshots_for_symbols,
    subscriptions_overview_of_user,
)
from arbitrage.services.audit import Actor
from arbitrage.services.subscriptions import kill_switch_set, trading_halt_set
from arbitrage.services.web_support import notice_dismiss as notice_dismiss_service
from arbitrage.services.web_support import rate_per_8h
from arbitrage.views.charts import pnl_chart
from arbitrage.views.common import owned_or_404

RECENT_EXECUTIONS = 10


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: Subscription
    primary: MarketSnapshot | None
    hedge: MarketSnapshot | None

    @property
    def spread_8h(self):
        if self.primary is None or self.hedge is None:
            return None
        return rate_per_8h(self.primary) - rate_per_8h(self.hedge)


def subscription_rows(subscriptions: list[Subscription]) -> list[SubscriptionRow]:
    snapshots = snapshots_for_symbols(symbols=[s.symbol for s in subscriptions])
    return [
        SubscriptionRow(
            subscription=s,
            primary=snapshots.get((s.primary_account.exchange, s.symbol)),
            hedge=snapshots.get((s.hedge_account.exchange, s.symbol)),
        )
        for s in subscriptions
    ]


def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "nav": "dashboard",
        "rows": subscription_rows(list(subscriptions_overview_of_user(user=user))),
        "upcoming": executions_upcoming_for_user(user=user),
        "recent": executions_recent_for_user(user=user, limit=RECENT_EXECUTIONS),
        "notices": notices_open_for_user(user=user),
        "kill": kill_switch_state(user=user),
        "chart": pnl_chart(pnl_cumulative_for_user(user=user)),
    }
    return render(request, "arbitrage/dashboard.html", context)


@require_POST
def notice_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    notice_dismiss_service(notice=owned_or_404(notice_for_user, request, pk), actor=Actor.from_request(request))
    return redirect("dashboard")


def _engage_value(request: HttpRequest) -> bool | None:
    value = request.POST.get("engaged")
    return {"1": True, "0": False}.get(value)


@require_POST
def kill_switch(request: HttpRequest) -> HttpResponse:
    """'Pause everything' for the current user; the executor re-checks it in the trigger's compare-and-set."""
    engaged = _engage_value(request)
    if engaged is None:
        messages.error(request, "Kill switch: send engaged=1 or engaged=0.")
    else:
        kill_switch_set(user=request.user, engaged=engaged, actor=Actor.from_request(request))
        if engaged:
            messages.warning(request, "Kill switch engaged: none of your subscriptions will open a position.")
        else:
            messages.success(request, "Kill switch released: your active subscriptions trade again.")
    return redirect("dashboard")


@require_POST
def trading_halt(request: HttpRequest) -> HttpResponse:
    """The kill switch for every user: the admin's Installation switch, so the same rule (staff who may change the
    installation)."""
    if not (request.user.is_staff and request.user.has_perm("arbitrage.change_installation")):
        raise PermissionDenied("Halting trading for everybody needs the 'change installation' permission.")
    engaged = _engage_value(request)
    if engaged is None:
        messages.error(request, "Trading halt: send engaged=1 or engaged=0.")
    else:
        trading_halt_set(engaged=engaged, actor=Actor.from_request(request))
        if engaged:
            messages.warning(request, "Trading halted for every user.")
        else:
            messages.success(request, "Trading resumed for every user.")
    return redirect("dashboard")

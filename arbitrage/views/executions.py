"""Executions: a filtered, paginated list and the detail page (timeline relative to T, orders, P&L)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from arbitrage.forms import ExecutionFilterForm
from arbitrage.models import LegRole
from arbitrage.selectors import (
    execution_for_user,
    execution_orders,
    execution_payments,
    execution_rows_of_user,
    execution_timeline,
)
from arbitrage.views.common import owned_or_404

PAGE_SIZE = 25


def _day_start(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def execution_list(request: HttpRequest) -> HttpResponse:
    form = ExecutionFilterForm(request.GET or None, user=request.user)
    executions = execution_rows_of_user(user=request.user).order_by("-funding_time", "-pk")
    if form.is_bound:
        form.is_valid()  # invalid filters are shown as errors and left out; valid ones still apply
        filters = form.valid_filters()
        if "status" in filters:
            executions = executions.filter(status=filters["status"])
        if "subscription" in filters:
            executions = executions.filter(subscription=filters["subscription"])
        if "symbol" in filters:
            executions = executions.filter(symbol__iexact=filters["symbol"].strip())
        if "date_from" in filters:
            executions = executions.filter(funding_time__gte=_day_start(filters["date_from"]))
        if "date_to" in filters:
            executions = executions.filter(funding_time__lt=_day_start(filters["date_to"]) + timedelta(days=1))
    page = Paginator(executions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"nav": "executions", "form": form, "page": page, "query": query.urlencode()}
    return render(request, "arbitrage/execution_list.html", context)


def execution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    execution = owned_or_404(execution_for_user, request, pk)
    orders = execution_orders(execution=execution)
    legs = [(label, [o for o in orders if o.role == role]) for role, label in LegRole.choices]
    context = {
        "nav": "executions",
        "execution": execution,
        "events": execution_timeline(execution=execution),
        "legs": legs,
        "payments": execution_payments(execution=execution),
    }
    return render(request, "arbitrage/execution_detail.html", context)

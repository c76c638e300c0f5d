"""Subscriptions: list, create (prefilled from the scanner), edit, pause, resume, delete, sync leverage now."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from arbitrage.forms import SubscriptionForm, apply_service_errors
from arbitrage.models import Exchange
from arbitrage.selectors import accounts_of_user, subscription_for_user, subscriptions_of_user
from arbitrage.services import subscriptions as service
from arbitrage.services.audit import Actor
from arbitrage.services.leverage import LeverageSyncFailed, leverage_sync
from arbitrage.views.common import owned_or_404, plain_errors

PREFILL_SYMBOL_MAX = 30


def subscription_list(request: HttpRequest) -> HttpResponse:
    context = {"nav": "subscriptions", "subscriptions": subscriptions_of_user(user=request.user)}
    return render(request, "arbitrage/subscription_list.html", context)


def _input(form: SubscriptionForm) -> service.SubscriptionInput:
    return service.SubscriptionInput(**form.cleaned_data)


def _prefill(request: HttpRequest) -> dict:
    """Initial values from the scanner's GET params: symbol, and primary = a venue name. Anything odd is ignored."""
    initial: dict = {}
    symbol = request.GET.get("symbol", "")
    if symbol and len(symbol) <= PREFILL_SYMBOL_MAX:
        initial["symbol"] = symbol
    primary = request.GET.get("primary", "")
    if primary in Exchange.values:
        accounts = list(accounts_of_user(user=request.user))
        first = {}
        for account in accounts:
            first.setdefault(account.exchange, account.pk)
        other = next(v for v in Exchange.values if v != primary)
        if primary in first:
            initial["primary_account"] = first[primary]
        if other in first:
            initial["hedge_account"] = first[other]
    return initial


def subscription_create(request: HttpRequest) -> HttpResponse:
    form = SubscriptionForm(request.POST or None, user=request.user, initial=_prefill(request))
    if request.method == "POST" and form.is_valid():
        try:
            subscription = service.subscription_create(owner=request.user, data=_input(form))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Subscribed: {subscription}.")
            return redirect("subscription_list")
    return render(
        request, "arbitrage/subscription_form.html", {"nav": "subscriptions", "form": form, "subscription": None}
    )


def subscription_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = owned_or_404(subscription_for_user, request, pk)
    form = SubscriptionForm(request.POST or None, user=request.user, initial=SubscriptionForm.initial_for(subscription))
    if request.method == "POST" and form.is_valid():
        try:
            service.subscription_update(subscription=subscription, data=_input(form))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Saved {subscription}.")
            return redirect("subscription_list")
    context = {"nav": "subscriptions", "form": form, "subscription": subscription}
    return render(request, "arbitrage/subscription_form.html", context)


@require_POST
def subscription_pause(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = owned_or_404(subscription_for_user, request, pk)
    service.subscription_pause(subscription=subscription, actor=Actor.from_request(request))
    messages.success(request, f"Paused {subscription}: it will not open a position until resumed.")
    return redirect("subscription_list")


@require_POST
def subscription_resume(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = owned_or_404(subscription_for_user, request, pk)
    try:
        service.subscription_resume(subscription=subscription, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, f"Could not resume {subscription}: {plain_errors(error)}")
    else:
        messages.success(request, f"Resumed {subscription}.")
    return redirect("subscription_list")


def subscription_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes (refused while an execution is in flight)."""
    subscription = owned_or_404(subscription_for_user, request, pk)
    if request.method == "POST":
        try:
            service.subscription_delete(subscription=subscription)
        except ValidationError as error:
            messages.error(request, plain_errors(error))
        else:
            messages.success(request, f"Deleted subscription {subscription.symbol}.")
        return redirect("subscription_list")
    context = {"nav": "subscriptions", "object": subscription, "what": "subscription", "cancel": "subscription_list"}
    return render(request, "arbitrage/confirm_delete.html", context)


@require_POST
def subscription_sync_leverage(request: HttpRequest, pk: int) -> HttpResponse:
    """Sets the leverage on both venues now (in parallel) and shows each venue's answer and timing."""
    subscription = owned_or_404(subscription_for_user, request, pk)
    try:
        result = leverage_sync(subscription=subscription, actor=Actor.from_request(request))
    except LeverageSyncFailed as failure:
        result = failure.result
    context = {"nav": "subscriptions", "subscription": subscription, "result": result}
    return render(request, "arbitrage/subscription_sync.html", context)

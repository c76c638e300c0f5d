"""Exchange accounts: list, add, edit, delete and the connection check. Keys and secrets are write-only."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from arbitrage.forms import AccountCreateForm, AccountUpdateForm, apply_service_errors
from arbitrage.selectors import account_for_user, accounts_of_user
from arbitrage.services.accounts import account_check as account_check_service
from arbitrage.services.accounts import account_create as account_create_service
from arbitrage.services.accounts import account_delete as account_delete_service
from arbitrage.services.accounts import account_update
from arbitrage.services.audit import Actor
from arbitrage.views.common import owned_or_404, plain_errors


def account_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "arbitrage/account_list.html", {"nav": "accounts", "accounts": accounts_of_user(user=request.user)}
    )


def account_create(request: HttpRequest) -> HttpResponse:
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = account_create_service(owner=request.user, actor=Actor.from_request(request), **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Added {account}. Test the connection to check the key.")
            return redirect("account_list")
    return render(request, "arbitrage/account_form.html", {"nav": "accounts", "form": form, "account": None})


def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = owned_or_404(account_for_user, request, pk)
    form = AccountUpdateForm.for_account(account, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_update(account=account, actor=Actor.from_request(request), **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
            # account_update may have set attributes before failing: show the stored row, not the rejected input.
            account.refresh_from_db()
        else:
            messages.success(request, f"Saved {account}.")
            return redirect("account_list")
    return render(request, "arbitrage/account_form.html", {"nav": "accounts", "form": form, "account": account})


def account_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes (refused while a subscription uses the account)."""
    account = owned_or_404(account_for_user, request, pk)
    if request.method == "POST":
        try:
            account_delete_service(account=account, actor=Actor.from_request(request))
        except ValidationError as error:
            messages.error(request, plain_errors(error))
        else:
            messages.success(request, f"Deleted {account.label}.")
        return redirect("account_list")
    return render(
        request,
        "arbitrage/confirm_delete.html",
        {"nav": "accounts", "object": account, "what": "exchange account", "cancel": "account_list"},
    )


@require_POST
def account_check(request: HttpRequest, pk: int) -> HttpResponse:
    """Connects to the venue with the stored key (the one page action that calls a venue on purpose)."""
    account = owned_or_404(account_for_user, request, pk)
    result = account_check_service(account=account, actor=Actor.from_request(request))
    return render(request, "arbitrage/account_check.html", {"nav": "accounts", "account": account, "result": result})

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "arbitrage/dashboard.html", {"nav": "dashboard"})


def subscription_list(request: HttpRequest) -> HttpResponse:
    return render(request, "arbitrage/subscription_list.html", {"nav": "subscriptions"})


def account_list(request: HttpRequest) -> HttpResponse:
    return render(request, "arbitrage/account_list.html", {"nav": "accounts"})


def execution_list(request: HttpRequest) -> HttpResponse:
    return render(request, "arbitrage/execution_list.html", {"nav": "executions"})


def funding_scanner(request: HttpRequest) -> HttpResponse:
    return render(request, "arbitrage/funding_scanner.html", {"nav": "scanner"})

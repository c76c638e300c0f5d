"""No API key or secret in any log line, page, admin page, command output, stored message or email.

One scenario drives everything that touches credentials against the simulator: a full executor cycle (one
subscription completes, one fails its preflight), failing connection checks (wrong secret, withdrawal rights), a
failing leverage sync (web, admin action, command), every page (forms re-rendered with errors included), every
admin changelist and change view, every command. All logging is captured at DEBUG, as raw records, before the
redaction filter of the stderr handler: the code must not rely on that filter.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core import mail
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from arbitrage.models import (
    AuditEvent,
    ExchangeAccount,
    Execution,
    ExecutionEvent,
    ExecutionStatus,
    Notice,
    Order,
    Subscription,
)
from arbitrage.services.accounts import account_check, account_create
from arbitrage.services.driver import instant_drive
from arbitrage.services.planner import executions_plan
from tests.arbitrage.test_executor_e2e import subscribe
from tests.commands.conftest import run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LEVERAGE_ENDPOINT = "POST /openApi/swap/v2/trade/leverage"


def credentials(tag: str) -> tuple[str, str]:
    return f"LeakProbeKey{tag}Zq7Wx9", f"LeakProbeSecret{tag}Vb3Nm8Pk"


SECRETS: list[str] = []


def sim_account(sim, owner, venue: str, tag: str, *, balance: str = "100000", stored_secret: str | None = None):
    """An account on the simulator; ``stored_secret`` differs from the simulator's to make every call fail."""
    key, secret = credentials(tag)
    sim.add_account(venue, key, secret, balance=Decimal(balance))
    SECRETS.extend([key, secret] + ([stored_secret] if stored_secret else []))
    return account_create(
        owner=owner, exchange=venue, label=f"{venue} {tag}", api_key=key, api_secret=stored_secret or secret,
        environment="simulator", base_url=sim.base_url,
    )  # fmt: skip


def text_of(response) -> str:
    return response.content.decode(errors="replace") + "".join(f"{k}: {v}\n" for k, v in response.headers.items())


def run_command(monkeypatch, name: str, *args: str, stdin: str | None = None) -> str:
    try:
        ran = run(name, *args, stdin=stdin, monkeypatch=monkeypatch)
    except CommandError as exc:
        return f"CommandError: {exc}"
    return ran.stdout + ran.stderr


def test_no_key_or_secret_leaks_anywhere(
    venue_sim,
    user,
    django_user_model,
    settings,
    monkeypatch,
    caplog,
    capsys,
    fast_timeline,
):
    """Across an executor cycle, failing checks and syncs, every page, admin view and command, and all DEBUG logs,
    none of the distinctive keys and secrets appears; nor in events, errors, notices, last_error or mail."""
    caplog.set_level(logging.DEBUG)  # the root logger: every library's debug output too
    SECRETS.clear()
    outputs: list[str] = []

    # --- Accounts: two working pairs (one with no margin on its hedge), a wrong secret, a withdrawal key. -------
    good = sim_account(venue_sim, user, "bybit", "A1"), sim_account(venue_sim, user, "bingx", "A2")
    poor = sim_account(venue_sim, user, "bybit", "B1"), sim_account(venue_sim, user, "bingx", "B2", balance="0")
    wrong = sim_account(venue_sim, user, "bybit", "W1", stored_secret="LeakProbeStoredWrongSecretTt5Yy6")
    withdrawing = sim_account(venue_sim, user, "bingx", "D1")
    venue_sim.set_permissions("bingx", withdrawing.api_key, can_withdraw=True)
    typed_key, typed_secret = "LeakProbeTypedKeyHh1Jj2", "LeakProbeTypedSecretKk3Ll4"
    stdin_secret = "LeakProbeStdinSecretMm5Nn6"
    SECRETS.extend([typed_key, typed_secret, stdin_secret])

    # --- A full funding cycle: one subscription completes, the other fails its preflight (no margin). ----------
    completing = subscribe(user, *good)
    failing = subscribe(user, *poor)
    # run_instant of test_executor_e2e, for two subscriptions sharing one instant.
    venue_sim.set_next_funding(completing.symbol, "bybit", in_seconds=5.0)
    instants = executions_plan()
    assert len(instants) == 1
    assert instant_drive(funding_time=instants[0]) == 2
    done = Execution.objects.get(subscription=completing)
    assert done.status == ExecutionStatus.COMPLETED, done.error
    refused = Execution.objects.get(subscription=failing)
    assert refused.status != ExecutionStatus.COMPLETED and refused.error

    # --- Failing connection checks and a failing leverage sync. ---------------------------------------------------
    assert account_check(account=wrong).ok is False
    assert account_check(account=withdrawing).ok is False
    venue_sim.faults("bingx").fail_next(LEVERAGE_ENDPOINT, code=109400, count=50)

    # --- Every page of the owner, forms re-rendered with errors included. ---------------------------------------
    client = Client()
    client.force_login(user)
    account = good[0]
    posts = [
        (reverse("account_check", args=[account.pk]), {}),
        (reverse("account_check", args=[wrong.pk]), {}),
        (reverse("account_check", args=[withdrawing.pk]), {}),
        (reverse("subscription_sync_leverage", args=[completing.pk]), {}),
        (reverse("account_create"), {"exchange": "bybit", "label": "x", "environment": "testnet",
                                     "base_url": "ftp://nope", "api_key": typed_key, "api_secret": typed_secret}),
        (reverse("account_create"), {"exchange": "bybit", "label": account.label, "environment": "testnet",
                                     "base_url": "", "api_key": typed_key, "api_secret": typed_secret}),
        (reverse("account_edit", args=[account.pk]), {"label": "", "environment": "simulator", "base_url": "",
                                                      "api_key": typed_key, "api_secret": typed_secret}),
        (reverse("subscription_create"), {"symbol": "ETHUSDT", "primary_account": account.pk,
                                          "hedge_account": good[1].pk, "quantity": "NaN", "leverage": "5"}),
    ]  # fmt: skip
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code in (200, 302), url
        outputs.append(text_of(response))
    pages = [
        reverse("dashboard"),
        reverse("account_list"),
        reverse("account_create"),
        reverse("subscription_list"),
        reverse("subscription_create"),
        reverse("execution_list"),
        reverse("funding_scanner"),
        reverse("password_change"),
    ]
    for obj in ExchangeAccount.objects.filter(owner=user):
        pages += [reverse("account_edit", args=[obj.pk]), reverse("account_delete", args=[obj.pk])]
    for obj in Subscription.objects.filter(owner=user):
        pages += [reverse("subscription_edit", args=[obj.pk]), reverse("subscription_delete", args=[obj.pk])]
    pages += [reverse("execution_detail", args=[pk]) for pk in Execution.objects.values_list("pk", flat=True)]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        outputs.append(text_of(response))

    # --- Every admin changelist and change view, and the actions that call venues. ------------------------------
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    client.force_login(root)
    for model in admin.site._registry:
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        outputs.append(text_of(client.get(changelist)))
        for pk in model._default_manager.values_list("pk", flat=True)[:20]:
            response = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk]))
            assert response.status_code == 200, (meta.label, pk)
            outputs.append(text_of(response))
    for model, action, pks in (
        (ExchangeAccount, "test_connection", [account.pk, wrong.pk, withdrawing.pk]),
        (Subscription, "sync_leverage", [completing.pk]),
        (Subscription, "check_accounts", [failing.pk]),
    ):
        url = reverse(f"admin:arbitrage_{model._meta.model_name}_changelist")
        response = client.post(url, {"action": action, "_selected_action": pks}, follow=True)
        outputs.append(text_of(response))

    # --- Every command. -------------------------------------------------------------------------------------------
    settings.MARKET_DATA_ENVIRONMENT = "simulator"
    for ref in (account, wrong, withdrawing):
        outputs.append(run_command(monkeypatch, "check_account", str(ref.pk)))
    outputs += [
        run_command(monkeypatch, "sync_leverage", str(completing.pk)),
        run_command(monkeypatch, "executions", "--json"),
        run_command(monkeypatch, "executions"),
        run_command(monkeypatch, "funding_rates", "ETHUSDT"),
        run_command(monkeypatch, "subscribe", "--user=alice", "--symbol=ETHUSDT", "--primary", account.label,
                    "--hedge", good[1].label, "--quantity=0.5"),
        run_command(monkeypatch, "add_account", "--user=alice", "--exchange=bybit", "--label=cli",
                    f"--api-key={typed_key}", "--environment=simulator", f"--base-url={venue_sim.base_url}",
                    stdin=f"{stdin_secret}\n"),
        run_command(monkeypatch, "add_account", "--user=alice", "--exchange=bybit", "--label=cli",
                    f"--api-key={typed_key}", stdin=f"{stdin_secret}\n"),  # duplicate label: an error
        run_command(monkeypatch, "rotate_encryption_keys"),
    ]  # fmt: skip

    # --- What the database keeps as text, the mail, the logs, anything printed. ---------------------------------
    stored = [
        *ExecutionEvent.objects.values_list("detail", flat=True),
        *Execution.objects.values_list("error", flat=True),
        *Order.objects.values_list("error", flat=True),
        *Notice.objects.values_list("message", flat=True),
        *Subscription.objects.values_list("last_error", flat=True),
        *ExchangeAccount.objects.values_list("last_check_message", "api_key_hint", "label", "base_url"),
        *AuditEvent.objects.values_list("actor_username", "object_text", "owner_username", "detail"),
    ]
    assert Notice.objects.exists() and mail.outbox, "the failing execution should have notified its owner"
    mails = [f"{m.subject}\n{m.body}\n{m.alternatives}" for m in mail.outbox]
    records = [
        f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''} {getattr(r, '__dict__', '')}"
        for r in caplog.records
    ]
    printed = capsys.readouterr()
    haystacks = {
        "pages, admin and command output": "\n".join(outputs),
        "stored messages": "\n".join(map(str, stored)),
        "mail": "\n".join(mails),
        "logs": caplog.text + "\n".join(records),
        "stdout/stderr": printed.out + printed.err,
    }
    assert len(caplog.records) > 50, "the scenario should have logged (is logging captured?)"
    for where, text in haystacks.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret!r} found in {where}"

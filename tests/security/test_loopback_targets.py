"""No base URL a user can submit lets them read a service on the server's loopback interface.

A real HTTP service on 127.0.0.1 serves a secret on every path (tests/security/secret_server.py). Base URLs aimed at
it, crafted and generated, go through the account form (create and edit) and add_account, with demo mode off and
on (then SIMULATOR_URL is an in-process simulator). Whatever is accepted is exercised: Test connection, Sync
leverage now, check_account, the planner and a preflight. Afterwards the secret is in no page, message, command
output or stored field, and the secret service has received no request at all.
"""

from __future__ import annotations

import io
import itertools
import sys
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

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
from arbitrage.services.accounts import account_create
from arbitrage.services.plan import plan_for
from arbitrage.services.planner import executions_plan
from arbitrage.services.preflight import execution_preflight
from tests.conftest import make_sim_account
from tests.security.conftest import PROPERTY
from tests.web.conftest import make_execution

pytestmark = pytest.mark.django_db

ENVIRONMENTS = ["simulator", "mainnet", "testnet", "demo"]
EXCHANGES = ["bybit", "bingx"]
# Every way of writing "this machine" the rules must not mistake for an allowed host.
LOOPBACK_HOSTS = [
    "127.0.0.1", "localhost", "LOCALHOST", "127.1", "127.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "0",
    "0.0.0.0", "[::1]", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "127.0.0.1.", "%31%32%37.0.0.1",
    "127.0.0.1.nip.io", "ⓛocalhost", "１２７.0.0.1", "127.0.0.1%00", "api.bybit.com.127.0.0.1",
]  # fmt: skip
USER_INFO = ["", "api.bybit.com@", "open-api.bingx.com:443@", "user:pass@", "%40@", "api.bybit.com%40"]
PATHS = [
    "", "/", "/secret.txt", "/secret.txt?", "/secret.txt#", "/secret.txt%3F", "/secret.txt?x=", "\\secret.txt?",
    "//secret.txt?", "/./secret.txt?", "/..;/secret.txt?", "/%2e%2e/secret.txt?", ";/secret.txt?", "/" + "a" * 300,
]  # fmt: skip
WRAPPING = ["", " ", "\t", "\n", "\r\n", "\x00", "\u200b"]


def crafted(port: int) -> list[str]:
    """What a penetration tester tries first."""
    return [
        f"http://127.0.0.1:{port}/secret.txt?",
        f"http://127.0.0.1:{port}/secret.txt#",
        f"http://127.0.0.1:{port}",
        f"http://localhost:{port}/",
        f"HTTP://127.0.0.1:{port}/secret.txt?",
        f"https://api.bybit.com@127.0.0.1:{port}/",
        f"https://open-api.bingx.com@127.0.0.1:{port}/secret.txt?",
        f"https://api.bybit.com:443@127.0.0.1:{port}",
        f"http://127.0.0.1:{port}#@api.bybit.com",
        f"http://127.0.0.1:{port}\\@api.bybit.com/",
        f"http://127.1:{port}/secret.txt?",
        f"http://2130706433:{port}/",
        f"http://0x7f000001:{port}/",
        f"http://0:{port}/",
        f"http://0.0.0.0:{port}/secret.txt?",
        f"http://[::1]:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://%31%32%37.0.0.1:{port}/",
        f"http://127.0.0.1.:{port}/",
        f" http://127.0.0.1:{port}/secret.txt? ",
        f"http://127.0.0.1:{port}/secret.txt?\n",
        f"http://127.0.0.1:{port}\t/secret.txt",
        f"http://127.0.0.1:0{port}/secret.txt?",
        f"https://api.bybit.com.127.0.0.1.nip.io:{port}/",
        f"http://127.0.0.1:{port}/" + "x" * 500,
        f"//127.0.0.1:{port}/secret.txt?",
        f"127.0.0.1:{port}/secret.txt?",
    ]


def generated(port: int) -> st.SearchStrategy[str]:
    """URL shapes aimed at the secret service's port: schemes, user info, host spellings, port spellings, paths,
    wrapping whitespace or control characters, and arbitrary trailing text."""
    return st.builds(
        lambda wrap, scheme, info, host, port_text, path, tail: f"{wrap}{scheme}://{info}{host}{port_text}{path}{tail}",
        st.sampled_from(WRAPPING),
        st.sampled_from(["http", "https", "HTTP", "hTTps", "ftp", "gopher", ""]),
        st.sampled_from(USER_INFO),
        st.sampled_from(LOOPBACK_HOSTS),
        st.sampled_from([f":{port}", f":0{port}", f":{port}.", f":+{port}", f": {port}"]),
        st.sampled_from(PATHS),
        st.text(max_size=8),
    )


class Probe:
    """Submits base URLs everywhere a user can, exercises whatever gets accepted, and keeps everything shown."""

    def __init__(self, client, user, sim, secret_page, monkeypatch) -> None:
        self.client, self.user, self.sim, self.monkeypatch = client, user, sim, monkeypatch
        self.secret = secret_page.secret
        self.shown: list[str] = []
        self.labels = itertools.count(1)
        self.exercised: set[int] = set()
        self.baseline = account_create(owner=user, exchange="bybit", label="baseline", api_key="k", api_secret="s")

    def submit(self, url: str, *, exchange: str = "bybit", environment: str = "simulator") -> None:
        label = f"probe {next(self.labels)}"
        keys = {"api_key": f"{label}-key".replace(" ", "-"), "api_secret": "probe-secret"}
        create = {"exchange": exchange, "label": label, "environment": environment, "base_url": url, **keys}
        self.page(self.client.post(reverse("account_create"), create, follow=True))
        before = ExchangeAccount.objects.values_list("environment", "base_url").get(pk=self.baseline.pk)
        edit = {"label": "baseline", "environment": environment, "base_url": url, "api_key": "", "api_secret": ""}
        response = self.client.post(reverse("account_edit", args=[self.baseline.pk]), edit, follow=True)
        self.page(response)
        if response.redirect_chain == []:  # refused: the stored row is unchanged
            assert ExchangeAccount.objects.values_list("environment", "base_url").get(pk=self.baseline.pk) == before
        self.command(
            "add_account", "--user", "alice", "--exchange", exchange, "--label", f"cli {label}", "--api-key", "cli-key",
            "--environment", environment, "--base-url", url, stdin="cli-secret\n",
        )  # fmt: skip
        for account in ExchangeAccount.objects.filter(owner=self.user).exclude(pk__in=self.exercised):
            self.exercise(account)

    def exercise(self, account: ExchangeAccount) -> None:
        """Everything that would send a request with the account's URL."""
        self.exercised.add(account.pk)
        self.page(self.client.post(reverse("account_check", args=[account.pk])))
        other = "bingx" if account.exchange == "bybit" else "bybit"
        partner = (
            make_sim_account(self.sim, self.user, other, label=f"partner-{account.pk}")
            if self.sim is not None
            else account_create(
                owner=self.user, exchange=other, label=f"partner-{account.pk}", api_key="pk", api_secret="ps"
            )  # fmt: skip
        )
        self.exercised.add(partner.pk)
        subscription = Subscription.objects.create(
            owner=self.user, symbol="BTCUSDT", primary_account=account, hedge_account=partner, quantity=Decimal("0.01")
        )
        self.page(self.client.post(reverse("subscription_sync_leverage", args=[subscription.pk])))
        self.command("check_account", str(account.pk))
        self.command("sync_leverage", str(subscription.pk))
        if self.sim is not None:
            self.sim.set_next_funding("BTCUSDT", account.exchange, in_seconds=60)
        executions_plan()
        execution = make_execution(subscription, minutes=5, status=ExecutionStatus.PLANNED)
        execution_preflight(plan_for(execution))

    def page(self, response) -> None:
        self.shown.append(response.content.decode(errors="replace"))
        self.shown.extend(str(message) for message in response.context["messages"] if response.context)

    def command(self, name: str, *args: str, stdin: str | None = None) -> None:
        out, err = io.StringIO(), io.StringIO()
        if stdin is not None:
            self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            call_command(name, *args, stdout=out, stderr=err)
        except CommandError as exc:
            self.shown.append(str(exc))
        self.shown += [out.getvalue(), err.getvalue()]

    def assert_nothing_leaked(self, secret_page) -> None:
        stored = [
            *ExchangeAccount.objects.values_list("last_check_message", flat=True),
            *Subscription.objects.values_list("last_error", flat=True),
            *Execution.objects.values_list("error", flat=True),
            *ExecutionEvent.objects.values_list("detail", flat=True),
            *Order.objects.values_list("error", flat=True),
            *Notice.objects.values_list("message", flat=True),
            *AuditEvent.objects.values_list("detail", flat=True),
            *AuditEvent.objects.values_list("object_text", flat=True),
        ]
        for text in self.shown + stored:
            assert self.secret not in text
        assert secret_page.requests == [], "the loopback service was reached"


@pytest.fixture(params=[False, True], ids=["demo-off", "demo-on"])
def probe(request, settings, alice_client, user, secret_page, monkeypatch):
    sim = request.getfixturevalue("venue_sim") if request.param else None
    settings.DEMO_SIMULATOR = request.param
    settings.MARKET_DATA_ENVIRONMENT = "simulator"
    if sim is None:
        settings.SIMULATOR_URL = "http://127.0.0.1:9"  # demo mode off: no simulator runs
    return Probe(alice_client, user, sim, secret_page, monkeypatch)


def test_crafted_base_urls_never_reach_a_loopback_service(probe, secret_page, settings):
    """The tester's list, in every environment on both venues; in demo mode the simulator's own origin is accepted
    (and exercised end to end) while every other port of this machine is refused."""
    urls = crafted(secret_page.port)
    for url, environment, exchange in itertools.product(urls, ENVIRONMENTS, EXCHANGES):
        probe.submit(url, environment=environment, exchange=exchange)
    if settings.DEMO_SIMULATOR:
        for url in (settings.SIMULATOR_URL, settings.SIMULATOR_URL + "/", settings.SIMULATOR_URL.upper()):
            probe.submit(url)
        assert ExchangeAccount.objects.filter(label__startswith="probe", environment="simulator", base_url="").exists()
    else:
        assert not ExchangeAccount.objects.filter(label__startswith="probe").exists()
    assert not ExchangeAccount.objects.exclude(base_url="").exists()  # nothing aimed at the service was stored
    probe.assert_nothing_leaked(secret_page)


@PROPERTY
@given(data=st.data())
def test_generated_base_urls_never_reach_a_loopback_service(probe, secret_page, data):
    """Any shape of URL aimed at the service's port is refused with a message, or harmless."""
    url = data.draw(generated(secret_page.port), label="base_url")
    probe.submit(
        url, environment=data.draw(st.sampled_from(ENVIRONMENTS)), exchange=data.draw(st.sampled_from(EXCHANGES))
    )
    assert not ExchangeAccount.objects.exclude(base_url="").exists()
    probe.assert_nothing_leaked(secret_page)

"""fundarb's domain: who trades what, where, and every step of every funding instant.

Invariants live in the database: an execution is unique per (subscription, funding instant), a client order id is
unique, an order slot (execution, role, action, attempt) is unique, and numeric limits are check constraints.
"""

from __future__ import annotations

import secrets
import string
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from arbitrage.crypto import EncryptedTextField
from exchanges.base import Environment, Venue, mask_secret

MAX_LEAD_SECONDS = 600  # far above every venue rule, so operators can tighten the rules (settings)
MAX_CLOSE_DELAY_SECONDS = 600


class Exchange(models.TextChoices):
    BYBIT = Venue.BYBIT.value, "Bybit"
    BINGX = Venue.BINGX.value, "BingX"


class AccountEnvironment(models.TextChoices):
    MAINNET = Environment.MAINNET.value, "Mainnet"
    TESTNET = Environment.TESTNET.value, "Testnet"
    DEMO = Environment.DEMO.value, "Demo (Bybit demo / BingX VST)"
    SIMULATOR = Environment.SIMULATOR.value, "Built-in simulator"


class ExchangeAccount(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exchange_accounts")
    exchange = models.CharField(max_length=10, choices=Exchange.choices)
    label = models.CharField(max_length=60)
    environment = models.CharField(max_length=10, choices=AccountEnvironment.choices, default="mainnet")
    base_url = models.URLField(blank=True, help_text="Overrides the environment's standard URL (proxies, local test)")
    api_key = EncryptedTextField()
    api_secret = EncryptedTextField()
    api_key_hint = models.CharField(max_length=20, editable=False, help_text="Masked key for display")
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True)
    last_check_message = models.TextField(blank=True)
    can_withdraw = models.BooleanField(null=True, help_text="The key can withdraw funds (flagged as a risk)")
    # Two rows on one venue account would net their positions in one-way mode: both identities are unique per venue
    # and environment. The key's fingerprint is keyed (the ciphertext cannot be compared); the venue's own account
    # id, read by the connection check, also catches two different keys of one account.
    key_fingerprint = models.CharField(max_length=64, editable=False, blank=True)
    venue_account_id = models.CharField(max_length=64, blank=True, help_text="The venue's account id for this key")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["exchange", "label"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "label"], name="account_label_unique_per_owner"),
            models.CheckConstraint(condition=Q(exchange__in=[v.value for v in Venue]), name="account_exchange_known"),
            models.CheckConstraint(
                condition=Q(environment__in=[e.value for e in Environment]), name="account_environment_known"
            ),
            models.UniqueConstraint(
                fields=["exchange", "environment", "key_fingerprint"],
                condition=~Q(key_fingerprint=""),
                name="account_key_unique_per_venue",
            ),
            models.UniqueConstraint(
                fields=["exchange", "environment", "venue_account_id"],
                condition=~Q(venue_account_id=""),
                name="account_venue_id_unique_per_venue",
            ),
        ]
        # Not "change": the admin denies change on purpose (owners edit accounts in the app), which would hide the
        # actions that use the owner's key from everybody.
        permissions = [
            ("operate_exchangeaccount", "Can operate exchange accounts (test connection with the owner's key)")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_exchange_display()})"

    def __repr__(self) -> str:
        return f"<ExchangeAccount {self.pk} {self.exchange} {self.label!r} key={self.api_key_hint}>"

    def set_credentials(self, *, api_key: str, api_secret: str) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.api_key_hint = mask_secret(api_key)
        self.key_fingerprint = key_fingerprint(api_key)

    set_credentials.alters_data = True

    @property
    def venue(self) -> Venue:
        return Venue(self.exchange)


def key_fingerprint(api_key: str) -> str:
    """A keyed digest of an API key: equal for equal keys, useless without SECRET_KEY."""
    return salted_hmac("fundarb.api-key-fingerprint", api_key, algorithm="sha256").hexdigest()


class Direction(models.TextChoices):
    AUTO = "auto", "Auto (receive funding on the primary)"
    LONG = "long", "Long on the primary"
    SHORT = "short", "Short on the primary"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ERROR = "error", "Error"
    COMPLETED = "completed", "Completed"


class Subscription(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions")
    symbol = models.CharField(max_length=30)
    primary_account = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="primary_for")
    hedge_account = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="hedge_for")
    quantity = models.DecimalField(max_digits=28, decimal_places=12, help_text="Base coin, per leg")
    leverage = models.PositiveSmallIntegerField(default=3)
    direction = models.CharField(max_length=5, choices=Direction.choices, default=Direction.AUTO)
    min_edge_bps = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    lead_seconds = models.PositiveSmallIntegerField(default=45)  # BingX sets the pace: services/timing.py
    close_delay_seconds = models.PositiveSmallIntegerField(default=60)
    recurring = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE)
    last_error = models.TextField(blank=True)
    leverage_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="subscription_quantity_positive"),
            models.CheckConstraint(condition=Q(leverage__gte=1, leverage__lte=200), name="subscription_leverage_range"),
            models.CheckConstraint(
                condition=Q(lead_seconds__gte=1, lead_seconds__lte=MAX_LEAD_SECONDS), name="subscription_lead_range"
            ),
            models.CheckConstraint(
                condition=Q(close_delay_seconds__gte=1, close_delay_seconds__lte=MAX_CLOSE_DELAY_SECONDS),
                name="subscription_close_delay_range",
            ),
            models.CheckConstraint(condition=~Q(primary_account=F("hedge_account")), name="subscription_two_accounts"),
            models.CheckConstraint(condition=Q(status__in=SubscriptionStatus.values), name="subscription_status_known"),
            models.CheckConstraint(condition=Q(direction__in=Direction.values), name="subscription_direction_known"),
        ]
        indexes = [models.Index(fields=["status", "symbol"])]
        permissions = [
            ("operate_subscription", "Can operate subscriptions (pause, resume, sync leverage, check accounts)")
        ]

    def __str__(self) -> str:
        return f"{self.symbol} {self.primary_account.exchange}->{self.hedge_account.exchange} #{self.pk}"


class KillSwitch(models.Model):
    """'Pause everything' for one user. The switch for everybody lives on ``Installation`` (staff only)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kill_switch")
    engaged = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"kill switch of {self.user} ({'engaged' if self.engaged else 'off'})"


class ExecutionStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    PREFLIGHT = "preflight", "Preflight passed"
    SYNCED = "synced", "Leverage synced"
    OPENING = "opening", "Opening"
    OPEN = "open", "Open"
    CLOSING = "closing", "Closing"
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    UNWINDING = "unwinding", "Unwinding"
    UNWOUND = "unwound", "Unwound"
    RECONCILING = "reconciling", "Reconciling"


TERMINAL_STATUSES = (
    ExecutionStatus.COMPLETED,
    ExecutionStatus.SKIPPED,
    ExecutionStatus.FAILED,
    ExecutionStatus.UNWOUND,
)
IN_FLIGHT_STATUSES = tuple(status for status in ExecutionStatus if status not in TERMINAL_STATUSES)


class Execution(models.Model):
    """One funding instant of one subscription. Status moves only by compare-and-set (services.transitions)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="executions")
    # The subscription's owner, copied when the planner arms the row (a subscription never changes hands): the pages
    # read "this user's executions, newest first" from one index instead of joining every subscription.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="executions")
    funding_time = models.DateTimeField(help_text="The primary venue's funding instant T")
    status = models.CharField(max_length=12, choices=ExecutionStatus.choices, default=ExecutionStatus.PLANNED)
    status_changed_at = models.DateTimeField()
    deadline_at = models.DateTimeField(help_text="When the reconciler takes over if the status has not moved on")
    # The owner of the row's next step: the driver that claimed it, or the reconciler that took it over. With
    # ``deadline_at`` it is a lease: the owner renews the deadline while it works; past it, the reconciler may take
    # the row (and a new token) over, and the old owner's renewals stop matching.
    driver_token = models.CharField(max_length=32, blank=True, help_text="The task that owns this row's next step")
    reconcile_runs = models.PositiveSmallIntegerField(default=0, help_text="Reconciler passes so far (for backoff)")
    # What was decided at planning/preflight time, kept so the record stays true if the subscription changes.
    symbol = models.CharField(max_length=30)
    primary_venue = models.CharField(max_length=10, choices=Exchange.choices)
    hedge_venue = models.CharField(max_length=10, choices=Exchange.choices)
    primary_side = models.CharField(max_length=4, blank=True)
    quantity = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    leverage = models.PositiveSmallIntegerField()
    lead_seconds = models.PositiveSmallIntegerField()
    close_delay_seconds = models.PositiveSmallIntegerField()
    primary_rate = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    hedge_rate = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    mark_price = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    expected_edge_bps = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    hedge_settles = models.BooleanField(default=False, help_text="The hedge venue also settles while the legs are open")
    funding_confirmed = models.BooleanField(
        null=True,
        blank=True,
        help_text="At the close: the ledgers showed the funding (no: closed at the bound)",
    )
    error = models.TextField(blank=True)
    # P&L in USDT. Positive is money made. Final once both venues have reported funding.
    pnl_funding = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    pnl_fees = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    pnl_price = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    pnl_final = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="Both legs seen open and hedged")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Both legs seen flat after orders were sent")

    class Meta:
        ordering = ["-funding_time", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "funding_time"], name="one_execution_per_instant"),
            models.CheckConstraint(condition=Q(status__in=ExecutionStatus.values), name="execution_status_known"),
        ]
        indexes = [
            models.Index(fields=["status", "deadline_at"]),
            models.Index(fields=["funding_time", "status"]),
            # The pages' order (newest instant first, then newest row) for one owner: a LIMIT reads only its rows.
            models.Index(fields=["owner", "-funding_time", "-id"], name="execution_owner_newest"),
            # What is still in flight for one owner, without walking their finished history.
            models.Index(fields=["owner", "status", "funding_time"], name="execution_owner_status"),
        ]

    def __str__(self) -> str:
        return f"Execution #{self.pk} {self.symbol} @ {self.funding_time:%Y-%m-%d %H:%M:%S}Z ({self.status})"

    @property
    def pnl_net(self) -> Decimal | None:
        parts = [self.pnl_funding, self.pnl_fees, self.pnl_price]
        if all(p is None for p in parts):
            return None
        return sum((p or Decimal(0) for p in parts), Decimal(0))

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class PnlTotal(models.Model):
    """Running P&L of one owner for the funding instants of one UTC day, so totals read a few rows instead of every
    execution. Moved by increments in the transaction that records P&L (``services/pnl.py``): an execution whose
    figures are revised moves it by the difference, and a hold across several instants adds each instant's funding
    to that instant's day as the ledger shows it."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pnl_totals")
    day = models.DateField(help_text="The UTC day of the funding instants counted here")
    executions = models.PositiveIntegerField(default=0, help_text="Executions with P&L recorded")
    funding = models.DecimalField(max_digits=28, decimal_places=12, default=Decimal(0))
    fees = models.DecimalField(max_digits=28, decimal_places=12, default=Decimal(0))
    price = models.DecimalField(max_digits=28, decimal_places=12, default=Decimal(0))

    class Meta:
        ordering = ["owner", "day"]
        constraints = [models.UniqueConstraint(fields=["owner", "day"], name="one_pnl_total_per_owner_and_day")]

    def __str__(self) -> str:
        return f"P&L of {self.owner_id} on {self.day}: {self.funding + self.fees + self.price:+.4f}"


class LegRole(models.TextChoices):
    PRIMARY = "primary", "Primary"
    HEDGE = "hedge", "Hedge"


class OrderAction(models.TextChoices):
    OPEN = "open", "Open"
    CLOSE = "close", "Close"
    UNWIND = "unwind", "Unwind"


class OrderState(models.TextChoices):
    PENDING = "pending", "Pending (not sent)"
    SENT = "sent", "Sent, outcome unknown"
    ACKED = "acked", "Acknowledged"
    FILLED = "filled", "Filled"
    PARTIALLY_FILLED = "partially_filled", "Partially filled"
    REJECTED = "rejected", "Rejected by the venue"
    NOT_PLACED = "not_placed", "Not placed"


# The venue's final word on an order: nothing about it can change any more.
FINAL_ORDER_STATES = (OrderState.FILLED, OrderState.PARTIALLY_FILLED, OrderState.REJECTED, OrderState.NOT_PLACED)


class Order(models.Model):
    """One order on one venue. The client order id is written here before the request leaves."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="orders")
    role = models.CharField(max_length=7, choices=LegRole.choices)
    action = models.CharField(max_length=6, choices=OrderAction.choices)
    attempt = models.PositiveSmallIntegerField(default=1)
    venue = models.CharField(max_length=10, choices=Exchange.choices)
    account = models.ForeignKey(ExchangeAccount, on_delete=models.PROTECT, related_name="orders")
    symbol = models.CharField(max_length=30)
    side = models.CharField(max_length=4)
    quantity = models.DecimalField(max_digits=28, decimal_places=12)
    reduce_only = models.BooleanField(default=False)
    client_order_id = models.CharField(max_length=36, unique=True)
    exchange_order_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=OrderState.choices, default=OrderState.PENDING)
    filled_quantity = models.DecimalField(max_digits=28, decimal_places=12, default=Decimal("0"))
    avg_price = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    fee = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    # False while the fill is only inferred from the venue's position (order lookups lagging or down): the P&L
    # sweep looks the order up again for its price and fee.
    fill_confirmed = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    acked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["execution_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "role", "action", "attempt"], name="one_order_per_slot"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(condition=Q(filled_quantity__gte=0), name="order_filled_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.action} #{self.attempt} {self.side} {self.quantity} {self.symbol} on {self.venue}"


class FundingPayment(models.Model):
    """One funding payment a venue's ledger shows for an execution's leg: the proof that it was paid (or charged).
    Positive when received. P&L, history and holds across instants all read these rows."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="payments")
    venue = models.CharField(max_length=10, choices=Exchange.choices)
    leg = models.CharField(max_length=10, choices=LegRole.choices)
    funding_time = models.DateTimeField(help_text="The funding instant the payment settles")
    paid_at = models.DateTimeField(help_text="When the venue's ledger stamped it (venue clock)")
    amount = models.DecimalField(max_digits=28, decimal_places=12)
    ledger_id = models.CharField(max_length=100, help_text="The venue's id of the ledger row")
    found_at = models.DateTimeField(help_text="When fundarb first read it")

    class Meta:
        ordering = ["paid_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["execution", "leg", "ledger_id"], name="one_row_per_ledger_entry"),
            models.CheckConstraint(condition=Q(leg__in=LegRole.values), name="funding_payment_leg_known"),
            models.CheckConstraint(condition=~Q(ledger_id=""), name="funding_payment_has_ledger_id"),
        ]

    def __str__(self) -> str:
        return f"{self.leg} {self.venue} {self.amount} at {self.paid_at:%Y-%m-%d %H:%M:%S}"


class ExecutionEvent(models.Model):
    """Every step, as it happens: the timeline a trader reads."""

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    step = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10)
    venue = models.CharField(max_length=10, blank=True)
    duration_ms = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["execution", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S.%f} {self.step} {self.outcome}"


class Notice(models.Model):
    """Something the owner must see on the dashboard (also emailed)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    level = models.CharField(max_length=10, default="error")
    message = models.TextField()
    execution = models.ForeignKey(Execution, null=True, blank=True, on_delete=models.SET_NULL)
    subscription = models.ForeignKey(Subscription, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message[:80]


class MarketSnapshot(models.Model):
    """One venue's public data for one symbol, refreshed by a periodic task: pages read this, never the venue."""

    venue = models.CharField(max_length=10, choices=Exchange.choices)
    symbol = models.CharField(max_length=30)
    funding_rate = models.DecimalField(max_digits=20, decimal_places=10)
    next_funding_time = models.DateTimeField()
    interval_hours = models.PositiveSmallIntegerField()
    mark_price = models.DecimalField(max_digits=28, decimal_places=12)
    max_leverage = models.PositiveSmallIntegerField(null=True, blank=True)
    qty_step = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    min_qty = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    min_notional = models.DecimalField(max_digits=28, decimal_places=12, null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["symbol", "venue"]
        constraints = [models.UniqueConstraint(fields=["venue", "symbol"], name="one_snapshot_per_venue_symbol")]

    def __str__(self) -> str:
        return f"{self.symbol} on {self.venue}: {self.funding_rate}"


class RequestBudget(models.Model):
    """The recent request slots of one account on one endpoint class, shared by every process that calls the venue.

    ``slots`` holds the epoch seconds of the latest requests (at most the venue's per-second limit of them, some
    possibly reserved in the future): a new request may leave once the oldest of them is a window old.
    """

    account = models.ForeignKey(ExchangeAccount, on_delete=models.CASCADE, related_name="request_budgets")
    kind = models.CharField(max_length=16)
    slots = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "kind"], name="one_budget_per_account_and_kind")]

    def __str__(self) -> str:
        return f"{self.kind} budget of account {self.account_id}"


def _new_prefix() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6))


class Installation(models.Model):
    """One row: this installation's client-order-id prefix, so two installations (or a reset database) never
    collide on one venue account."""

    singleton = models.BooleanField(default=True, unique=True)
    order_prefix = models.CharField(max_length=6, default=_new_prefix)
    trading_halted = models.BooleanField(default=False, help_text="Kill switch for every user")
    trading_halted_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(singleton=True), name="installation_singleton")]

    def __str__(self) -> str:
        return f"installation {self.order_prefix}"

    @classmethod
    def current(cls) -> Installation:
        installation, _ = cls.objects.get_or_create(singleton=True)
        return installation


class AuditVia(models.TextChoices):
    WEB = "web", "Web"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command"
    SYSTEM = "system", "System"


class AuditAction(models.TextChoices):
    ACCOUNT_ADDED = "account_added", "Exchange account added"
    ACCOUNT_CHANGED = "account_changed", "Exchange account changed"
    KEY_CHANGED = "key_changed", "API key or secret replaced"
    ACCOUNT_DELETED = "account_deleted", "Exchange account deleted"
    ACCOUNT_CHECKED = "account_checked", "Connection tested with the key"
    KEYS_ROTATED = "keys_rotated", "Stored secrets re-encrypted (key rotation)"
    KILL_SWITCH_ENGAGED = "kill_switch_engaged", "Kill switch engaged"
    KILL_SWITCH_RELEASED = "kill_switch_released", "Kill switch released"
    HALT_ENGAGED = "halt_engaged", "Trading halted for every user"
    HALT_RELEASED = "halt_released", "Trading resumed for every user"
    LEVERAGE_SYNCED = "leverage_synced", "Leverage synced by hand"
    SUBSCRIPTION_PAUSED = "subscription_paused", "Subscription paused"
    SUBSCRIPTION_RESUMED = "subscription_resumed", "Subscription resumed"
    NOTICE_DISMISSED = "notice_dismissed", "Notice dismissed"
    ADMIN_DELETED = "admin_deleted", "Deleted in the admin"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOGIN_REFUSED = "login_refused", "Login refused (locked out)"
    LOCKED_OUT = "locked_out", "Login locked out"
    DEMO_LOGIN_DISABLED = "demo_login_disabled", "Published demo login disabled"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("audit events are append-only: rows are never updated")

    update.queryset_only = True


class AuditEvent(models.Model):
    """Who did what security-relevant, when, from where, to whose object. Append-only: a row is written once and
    never changed (only a superuser may delete rows, in the admin). Names are kept as text so the trail outlives
    the users; nothing secret is ever written here.

    Deleting a user sets its foreign keys to NULL through the base manager, which the append-only queryset does
    not replace: the kept usernames still say who it was.
    """

    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True, help_text="The actor as shown (kept as text)")
    via = models.CharField(max_length=8, choices=AuditVia.choices)
    address = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=24, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_text = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    owner_username = models.CharField(max_length=150, blank=True, help_text="Whose object (or attempted login)")
    detail = models.TextField(blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=AuditAction.values), name="audit_action_known"),
            models.CheckConstraint(condition=Q(via__in=AuditVia.values), name="audit_via_known"),
        ]
        indexes = [
            models.Index(fields=["owner", "-at"], name="audit_owner_at"),
            models.Index(fields=["action", "owner_username", "at"], name="audit_action_username_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S}Z {self.get_action_display()} {self.object_text}".rstrip()

    def save(self, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("audit events are append-only: an existing row is never changed")
        super().save(**{**kwargs, "force_insert": True})

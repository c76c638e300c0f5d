"""The Django admin: every model, staff see everyone's rows.

Financial records (executions, orders, their events, market snapshots) are read-only for everybody, superusers
included: the executor is their only writer. Secrets are never displayed (api_key and api_secret are excluded; the
masked hint is shown). Changes that carry rules go through the services, as admin actions.

Every action that changes something, or uses somebody's API key, needs a permission of its own: "view" lets staff
look, nothing more. Accounts and subscriptions deny "change" on purpose (owners edit them in the app), so their
actions need "operate" (``operate_exchangeaccount``, ``operate_subscription``); the third-party admins' actions
are re-registered below with a permission each (or without the action).

What staff do here to somebody's objects lands in the audit trail (deletes included), which the owner sees on
their Activity page. The trail itself is read-only here for everybody; only a superuser may delete its rows.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django_q.admin import FailAdmin, TaskAdmin, resubmit_task
from django_q.models import Failure, Success

from arbitrage.models import (
    AuditAction,
    AuditEvent,
    AuditVia,
    ExchangeAccount,
    Execution,
    ExecutionEvent,
    FundingPayment,
    Installation,
    KillSwitch,
    MarketSnapshot,
    Notice,
    Order,
    Subscription,
)
from arbitrage.services.accounts import account_check, account_delete
from arbitrage.services.audit import Actor, audit_record
from arbitrage.services.leverage import LeverageSyncFailed, leverage_sync
from arbitrage.services.subscriptions import (
    kill_switch_set,
    subscription_pause,
    subscription_resume,
    trading_halt_set,
)

WITHDRAW_FLAG = "⚠ CAN WITHDRAW: replace with a key without withdrawal rights"


def staff(request: HttpRequest) -> Actor:
    return Actor.from_request(request, via=AuditVia.ADMIN)


class OperateMixin:
    """``permissions=["operate"]`` on an action: the user needs ``<app>.operate_<model>``."""

    def has_operate_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.operate_{opts.model_name}")


class AuditedDeleteMixin:
    """Deletes from the admin (the delete page and the 'delete selected' action) are written to the audit trail."""

    def delete_model(self, request: HttpRequest, obj) -> None:
        audit_record(actor=staff(request), action=AuditAction.ADMIN_DELETED, obj=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            audit_record(actor=staff(request), action=AuditAction.ADMIN_DELETED, obj=obj)
        super().delete_queryset(request, queryset)


class ReadOnlyMixin:
    """No add, change or delete for anybody: the admin only shows these records."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# --- Accounts ------------------------------------------------------------------------------------------------------


@admin.register(ExchangeAccount)
class ExchangeAccountAdmin(OperateMixin, admin.ModelAdmin):
    """Owners add and edit accounts (and their write-only secrets) in the app; the admin views, checks, deletes."""

    list_display = ("label", "owner", "exchange", "environment", "api_key_hint", "last_check_ok", "withdrawal_rights")
    list_filter = ("exchange", "environment", "last_check_ok", "can_withdraw")
    search_fields = ("label", "owner__username", "api_key_hint")
    list_select_related = ("owner",)
    exclude = ("api_key", "api_secret", "can_withdraw")  # can_withdraw: shown as the loud withdrawal_rights
    readonly_fields = (
        "owner",
        "exchange",
        "label",
        "environment",
        "base_url",
        "api_key_hint",
        "last_checked_at",
        "last_check_ok",
        "last_check_message",
        "withdrawal_rights",
        "created_at",
        "updated_at",
    )
    actions = ("test_connection",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ExchangeAccount) -> None:
        account_delete(account=obj, actor=staff(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ExchangeAccount]) -> None:
        for account in queryset:
            account_delete(account=account, actor=staff(request))

    @admin.display(description="Withdrawal rights", ordering="can_withdraw")
    def withdrawal_rights(self, obj: ExchangeAccount) -> str:
        # Not the boolean icon: Django draws True as a green tick, which reads as "fine" for the riskiest key.
        if obj.can_withdraw:
            return WITHDRAW_FLAG
        return "unknown (never checked)" if obj.can_withdraw is None else "no"

    @admin.action(description="Test connection (clock, mode, margin, key permissions)", permissions=["operate"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[ExchangeAccount]) -> None:
        for account in queryset:
            result = account_check(account=account, actor=staff(request))
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(request, f"{account} (#{account.pk}): {result.message}", level)


# --- Subscriptions -------------------------------------------------------------------------------------------------


@admin.register(Subscription)
class SubscriptionAdmin(OperateMixin, AuditedDeleteMixin, admin.ModelAdmin):
    """Editing rules (live venue limits, one active subscription per account and symbol) live in the app's form;
    the admin shows every user's subscriptions and acts on them through the services."""

    list_display = ("id", "symbol", "owner", "primary_account", "hedge_account", "quantity", "leverage", "status")
    list_filter = ("status", "direction", "recurring", "primary_account__exchange")
    search_fields = ("symbol", "owner__username", "primary_account__label", "hedge_account__label")
    list_select_related = ("owner", "primary_account", "hedge_account")
    readonly_fields = [f.name for f in Subscription._meta.fields]
    actions = ("pause", "resume", "sync_leverage", "check_accounts")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.action(description="Pause selected subscriptions", permissions=["operate"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            subscription_pause(subscription=subscription, actor=staff(request))
        self.message_user(request, f"Paused {len(queryset)} subscription(s).", messages.SUCCESS)

    @admin.action(description="Resume selected subscriptions", permissions=["operate"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset.select_related("primary_account", "hedge_account"):
            try:
                subscription_resume(subscription=subscription, actor=staff(request))
            except ValidationError as error:
                self.message_user(request, f"{subscription}: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.message_user(request, f"Resumed {subscription}.", messages.SUCCESS)

    @admin.action(description="Sync leverage now on both venues", permissions=["operate"])
    def sync_leverage(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset.select_related("primary_account", "hedge_account"):
            try:
                result = leverage_sync(subscription=subscription, actor=staff(request))
            except LeverageSyncFailed as failure:
                self.message_user(request, f"{subscription}: {failure}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{subscription}: {result.leverage}x confirmed on both venues in {result.elapsed * 1000:.0f} ms.",
                    messages.SUCCESS,
                )

    @admin.action(description="Check both accounts (connection test; not a full preflight)", permissions=["operate"])
    def check_accounts(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset.select_related("primary_account", "hedge_account"):
            for role, account in (("primary", subscription.primary_account), ("hedge", subscription.hedge_account)):
                result = account_check(account=account, symbol=subscription.symbol, actor=staff(request))
                level = messages.SUCCESS if result.ok else messages.ERROR
                self.message_user(request, f"{subscription} {role} {account}: {result.message}", level)


# --- Executions: read-only records ---------------------------------------------------------------------------------


class FundingPaymentInline(ReadOnlyMixin, admin.TabularInline):
    model = FundingPayment
    extra = 0
    fields = ("leg", "venue", "amount", "paid_at", "ledger_id", "found_at")
    readonly_fields = fields


class OrderInline(ReadOnlyMixin, admin.TabularInline):
    model = Order
    extra = 0
    fields = (
        "role",
        "action",
        "attempt",
        "venue",
        "side",
        "quantity",
        "client_order_id",
        "exchange_order_id",
        "status",
        "filled_quantity",
        "avg_price",
        "fee",
        "sent_at",
        "acked_at",
        "error",
    )
    readonly_fields = fields
    show_change_link = True


class ExecutionEventInline(ReadOnlyMixin, admin.TabularInline):
    model = ExecutionEvent
    extra = 0
    fields = ("at", "step", "outcome", "venue", "duration_ms", "detail")
    readonly_fields = fields


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "symbol",
        "funding_time",
        "owner",
        "primary_venue",
        "hedge_venue",
        "status",
        "pnl_net_display",
        "pnl_final",
    )
    list_filter = ("status", "primary_venue", "hedge_venue", "pnl_final", "funding_time")
    search_fields = ("symbol", "subscription__owner__username", "error", "=id")
    list_select_related = ("subscription__owner",)
    date_hierarchy = "funding_time"
    inlines = (ExecutionEventInline, OrderInline, FundingPaymentInline)

    @admin.display(description="Owner", ordering="subscription__owner__username")
    def owner(self, obj: Execution) -> str:
        return obj.subscription.owner.get_username()

    @admin.display(description="Net P&L (USDT)")
    def pnl_net_display(self, obj: Execution) -> str:
        net = obj.pnl_net
        return "—" if net is None else f"{net:+.4f}"


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("client_order_id", "execution", "role", "action", "attempt", "venue", "side", "quantity", "status")
    list_filter = ("status", "venue", "role", "action")
    search_fields = ("client_order_id", "exchange_order_id", "symbol")
    list_select_related = ("execution",)


@admin.register(ExecutionEvent)
class ExecutionEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("at", "execution", "step", "outcome", "venue", "duration_ms")
    list_filter = ("outcome", "venue", "step")
    search_fields = ("step", "detail", "=execution__id")
    list_select_related = ("execution",)


@admin.register(MarketSnapshot)
class MarketSnapshotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("symbol", "venue", "funding_rate", "interval_hours", "next_funding_time", "max_leverage")
    list_filter = ("venue", "interval_hours")
    search_fields = ("symbol",)


# --- Notices and the kill switches --------------------------------------------------------------------------------


@admin.register(Notice)
class NoticeAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "level", "short_message", "dismissed")
    list_filter = ("level", "dismissed")
    search_fields = ("message", "user__username")
    list_select_related = ("user",)
    fields = ("user", "level", "message", "execution", "subscription", "created_at", "dismissed")
    # Dismissed too: the dismiss action goes through the service (and the audit trail).
    readonly_fields = ("user", "level", "message", "execution", "subscription", "created_at", "dismissed")
    actions = ("dismiss",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Message")
    def short_message(self, obj: Notice) -> str:
        return obj.message[:100]

    @admin.action(description="Dismiss selected notices", permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Notice]) -> None:
        from arbitrage.services.web_support import notice_dismiss

        for notice in queryset:
            notice_dismiss(notice=notice, actor=staff(request))
        self.message_user(request, f"Dismissed {len(queryset)} notice(s).", messages.SUCCESS)


@admin.register(KillSwitch)
class KillSwitchAdmin(AuditedDeleteMixin, admin.ModelAdmin):
    list_display = ("user", "engaged", "changed_at")
    list_filter = ("engaged",)
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = ("user", "engaged", "changed_at")
    readonly_fields = ("user", "changed_at")
    actions = ("engage", "release")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a user's row appears when they first use their kill switch

    def save_model(self, request: HttpRequest, obj: KillSwitch, form, change: bool) -> None:
        kill_switch_set(user=obj.user, engaged=obj.engaged, actor=staff(request))

    @admin.action(description="Engage for the selected users", permissions=["change"])
    def engage(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        for row in queryset.select_related("user"):
            kill_switch_set(user=row.user, engaged=True, actor=staff(request))

    @admin.action(description="Release for the selected users", permissions=["change"])
    def release(self, request: HttpRequest, queryset: QuerySet[KillSwitch]) -> None:
        for row in queryset.select_related("user"):
            kill_switch_set(user=row.user, engaged=False, actor=staff(request))


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    list_display = ("order_prefix", "trading_halted", "trading_halted_changed_at")
    fields = ("order_prefix", "trading_halted", "trading_halted_changed_at")
    readonly_fields = ("order_prefix", "trading_halted_changed_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a singleton: Installation.current() creates it

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # deleting it would change the client-order-id prefix under live orders

    def save_model(self, request: HttpRequest, obj: Installation, form, change: bool) -> None:
        trading_halt_set(engaged=obj.trading_halted, actor=staff(request))


# --- The audit trail ----------------------------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyMixin, AuditedDeleteMixin, admin.ModelAdmin):
    list_display = ("at", "action", "actor_username", "via", "address", "object_type", "object_text", "owner_username")
    list_filter = ("action", "via")
    search_fields = ("actor_username", "owner_username", "object_text", "address", "detail")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser  # append-only for everybody else


# --- Third-party admins: their actions declare no permission, so "view" alone would run them ---------------------


@admin.action(description="Resubmit selected tasks to queue", permissions=["change"])
def resubmit_tasks(modeladmin, request: HttpRequest, queryset) -> None:
    resubmit_task(modeladmin, request, queryset)


class SuccessAdmin(TaskAdmin):
    actions = [resubmit_tasks]


class FailureAdmin(FailAdmin):
    actions = [resubmit_tasks]


class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    # Its "clean up expired attempts" declares no permission, and crashes when run from the admin (django-axes
    # 8.3 reads request.axes_attempt_time, which only its login handling sets). Axes cleans expired attempts on
    # every login anyway; a superuser can still delete rows.
    actions = ()


for model, model_admin in ((Success, SuccessAdmin), (Failure, FailureAdmin), (AccessAttempt, AccessAttemptAdmin)):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)

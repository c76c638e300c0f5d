"""The pages. Each view parses input, calls a selector or a service, and renders; nothing here calls a venue
except the explicit "test connection" and "sync leverage now" actions and form submissions that check live limits."""

from arbitrage.views.accounts import account_check, account_create, account_delete, account_edit, account_list
from arbitrage.views.activity import activity_list
from arbitrage.views.dashboard import dashboard, kill_switch, notice_dismiss, trading_halt
from arbitrage.views.executions import execution_detail, execution_list
from arbitrage.views.scanner import funding_scanner
from arbitrage.views.subscriptions import (
    subscription_create,
    subscription_delete,
    subscription_edit,
    subscription_list,
    subscription_pause,
    subscription_resume,
    subscription_sync_leverage,
)

__all__ = [
    "account_check",
    "account_create",
    "account_delete",
    "account_edit",
    "account_list",
    "activity_list",
    "dashboard",
    "execution_detail",
    "execution_list",
    "funding_scanner",
    "kill_switch",
    "notice_dismiss",
    "subscription_create",
    "subscription_delete",
    "subscription_edit",
    "subscription_list",
    "subscription_pause",
    "subscription_resume",
    "subscription_sync_leverage",
    "trading_halt",
]

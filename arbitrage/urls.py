from django.urls import path

from arbitrage import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("notices/<int:pk>/dismiss/", views.notice_dismiss, name="notice_dismiss"),
    path("kill-switch/", views.kill_switch, name="kill_switch"),
    path("trading-halt/", views.trading_halt, name="trading_halt"),
    path("subscriptions/", views.subscription_list, name="subscription_list"),
    path("subscriptions/new/", views.subscription_create, name="subscription_create"),
    path("subscriptions/<int:pk>/edit/", views.subscription_edit, name="subscription_edit"),
    path("subscriptions/<int:pk>/pause/", views.subscription_pause, name="subscription_pause"),
    path("subscriptions/<int:pk>/resume/", views.subscription_resume, name="subscription_resume"),
    path("subscriptions/<int:pk>/delete/", views.subscription_delete, name="subscription_delete"),
    path("subscriptions/<int:pk>/sync-leverage/", views.subscription_sync_leverage, name="subscription_sync_leverage"),
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/delete/", views.account_delete, name="account_delete"),
    path("accounts/<int:pk>/check/", views.account_check, name="account_check"),
    path("executions/", views.execution_list, name="execution_list"),
    path("executions/<int:pk>/", views.execution_detail, name="execution_detail"),
    path("scanner/", views.funding_scanner, name="funding_scanner"),
    path("activity/", views.activity_list, name="activity_list"),
]

from django.urls import path

from arbitrage import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("subscriptions/", views.subscription_list, name="subscription_list"),
    path("accounts/", views.account_list, name="account_list"),
    path("executions/", views.execution_list, name="execution_list"),
    path("scanner/", views.funding_scanner, name="funding_scanner"),
]

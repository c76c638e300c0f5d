from django.apps import AppConfig


class ArbitrageConfig(AppConfig):
    name = "arbitrage"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Funding arbitrage"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import pre_delete
        from django_q.signals import post_spawn

        from arbitrage import (
            checks,  # noqa: F401 (registers the system checks)
            receivers,
        )

        user_login_failed.connect(receivers.login_failed, dispatch_uid="fundarb-audit-login-failed")
        user_locked_out.connect(receivers.locked_out, dispatch_uid="fundarb-audit-locked-out")
        user_logged_in.connect(receivers.logged_in, dispatch_uid="fundarb-known-device")
        post_spawn.connect(receivers.worker_started, dispatch_uid="fundarb-demo-login-guard")
        pre_delete.connect(
            receivers.subscription_deleting, sender="arbitrage.Subscription", dispatch_uid="fundarb-pnl-totals"
        )

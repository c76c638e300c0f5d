from django.apps import AppConfig


class ArbitrageConfig(AppConfig):
    name = "arbitrage"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Funding arbitrage"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from arbitrage import checks  # noqa: F401 (registers the system checks)

        post_spawn.connect(_worker_started, dispatch_uid="fundarb-demo-login-guard")


def _worker_started(sender, proc_name: str, **kwargs) -> None:
    """Each django-q2 worker process as it starts (a bare `manage.py qcluster` too, not only run_stack's)."""
    from arbitrage.services.demo import demo_login_guard_at_start

    demo_login_guard_at_start(f"worker {proc_name}")

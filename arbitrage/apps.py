from django.apps import AppConfig


class ArbitrageConfig(AppConfig):
    name = "arbitrage"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Funding arbitrage"

    def ready(self) -> None:
        from arbitrage import checks  # noqa: F401 (registers the system checks)

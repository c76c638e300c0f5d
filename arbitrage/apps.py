from django.apps import AppConfig


class ArbitrageConfig(AppConfig):
    name = "arbitrage"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Funding arbitrage"

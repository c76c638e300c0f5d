"""The periodic tasks, installed with the schema so every deployment has them (idempotent by name)."""

from django.db import migrations

PERIODIC = [
    ("fundarb: arm executions", "arbitrage.tasks.plan_instants"),
    ("fundarb: reconcile stuck executions", "arbitrage.tasks.reconcile"),
    ("fundarb: collect P&L", "arbitrage.tasks.pnl_sweep"),
    ("fundarb: refresh market snapshot", "arbitrage.tasks.refresh_market_snapshot"),
]


def install(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in PERIODIC:
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": 1, "repeats": -1}
        )


def remove(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _ in PERIODIC]).delete()


class Migration(migrations.Migration):
    dependencies = [("arbitrage", "0001_initial"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(install, remove)]

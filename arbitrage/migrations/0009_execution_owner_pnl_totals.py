"""Executions carry their owner (one index serves every page's "newest first for this user"), and running P&L
totals per owner and day replace the dashboard's sum over every execution.

Both backfills are set-based: one UPDATE with a correlated subquery, one grouped SELECT, so a large table is read
once rather than row by row in Python.
"""

from datetime import UTC
from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import TruncDate

BATCH = 2000


def owners_backfill(apps, schema_editor):
    Execution = apps.get_model("arbitrage", "Execution")
    Subscription = apps.get_model("arbitrage", "Subscription")
    owner = Subscription.objects.filter(pk=OuterRef("subscription_id")).values("owner_id")[:1]
    # On PostgreSQL the new foreign key was made IMMEDIATE for this transaction when AddField created it, so this
    # update leaves no deferred check pending to block the ALTER TABLE that makes the column NOT NULL.
    Execution.objects.using(schema_editor.connection.alias).filter(owner=None).update(owner_id=Subquery(owner))


def totals_backfill(apps, schema_editor):
    Execution = apps.get_model("arbitrage", "Execution")
    PnlTotal = apps.get_model("arbitrage", "PnlTotal")
    alias = schema_editor.connection.alias
    with_pnl = Execution.objects.using(alias).exclude(pnl_funding=None, pnl_fees=None, pnl_price=None)
    rows = (
        with_pnl.annotate(day=TruncDate("funding_time", tzinfo=UTC))
        .values("owner_id", "day")
        .annotate(count=Count("pk"), funding=Sum("pnl_funding"), fees=Sum("pnl_fees"), price=Sum("pnl_price"))
        .order_by()
    )
    PnlTotal.objects.using(alias).bulk_create(
        (
            PnlTotal(
                owner_id=row["owner_id"],
                day=row["day"],
                executions=row["count"],
                funding=row["funding"] or 0,
                fees=row["fees"] or 0,
                price=row["price"] or 0,
            )
            for row in rows.iterator(chunk_size=BATCH)
        ),
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("arbitrage", "0008_funding_payments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="execution",
            name="owner",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="executions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(owners_backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="execution",
            name="owner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="executions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(fields=["owner", "-funding_time", "-id"], name="execution_owner_newest"),
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(fields=["owner", "status", "funding_time"], name="execution_owner_status"),
        ),
        migrations.CreateModel(
            name="PnlTotal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(help_text="The UTC day of the funding instants counted here")),
                ("executions", models.PositiveIntegerField(default=0, help_text="Executions with P&L recorded")),
                ("funding", models.DecimalField(decimal_places=12, default=Decimal(0), max_digits=28)),
                ("fees", models.DecimalField(decimal_places=12, default=Decimal(0), max_digits=28)),
                ("price", models.DecimalField(decimal_places=12, default=Decimal(0), max_digits=28)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="pnl_totals",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["owner", "day"],
                "constraints": [
                    models.UniqueConstraint(fields=("owner", "day"), name="one_pnl_total_per_owner_and_day")
                ],
            },
        ),
        migrations.RunPython(totals_backfill, migrations.RunPython.noop),
    ]

"""The triggers on payments_payment that write the stats change log
(stats/triggers.py): plpgsql on PostgreSQL, SQLite triggers on the embedded
database."""

from django.db import migrations


def install(apps, schema_editor):
    from stats.triggers import install

    install(schema_editor.connection)


def uninstall(apps, schema_editor):
    from stats.triggers import uninstall

    uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_initial"),
        # The payments table in its current shape (SQLite rebuilds a table,
        # dropping its triggers, for most ALTERs; stats.triggers.ensure_installed
        # restores them after any later one).
        ("payments", "0006_webhookdelivery_body_encoding"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]

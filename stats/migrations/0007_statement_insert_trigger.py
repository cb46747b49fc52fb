"""The payments insert trigger logs once per statement on PostgreSQL (a
transition table) instead of once per row (stats/triggers.py); SQLite's are
unchanged. ``install`` replaces the triggers and functions in place."""

from django.db import migrations


def install(apps, schema_editor):
    from stats.triggers import install

    install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0006_vendormonth_vendor_index"),
        ("payments", "0008_payment_fk_indexes_covered"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]

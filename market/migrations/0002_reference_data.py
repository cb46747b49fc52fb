from django.db import migrations

from market.reference_data import load_admin_units, load_banks


def load(apps, schema_editor):
    load_admin_units(apps.get_model("market", "Province"), apps.get_model("market", "Ward"),
                     apps.get_model("market", "LegacyProvince"))
    load_banks(apps.get_model("market", "Bank"))


class Migration(migrations.Migration):
    dependencies = [("market", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

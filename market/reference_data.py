"""Loading the administrative units shipped in ``market/data`` and the bank
list shipped with the ``chopay`` library (``chopay/data/banks.json``).

Used by a data migration (so every database has them) and by
``manage.py load_reference_data`` (to refresh after the files are updated).
Loading is idempotent: rows are upserted by their official code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chopay.banks import banks as napas_banks

DATA_DIR = Path(__file__).resolve().parent / "data"


def _read(name: str) -> dict[str, Any]:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def load_admin_units(province_model: Any, ward_model: Any, legacy_model: Any) -> tuple[int, int, int]:
    data = _read("admin_units.json")
    provinces = [
        province_model(code=p["code"], name=p["name"], short_name=p["short_name"], kind=p["kind"])
        for p in data["provinces"]
    ]
    province_model.objects.bulk_create(
        provinces, update_conflicts=True, unique_fields=["code"], update_fields=["name", "short_name", "kind"]
    )
    wards = [
        ward_model(code=code, name=name, short_name=short, kind=kind, province_id=p["code"])
        for p in data["provinces"]
        for code, name, short, kind in p["wards"]
    ]
    ward_model.objects.bulk_create(
        wards,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "short_name", "kind", "province"],
    )
    legacy = [
        legacy_model(code=p["code"], name=p["name"], short_name=p["short_name"], merged_into_id=p["merged_into"])
        for p in data["legacy_provinces"]
    ]
    legacy_model.objects.bulk_create(
        legacy,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "short_name", "merged_into"],
    )
    return len(provinces), len(wards), len(legacy)


def load_banks(bank_model: Any) -> int:
    banks = [
        bank_model(bin=bank.bin, code=bank.code, short_name=bank.short_name, name=bank.name) for bank in napas_banks()
    ]
    bank_model.objects.bulk_create(
        banks, update_conflicts=True, unique_fields=["bin"], update_fields=["code", "short_name", "name"]
    )
    return len(banks)

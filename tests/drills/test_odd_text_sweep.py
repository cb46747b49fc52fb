"""Odd text in every text field of every write operation of the OpenAPI
schema: NUL, a lone surrogate, a right-to-left override (U+202E) and a
10,000-character string, one field at a time, as the superuser and as the
market's board. The answer is a 4xx with the JSON error (never a 5xx), and
nothing of it is stored."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.db.models import Q
from rest_framework.test import APIClient

from drills.abuse_targets import operations, set_field, with_hints
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

ODD = {
    "NUL": "a\x00b",
    "lone surrogate": "a\ud800b",
    "RTL override": "Nguy\u202eễn",
    "10,000 characters": "x" * 10_000,
}
# Not the payment path's user input: the bank webhooks keep any signed text (docs/security.md
# rule 3) and refuse unsigned posts; USSD is the rail's signed dialogue (its own tests).
SKIP = re.compile(r"^/api/v1/(webhooks|ussd)/")


def path_values(cast: Any, path: str) -> dict[str, Any]:
    values: dict[str, Any] = {"vendor_id": cast.vendor.pk, "market_id": cast.market.pk, "code": "19"}
    if "/markets/{id}/" in path:
        values["id"] = cast.market.pk
    elif "/vendors/{id}/" in path:
        values["id"] = cast.vendor.pk
    return values


def stored_odd_text() -> list[str]:
    """Every text column of the project's own models holding a bidi override or a run of
    10,000 x (through the ORM, so on SQLite as on PostgreSQL)."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label in ("admin", "auth", "contenttypes", "sessions"):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, (models.CharField, models.TextField)):
                odd = Q(**{f"{field.attname}__contains": "\u202e"}) | Q(**{f"{field.attname}__contains": "x" * 10_000})
                if model._default_manager.filter(odd).exists():
                    found.append(f"{model._meta.db_table}.{field.column}")
    return found


def test_odd_text_in_every_field_is_refused_with_a_4xx_and_never_stored(cast: Any) -> None:
    schema = client_for(cast.admin).get("/api/v1/schema/", {"format": "json"}).json()
    ops = [op for op in operations(schema) if op.text_fields and not SKIP.match(op.path)]
    hints = {  # real values where the schema says only "string": the body gets past the other checks
        "bank": "970436",
        "bank_bin": "970436",
        "ward": cast.market.ward_id,
        "market": cast.market.pk,
        "vendor": cast.vendor.pk,
        "phone": "0912345678",
        "account_number": "0011001234567",
        "account_name": "NGUYEN VAN A",
        "full_name": "Nguyễn Văn A",
        "merchant_code": cast.vendor.merchant_code,
        "amount": 20_000,
    }
    for op in ops:
        op.body = with_hints(op.body, hints)
    clients: list[tuple[str, APIClient]] = [("superuser", client_for(cast.admin)), ("board", client_for(cast.board))]
    wrong, sent = [], 0

    for op in ops:
        url = op.url(path_values(cast, op.path))
        for dotted in op.text_fields:
            for label, value in ODD.items():
                body = json.dumps(set_field(op.body, dotted, value))
                for who, client in clients:
                    answer = client.generic(op.method, url, body, content_type="application/json")
                    sent += 1
                    ok_json = answer.get("Content-Type") == "application/json" and "error" in answer.json()
                    if not (400 <= answer.status_code < 500 and ok_json):
                        wrong.append(f"{who} {op.method} {op.path} {dotted}={label}: {answer.status_code}")

    assert len(ops) > 15 and sent > 300  # the sweep found the schema's write operations
    assert wrong == []
    assert stored_odd_text() == []

"""One provider transaction is one payment, however its id is written: SePay
``id``, Casso ``data.id`` and payOS ``data.orderCode`` are integers, normalised
to one spelling before the uniqueness check, on every lane; what is no
integer id is refused (400) and records nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from payments.bank_credits.batching import Delivery, webhook_ingest_batch
from payments.bank_credits.ingest import IngestResult
from payments.bank_credits.providers import casso, payos, sepay
from payments.models import Payment, WebhookDelivery
from tests.conftest import needs_postgres
from tests.payments.bank_credits.test_wsgi_lane import LaneClient
from tests.payments.bank_credits.webhook_fuzz import dumps, sign
from tests.payments.bank_credits.webhooks_support import (
    PAYOS_KEY,
    casso_body,
    payos_body,
    provider_keys,  # noqa: F401  (fixture)
    sepay_body,
)

pytestmark = pytest.mark.usefixtures("provider_keys")

FORMS = [123, "123", "0123", 123.0, " 123", "123 ", "00123"]
REFUSED = ["12a", "-123", -123, 0, 12.5, True, "1e3", "١٢٣", "", "0x7b", [123], {"id": 123}, 2**63, "9" * 30]


def _body(module: Any, txn: Any) -> bytes:
    if module is sepay:
        return dumps({**sepay_body(content="CHO40 rau", txn_id=0), "id": txn})
    if module is casso:
        body = casso_body(description="CHO40 rau", txn_id=0)
        body["data"]["id"] = txn
        return dumps(body)
    body = payos_body(description="CHO40 rau", order_code=0, reference="FT25060777777")
    body["data"]["orderCode"] = txn
    body["signature"] = payos.signature(PAYOS_KEY, body["data"])
    return dumps(body)


def _post(client: Any, module: Any, txn: Any) -> Any:
    raw = _body(module, txn)
    url = f"/api/v1/webhooks/{module.SOURCE}/"
    return client.post(url, data=raw, content_type="application/json", headers=sign(module, raw))


EXPECTED_ID = {"sepay": "123", "casso": "123", "payos": "123:FT25060777777"}


@pytest.mark.parametrize("lane", ["view", "wsgi"])
@pytest.mark.parametrize("module", [sepay, casso, payos], ids=lambda m: m.SOURCE)
def test_it_records_one_payment_for_every_spelling_of_one_transaction_id(db, lane: str, module: Any) -> None:
    client: Any = Client() if lane == "view" else LaneClient()

    answers = [_post(client, module, form) for form in FORMS]

    assert [a.status_code for a in answers] == [200] * len(FORMS)
    payment = Payment.objects.get()
    assert (payment.source, payment.provider_txn_id) == (module.SOURCE, EXPECTED_ID[module.SOURCE])
    statuses = list(WebhookDelivery.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["processed"] + ["duplicate"] * (len(FORMS) - 1)


@pytest.mark.parametrize("lane", ["view", "wsgi"])
@pytest.mark.parametrize("module", [sepay, casso, payos], ids=lambda m: m.SOURCE)
def test_it_refuses_what_is_no_integer_id_and_records_nothing(db, lane: str, module: Any) -> None:
    client: Any = Client() if lane == "view" else LaneClient()

    answers = [_post(client, module, form) for form in REFUSED]

    assert [a.status_code for a in answers] == [400] * len(REFUSED)
    assert {a.json()["error"]["code"] for a in answers} == {"malformed_payload"}
    assert not Payment.objects.exists()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("module", [sepay, casso, payos], ids=lambda m: m.SOURCE)
def test_the_batch_path_records_one_payment_for_every_spelling_in_one_batch(module: Any) -> None:
    needs_postgres()
    deliveries = []
    for form in FORMS:
        raw = _body(module, form)
        deliveries.append(Delivery(provider=module, headers=sign(module, raw), body=raw, remote_addr="203.0.113.7"))

    outcomes = webhook_ingest_batch(deliveries)

    assert all(isinstance(o, IngestResult) for o in outcomes), outcomes
    assert sorted(o.status for o in outcomes) == ["duplicate"] * (len(FORMS) - 1) + ["processed"]  # type: ignore[union-attr]
    assert Payment.objects.get().provider_txn_id == EXPECTED_ID[module.SOURCE]

"""vendor_create: the submission id a volunteer's phone sends (client_ref), so
that a resend after a lost connection never registers a second trader, and the
trader's consent (Decree 13/2023) stored with the registration."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from common.errors import Conflict, Invalid
from market.models import Bank
from tests.conftest import client_for, needs_postgres
from tests.factories import make_volunteer
from tests.vendors.support import new_vendor
from vendors import consent as consents
from vendors.models import Consent, Vendor
from vendors.services import vendor_create, vendor_create_once

pytestmark = pytest.mark.django_db


def _register(cast, actor, **overrides):
    data = {
        "actor": actor,
        "market": cast.market,
        "full_name": "Lê Văn Tám",
        "phone": "0987 654 321",
        "bank": Bank.objects.get(pk="970422"),
        "account_number": "0987654321",
        "account_name": "Lê Văn Tám",
        "stall_label": "B-03",
    }
    data.update(overrides)
    return vendor_create_once(**data)


def test_it_returns_the_registered_vendor_when_the_same_submission_comes_again(cast):
    ref = uuid.uuid4()

    first, created_first = _register(cast, cast.volunteer, client_ref=ref)
    again, created_again = _register(cast, cast.volunteer, client_ref=ref)

    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk
    assert Vendor.objects.filter(client_ref=ref).count() == 1
    assert Vendor.objects.filter(phone="+84987654321").count() == 1


def test_it_still_refuses_the_same_trader_under_a_new_submission_id(cast):
    _register(cast, cast.volunteer, client_ref=uuid.uuid4())

    with pytest.raises(ValidationError) as error:
        _register(cast, cast.volunteer, client_ref=uuid.uuid4())

    assert error.value.error_dict["phone"][0].code == "duplicate_phone"


def test_it_refuses_a_submission_id_another_volunteer_used(cast):
    ref = uuid.uuid4()
    _register(cast, cast.volunteer, client_ref=ref)
    other = make_volunteer(cast.market, "volunteer2")

    with pytest.raises(Conflict) as error:
        _register(cast, other, client_ref=ref, phone="0966 000 111", account_number="5550001112")

    assert error.value.code == "client_ref_taken"
    assert Vendor.objects.filter(client_ref=ref).get().onboarded_by == cast.volunteer


def test_it_checks_the_actor_before_answering_a_resend(cast):
    ref = uuid.uuid4()
    _register(cast, cast.volunteer, client_ref=ref)

    with pytest.raises(Exception) as error:
        _register(cast, cast.other_board, client_ref=ref)

    assert type(error.value).__name__ == "PermissionDenied"


def test_it_stores_the_consent_shown_with_the_registration(cast):
    vendor = vendor_create(
        actor=cast.volunteer,
        market=cast.market,
        full_name="Lê Văn Tám",
        phone="0987654321",
        bank=Bank.objects.get(pk="970422"),
        account_number="0987654321",
        account_name="LE VAN TAM",
        consent=consents.CURRENT,
    )

    row = Consent.objects.get(vendor=vendor)
    assert row.text == consents.CURRENT.text
    assert "Nghị định 13/2023/NĐ-CP" in row.text
    assert row.version == consents.CURRENT.version
    assert row.collected_by == cast.volunteer
    assert row.method == Consent.Method.FORM
    assert row.collected_at is not None


def test_it_writes_no_consent_when_the_registration_is_refused(cast):
    with pytest.raises(ValidationError):
        _register(cast, cast.volunteer, phone="12345", consent=consents.CURRENT)

    assert Consent.objects.count() == 0


def test_it_refuses_an_empty_consent(cast):
    with pytest.raises(Invalid) as error:
        _register(cast, cast.volunteer, consent=consents.ConsentGiven(text=" ", version="x"))

    assert error.value.code == "consent_required"
    assert not Vendor.objects.filter(phone="+84987654321").exists()


def test_it_knows_every_consent_version_it_showed():
    assert consents.consent_for_version(consents.CURRENT.version).text == consents.CURRENT.text
    with pytest.raises(Invalid):
        consents.consent_for_version("nd13-1999")


def test_the_api_answers_the_same_vendor_for_a_resend(cast):
    client = client_for(cast.volunteer)
    payload = new_vendor(cast.market, client_ref=str(uuid.uuid4()))

    first = client.post("/api/v1/vendors/", payload, format="json")
    again = client.post("/api/v1/vendors/", payload, format="json")

    assert first.status_code == again.status_code == 201, again.content
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_at_the_same_moment_registers_one_trader(cast):
    needs_postgres()
    for round_ in range(5):
        ref = uuid.uuid4()
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def submit(index, ref=ref, round_=round_, barrier=barrier, results=results):
            try:
                barrier.wait()
                results[index] = _register(
                    cast,
                    cast.volunteer,
                    client_ref=ref,
                    phone=f"0977 100 {round_:03d}",
                    account_number=f"66600000{round_:02d}",
                    consent=consents.CURRENT,
                )
            except Exception as exc:  # reported below
                results[index] = exc
            finally:
                connection.close()

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        assert all(isinstance(r, tuple) for r in results), results
        assert sorted(created for _, created in results) == [False, True]
        assert results[0][0].pk == results[1][0].pk
        assert Vendor.objects.filter(client_ref=ref).count() == 1
        assert Consent.objects.filter(vendor__client_ref=ref).count() == 1

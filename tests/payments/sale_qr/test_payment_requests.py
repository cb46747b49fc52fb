"""Sale QRs (payment requests): create, idempotent retry, unique references,
reading, expiry and cancellation, and who may do each."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from chopay import vietqr
from chopay.identifiers import REFERENCE_ALPHABET, REFERENCE_LENGTH
from payments.models import PaymentRequest
from payments.sale_qr import services
from payments.sale_qr.tasks import expire_payment_requests
from tests.conftest import client_for
from tests.payments.qr_support import read_qr
from vendors.models import Vendor


def url(vendor, suffix=""):
    return f"/api/v1/vendors/{vendor.pk}/payment-requests/{suffix}"


def create(user, vendor, key=None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client_for(user).post(url(vendor), {"amount": 50_000, **body}, format="json", **headers)


# --- creating -----------------------------------------------------------------------


def test_it_creates_a_sale_qr_for_the_amount(cast):
    before = timezone.now()
    response = create(cast.vendor_user, cast.vendor, amount=185_000, note="2 kg cam sành")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert body["amount"] == 185_000
    assert body["note"] == "2 kg cam sành"
    reference = body["reference"]
    assert len(reference) == REFERENCE_LENGTH <= 12
    assert set(reference) <= set(REFERENCE_ALPHABET) and reference[0].isalpha()

    qr = vietqr.decode(body["payload"])
    assert qr.initiation == "dynamic"
    assert (qr.bank_bin, qr.account_number, qr.amount) == ("970436", cast.vendor.account_number, 185_000)
    assert qr.bill_number == reference
    assert qr.purpose == f"CHO40 {reference}"

    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    ttl = dt.timedelta(seconds=settings.PAYMENT_REQUEST_DEFAULT_TTL_SECONDS)
    assert before + ttl <= expires_at <= timezone.now() + ttl
    assert expires_at.utcoffset() == dt.timedelta(hours=7)  # shown in Vietnam time


def test_it_uses_references_without_look_alike_characters():
    for _ in range(2000):
        reference = services.new_reference()
        assert not set(reference) & set("0O1IL")


def test_it_takes_expires_in_seconds(cast):
    response = create(cast.vendor_user, cast.vendor, expires_in=120)
    expires_at = dt.datetime.fromisoformat(response.json()["expires_at"])
    assert abs((expires_at - timezone.now()).total_seconds() - 120) < 10


@pytest.mark.parametrize("expires_in", [59, 7 * 24 * 3600 + 1, "soon"])
def test_it_bounds_expires_in(cast, expires_in):
    response = create(cast.vendor_user, cast.vendor, expires_in=expires_in)
    assert response.status_code == 400
    assert "expires_in" in response.json()["error"]["fields"]


@pytest.mark.parametrize("amount", [50000.0, "50000.5", "50.000", 0, -1, 10**13, True, None, "năm mươi nghìn"])
def test_it_refuses_an_amount_that_is_not_whole_dong(cast, amount):
    response = create(cast.vendor_user, cast.vendor, amount=amount)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid_amount", "null"}
    assert not PaymentRequest.objects.exists()


def test_it_lets_the_market_board_create_for_a_vendor(cast):
    assert create(cast.board, cast.vendor).status_code == 201
    assert create(cast.officer, cast.vendor).status_code == 201


def test_it_does_not_let_volunteers_sell(cast):
    response = create(cast.volunteer, cast.vendor)
    assert response.status_code == 403
    assert client_for(cast.volunteer).get(url(cast.vendor)).status_code == 403


@pytest.mark.parametrize("who", ["other_board", "far_officer", "outsider"])
def test_it_hides_the_vendor_outside_ones_scope(cast, who):
    assert create(getattr(cast, who), cast.vendor).status_code == 404


def test_it_does_not_let_a_vendor_sell_for_another(cast):
    assert create(cast.vendor_user, cast.other_vendor).status_code == 404


@pytest.mark.parametrize(("status", "code"), [("suspended", "vendor_suspended"), ("pending", "vendor_not_active")])
def test_it_refuses_sale_qrs_for_a_vendor_who_is_not_active(cast, status, code):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=status)
    response = create(cast.board, cast.vendor)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code


# --- idempotency ----------------------------------------------------------------------


def test_it_answers_a_retried_create_with_the_first_request(cast):
    first = create(cast.vendor_user, cast.vendor, key="sale-42", amount=70_000)
    again = create(cast.vendor_user, cast.vendor, key="sale-42", amount=70_000)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["payload"] == first.json()["payload"]
    assert PaymentRequest.objects.count() == 1


def test_it_refuses_a_reused_key_for_a_different_sale(cast):
    create(cast.vendor_user, cast.vendor, key="sale-42", amount=70_000)
    response = create(cast.vendor_user, cast.vendor, key="sale-42", amount=80_000)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


def test_it_scopes_idempotency_keys_to_the_vendor(cast):
    make_vendor_user_for_other = create(cast.admin, cast.other_vendor, key="sale-1")
    assert make_vendor_user_for_other.status_code == 201
    assert create(cast.vendor_user, cast.vendor, key="sale-1").status_code == 201


def test_it_refuses_a_malformed_idempotency_key(cast):
    response = create(cast.vendor_user, cast.vendor, key="x" * 65)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


def test_it_draws_another_reference_when_one_is_taken(cast, monkeypatch):
    taken = create(cast.vendor_user, cast.vendor).json()["reference"]
    draws = iter([taken, taken, "KMNPRTWXY3"])
    monkeypatch.setattr(services, "new_reference", lambda: next(draws))
    response = create(cast.vendor_user, cast.vendor)
    assert response.status_code == 201
    assert response.json()["reference"] == "KMNPRTWXY3"


# --- reading --------------------------------------------------------------------------


def test_it_lists_a_vendors_requests_newest_first(cast):
    ids = [create(cast.vendor_user, cast.vendor, amount=a).json()["id"] for a in (10_000, 20_000, 30_000)]
    body = client_for(cast.vendor_user).get(url(cast.vendor)).json()
    assert [r["id"] for r in body["results"]] == ids[::-1]
    detail = client_for(cast.board).get(url(cast.vendor, f"{ids[0]}/"))
    assert detail.status_code == 200 and detail.json()["amount"] == 10_000


def test_it_shows_the_board_its_markets_requests_only(cast):
    ours = create(cast.vendor_user, cast.vendor).json()["id"]
    theirs = create(cast.other_board, cast.other_vendor).json()["id"]
    assert [r["id"] for r in client_for(cast.board).get("/api/v1/payment-requests/").json()["results"]] == [ours]
    assert [r["id"] for r in client_for(cast.other_board).get("/api/v1/payment-requests/").json()["results"]] == [
        theirs
    ]
    assert client_for(cast.vendor_user).get("/api/v1/payment-requests/").json()["count"] == 1
    assert client_for(cast.volunteer).get("/api/v1/payment-requests/").json()["count"] == 0
    assert client_for(cast.officer).get("/api/v1/payment-requests/").json()["count"] == 2
    assert client_for(cast.far_officer).get("/api/v1/payment-requests/").json()["count"] == 0
    # Another market's request through our vendor's URL is not found.
    assert client_for(cast.admin).get(url(cast.vendor, f"{theirs}/")).status_code == 404


def test_it_shows_an_overdue_pending_request_as_expired(cast):
    live = create(cast.vendor_user, cast.vendor).json()["id"]
    overdue = create(cast.vendor_user, cast.vendor).json()["id"]
    PaymentRequest.objects.filter(pk=overdue).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client = client_for(cast.vendor_user)
    assert client.get(url(cast.vendor, f"{overdue}/")).json()["status"] == "expired"
    assert [r["id"] for r in client.get(url(cast.vendor) + "?status=pending").json()["results"]] == [live]
    assert [r["id"] for r in client.get(url(cast.vendor) + "?status=expired").json()["results"]] == [overdue]
    assert client.get(url(cast.vendor) + "?status=late").json()["error"]["code"] == "invalid_status"


# --- expiry ---------------------------------------------------------------------------


def test_it_expires_overdue_requests_from_the_periodic_task(cast):
    overdue = create(cast.vendor_user, cast.vendor).json()["id"]
    live = create(cast.vendor_user, cast.vendor).json()["id"]
    paid = create(cast.vendor_user, cast.vendor).json()["id"]
    PaymentRequest.objects.get(pk=paid).transition("paid", paid_at=timezone.now())
    PaymentRequest.objects.filter(pk__in=[overdue, paid]).update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert expire_payment_requests() == 1
    assert expire_payment_requests() == 0  # idempotent
    statuses = dict(PaymentRequest.objects.values_list("id", "status"))
    assert statuses == {overdue: "expired", live: "pending", paid: "paid"}


def test_it_runs_the_expiry_every_minute_from_celery_beat():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == expire_payment_requests.name]
    assert entries and float(entries[0]["schedule"]) <= 60  # type: ignore[arg-type]


# --- cancelling -----------------------------------------------------------------------


def test_it_cancels_a_pending_request_once(cast):
    pk = create(cast.vendor_user, cast.vendor).json()["id"]
    client = client_for(cast.vendor_user)
    response = client.post(url(cast.vendor, f"{pk}/cancel/"))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    again = client.post(url(cast.vendor, f"{pk}/cancel/"))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"


def test_it_does_not_cancel_a_paid_or_overdue_request(cast):
    paid = create(cast.vendor_user, cast.vendor).json()["id"]
    PaymentRequest.objects.get(pk=paid).transition("paid", paid_at=timezone.now())
    overdue = create(cast.vendor_user, cast.vendor).json()["id"]
    PaymentRequest.objects.filter(pk=overdue).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    client = client_for(cast.board)
    assert client.post(url(cast.vendor, f"{paid}/cancel/")).status_code == 409
    assert client.post(url(cast.vendor, f"{overdue}/cancel/")).status_code == 409
    assert PaymentRequest.objects.get(pk=paid).status == "paid"
    assert PaymentRequest.objects.get(pk=overdue).status == "expired"


def test_it_does_not_let_volunteers_cancel(cast):
    pk = create(cast.vendor_user, cast.vendor).json()["id"]
    assert client_for(cast.volunteer).post(url(cast.vendor, f"{pk}/cancel/")).status_code == 403
    assert PaymentRequest.objects.get(pk=pk).status == "pending"


# --- the QR image ---------------------------------------------------------------------


def test_it_serves_the_sale_qr_while_pending(cast):
    body = create(cast.vendor_user, cast.vendor, amount=99_000).json()
    response = client_for(cast.vendor_user).get(url(cast.vendor, f"{body['id']}/qr.png?size=400"))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert read_qr(Image.open(io.BytesIO(response.content))) == body["payload"]
    assert body["qr_png_url"].endswith(url(cast.vendor, f"{body['id']}/qr.png"))


def test_it_withdraws_the_sale_qr_once_cancelled(cast):
    pk = create(cast.vendor_user, cast.vendor).json()["id"]
    client = client_for(cast.vendor_user)
    client.post(url(cast.vendor, f"{pk}/cancel/"))
    response = client.get(url(cast.vendor, f"{pk}/qr.png"))
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "payment_request_cancelled"


@pytest.mark.parametrize("market", ["99999999999999999999999999", "²", "x"])
def test_it_answers_a_bad_id_filter_on_the_sale_qr_list_with_a_400(cast, market):
    r = client_for(cast.board).get("/api/v1/payment-requests/", {"market": market})

    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == "invalid_market"

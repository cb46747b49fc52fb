"""Payment status moves only along pending → succeeded / failed,
succeeded → refunded / disputed and disputed → succeeded / refunded, each move
audited; boards mark refunds and disputes and settle disputes through the API."""

from __future__ import annotations

import pytest

from payments.models import Payment, PaymentEvent, TransitionError
from tests.conftest import client_for
from tests.factories import PaymentFactory

ALLOWED = {
    ("pending", "succeeded"),
    ("pending", "failed"),
    ("succeeded", "refunded"),
    ("succeeded", "disputed"),
    ("disputed", "succeeded"),
    ("disputed", "refunded"),
}
STATUSES = [s.value for s in Payment.Status]


# --- the state machine ------------------------------------------------------------


@pytest.mark.parametrize("start", STATUSES)
@pytest.mark.parametrize("to", STATUSES)
def test_it_allows_only_the_documented_moves(cast, start, to):
    payment = PaymentFactory.create(vendor=cast.vendor, status=start)
    if (start, to) in ALLOWED:
        payment.transition(to, actor=cast.board)
        payment.refresh_from_db()
        assert payment.status == to
        [event] = PaymentEvent.objects.filter(payment=payment)
        assert (event.kind, event.actor, event.data) == (f"status:{to}", cast.board, {"from": start})
    else:
        with pytest.raises(TransitionError):
            payment.transition(to, actor=cast.board)
        payment.refresh_from_db()
        assert payment.status == start
        assert not PaymentEvent.objects.filter(payment=payment).exists()


def test_it_refuses_a_move_from_a_stale_copy(cast):
    payment = PaymentFactory.create(vendor=cast.vendor, status="pending")
    stale = Payment.objects.get(pk=payment.pk)
    payment.transition("succeeded")
    # The stale copy still says pending, so the move looks legal; the conditional UPDATE refuses it.
    with pytest.raises(TransitionError, match="concurrently"):
        stale.transition("failed")
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert list(PaymentEvent.objects.filter(payment=payment).values_list("kind", flat=True)) == ["status:succeeded"]


def test_it_saves_extra_fields_with_the_move(cast):
    payment = PaymentFactory.create(vendor=cast.vendor, status="pending")
    payment.transition("succeeded", provider_reference="FT999")
    payment.refresh_from_db()
    assert (payment.status, payment.provider_reference) == ("succeeded", "FT999")


# --- refund / dispute through the API --------------------------------------------------


def mark(user, payment: Payment, action: str, note: str | None = None):
    body = {} if note is None else {"note": note}
    return client_for(user).post(f"/api/v1/payments/{payment.id}/{action}/", body, format="json")


@pytest.mark.parametrize("action", ["refund", "dispute"])
@pytest.mark.parametrize("role", ["board", "officer", "admin"])
def test_it_lets_those_who_oversee_the_market_mark_a_payment(cast, role, action):
    payment = PaymentFactory.create(vendor=cast.vendor)
    r = mark(getattr(cast, role), payment, action, note="  Khách chuyển nhầm  ")
    assert r.status_code == 200, r.content
    expected = {"refund": "refunded", "dispute": "disputed"}[action]
    assert r.json()["status"] == expected
    [event] = r.json()["events"]
    assert event["kind"] == f"status:{expected}"
    assert event["actor"] == getattr(cast, role).username
    assert event["data"] == {"from": "succeeded", "note": "Khách chuyển nhầm"}


@pytest.mark.parametrize("action", ["refund", "dispute"])
@pytest.mark.parametrize(
    ("role", "status"),
    [("other_board", 404), ("far_officer", 404), ("volunteer", 404), ("outsider", 404), ("vendor_user", 403)],
)
def test_it_keeps_everyone_else_from_marking_a_payment(cast, role, status, action):
    payment = PaymentFactory.create(vendor=cast.vendor)
    r = mark(getattr(cast, role), payment, action)
    assert r.status_code == status
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert not PaymentEvent.objects.filter(payment=payment).exists()


def test_it_requires_login_to_mark(api, cast):
    payment = PaymentFactory.create(vendor=cast.vendor)
    assert api.post(f"/api/v1/payments/{payment.id}/refund/").status_code == 401


@pytest.mark.parametrize(
    ("start", "action"),
    [("refunded", "refund"), ("refunded", "dispute"), ("failed", "refund"), ("pending", "dispute"),
     ("disputed", "dispute"), ("succeeded", "resolve"), ("refunded", "resolve"), ("pending", "resolve")],
)  # fmt: skip
def test_it_answers_409_for_an_illegal_move(cast, start, action):
    payment = PaymentFactory.create(vendor=cast.vendor, status=start)
    r = mark(cast.board, payment, action)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "invalid_transition"
    assert start in error["message"]
    payment.refresh_from_db()
    assert payment.status == start


def test_it_lets_the_board_refund_an_unmatched_credit(cast):
    stranger = PaymentFactory.create(vendor=None, market=cast.market)
    r = mark(cast.board, stranger, "refund", note="Trả lại người chuyển nhầm")
    assert r.status_code == 200
    # A refunded credit leaves the queue.
    assert client_for(cast.board).get("/api/v1/payments/unmatched/").json()["results"] == []


def test_it_rejects_an_overlong_note(cast):
    payment = PaymentFactory.create(vendor=cast.vendor)
    r = mark(cast.board, payment, "refund", note="x" * 501)
    assert r.status_code == 400
    assert "note" in r.json()["error"]["fields"]


# --- settling a dispute -------------------------------------------------------------------


@pytest.mark.parametrize(("action", "ends"), [("resolve", "succeeded"), ("refund", "refunded")])
def test_it_lets_the_board_settle_a_dispute_either_way(cast, action, ends):
    payment = PaymentFactory.create(vendor=cast.vendor)
    assert mark(cast.board, payment, "dispute", note="Khách nói chưa nhận hàng").status_code == 200

    r = mark(cast.board, payment, action, note="Đã đối chiếu camera")

    assert r.status_code == 200, r.content
    assert r.json()["status"] == ends
    assert [(e["kind"], e["data"]) for e in r.json()["events"]] == [
        ("status:disputed", {"from": "succeeded", "note": "Khách nói chưa nhận hàng"}),
        (f"status:{ends}", {"from": "disputed", "note": "Đã đối chiếu camera"}),
    ]
    # Settled for the vendor, the money counts in their summary again.
    summary = client_for(cast.vendor_user).get("/api/v1/payments/summary/").json()
    assert summary["totals"]["amount"] == (payment.amount if ends == "succeeded" else 0)


@pytest.mark.parametrize(("role", "status"), [("vendor_user", 403), ("other_board", 404), ("outsider", 404)])
def test_it_keeps_others_from_settling_a_dispute(cast, role, status):
    payment = PaymentFactory.create(vendor=cast.vendor, status="disputed")

    assert mark(getattr(cast, role), payment, "resolve").status_code == status
    payment.refresh_from_db()
    assert payment.status == "disputed"

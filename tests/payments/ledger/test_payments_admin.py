"""The payments admin: read-only, in Vietnamese, scoped like the API, and the
unmatched queue / refund / dispute actions going through the services."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import Client

from payments.models import OutboundSms, Payment, PaymentEvent, WebhookDelivery
from tests.factories import PaymentFactory, VendorFactory

CHANGELIST = "/admin/payments/payment/"


@pytest.fixture
def staff(cast):
    """Give every role of the cast access to the admin site."""
    for name in ("board", "other_board", "officer", "far_officer", "volunteer", "vendor_user"):
        user = getattr(cast, name)
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return cast


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(user)
    return client


def listed(client: Client, query: str = "") -> set[int]:
    r = client.get(CHANGELIST + query)
    assert r.status_code == 200, r.status_code
    return {p.pk for p in r.context["cl"].result_list}


def run_action(client: Client, action: str, payments: list[Payment], **extra):
    data = {"action": action, "_selected_action": [p.pk for p in payments], **extra}
    if "apply" not in extra:
        data["index"] = 0
    return client.post(CHANGELIST, data)


def notes(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- pages ------------------------------------------------------------------------------


def test_it_registers_every_payments_model():
    missing = [m.__name__ for m in apps.get_app_config("payments").get_models() if not admin.site.is_registered(m)]
    assert missing == []


def test_it_opens_every_payments_page_for_a_superuser(cast):
    payment = PaymentFactory.create(vendor=cast.vendor)
    payment.transition("disputed", actor=cast.board, data={"note": "khách khiếu nại"})
    client = browser(cast.admin)
    for model in apps.get_app_config("payments").get_models():
        url = f"/admin/payments/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
    r = client.get(f"{CHANGELIST}{payment.pk}/change/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "status:disputed" in html and "khách khiếu nại" in html  # the audit trail inline


def test_it_speaks_vietnamese_through_the_verbose_names(cast):
    PaymentFactory.create(vendor=cast.vendor)
    html = browser(cast.admin).get(CHANGELIST).content.decode()
    assert "Số tiền (đồng)" in html
    assert "Tiểu thương" in html
    assert "Gán cho tiểu thương" in html  # the assign action


def test_it_keeps_every_field_read_only(cast):
    payment = PaymentFactory.create(vendor=cast.vendor)
    client = browser(cast.admin)
    html = client.get(f"{CHANGELIST}{payment.pk}/change/").content.decode()
    assert 'name="amount"' not in html and 'name="status"' not in html and 'name="vendor"' not in html
    assert client.post(f"{CHANGELIST}{payment.pk}/change/", {"amount": 1, "status": "refunded"}).status_code == 403
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.post(f"{CHANGELIST}{payment.pk}/delete/", {"post": "yes"}).status_code == 403
    payment.refresh_from_db()
    assert (payment.amount, payment.status) == (50_000, "succeeded")


# --- scope ---------------------------------------------------------------------------------


@pytest.fixture
def spread(staff):
    cast = staff
    far_vendor = VendorFactory.create(market=cast.far_market)
    return {
        "mine": PaymentFactory.create(vendor=cast.vendor),
        "queued": PaymentFactory.create(vendor=None, market=cast.market),
        "other": PaymentFactory.create(vendor=cast.other_vendor),
        "far": PaymentFactory.create(vendor=far_vendor),
        "stray": PaymentFactory.create(vendor=None, market=None, receiving_account="42424242"),
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("board", {"mine", "queued"}),
        ("other_board", {"other"}),
        ("officer", {"mine", "queued", "other"}),
        ("far_officer", {"far"}),
        ("vendor_user", {"mine"}),
        ("admin", {"mine", "queued", "other", "far", "stray"}),
    ],
)
def test_it_scopes_the_payment_list_like_the_api(staff, spread, role, expected):
    assert listed(browser(getattr(staff, role))) == {spread[name].pk for name in expected}


def test_it_keeps_volunteers_and_outsiders_out(staff, spread):
    assert browser(staff.volunteer).get(CHANGELIST).status_code == 403
    staff.outsider.is_staff = True
    staff.outsider.save(update_fields=["is_staff"])
    assert browser(staff.outsider).get(CHANGELIST).status_code == 403


def test_it_treats_a_payment_outside_scope_as_missing(staff, spread):
    r = browser(staff.board).get(f"{CHANGELIST}{spread['other'].pk}/change/")
    assert r.status_code == 302  # the admin redirects "does not exist" to its index with a message
    assert browser(staff.board).get(f"{CHANGELIST}{spread['mine'].pk}/change/").status_code == 200


def test_it_filters_the_unmatched_queue(staff, spread):
    PaymentFactory.create(vendor=None, market=staff.market, status="refunded")
    assert listed(browser(staff.board), "?unmatched=open") == {spread["queued"].pk}


def test_it_scopes_the_raw_tables(staff, spread):
    WebhookDelivery.objects.create(source="sepay", body="{}", payment=spread["mine"])
    WebhookDelivery.objects.create(source="sepay", body="{}", payment=spread["other"])
    WebhookDelivery.objects.create(source="sepay", body="not json", status="rejected")
    r = browser(staff.board).get("/admin/payments/webhookdelivery/")
    assert [d.payment_id for d in r.context["cl"].result_list] == [spread["mine"].pk]
    r = browser(staff.admin).get("/admin/payments/webhookdelivery/")
    assert len(r.context["cl"].result_list) == 3
    r = browser(staff.board).get("/admin/payments/paymentevent/")
    assert r.status_code == 200


def test_it_hides_confirmation_codes_in_sms_from_staff(staff, spread):
    sms = OutboundSms.objects.create(to="+84912345678", body="Ma xac nhan 482913 cho 50000d", payment=spread["mine"])
    url = f"/admin/payments/outboundsms/{sms.pk}/change/"
    board_html = browser(staff.board).get(url).content.decode()
    assert "482913" not in board_html and "••••••" in board_html
    assert "482913" in browser(staff.admin).get(url).content.decode()


# --- actions -------------------------------------------------------------------------------


def test_it_assigns_a_queued_credit_from_the_admin_through_the_service(staff, spread):
    queued = spread["queued"]
    client = browser(staff.board)
    page = run_action(client, "assign_to_vendor", [queued])
    assert page.status_code == 200
    vendors = list(page.context["form"].fields["vendor"].queryset)
    assert staff.vendor in vendors and staff.other_vendor not in vendors

    done = run_action(client, "assign_to_vendor", [queued], apply="1", vendor=staff.vendor.pk, note="Chị Hoà xác nhận")
    assert done.status_code == 302
    queued.refresh_from_db()
    assert (queued.vendor_id, queued.attribution) == (staff.vendor.pk, "manual")
    [event] = PaymentEvent.objects.filter(payment=queued)
    assert (event.kind, event.actor, event.data["note"]) == ("assigned", staff.board, "Chị Hoà xác nhận")


def test_it_refuses_a_vendor_outside_the_payments_market(staff, spread):
    queued = spread["queued"]
    r = run_action(browser(staff.officer), "assign_to_vendor", [queued], apply="1", vendor=staff.other_vendor.pk)
    assert r.status_code == 200  # the form comes back with an error
    assert r.context["form"].errors["vendor"]
    queued.refresh_from_db()
    assert queued.vendor_id is None


def test_it_reports_payments_that_were_already_assigned(staff, spread):
    r = run_action(browser(staff.board), "assign_to_vendor", [spread["mine"]], apply="1", vendor=staff.vendor.pk)
    assert r.status_code == 302
    [message] = notes(r)
    assert f"#{spread['mine'].pk}" in message
    assert not PaymentEvent.objects.exists()


def test_it_marks_refunds_and_disputes_from_the_admin(staff, spread):
    failed = PaymentFactory.create(vendor=staff.vendor, status="failed")
    r = run_action(browser(staff.board), "mark_refunded", [spread["mine"], failed])
    assert r.status_code == 302
    spread["mine"].refresh_from_db()
    failed.refresh_from_db()
    assert (spread["mine"].status, failed.status) == ("refunded", "failed")
    assert PaymentEvent.objects.get(payment=spread["mine"]).actor == staff.board
    assert any(f"#{failed.pk}" in m for m in notes(r))

    other = PaymentFactory.create(vendor=staff.vendor)
    run_action(browser(staff.board), "mark_disputed", [other])
    other.refresh_from_db()
    assert other.status == "disputed"


def test_it_gives_a_vendor_no_actions(staff, spread):
    r = run_action(browser(staff.vendor_user), "mark_refunded", [spread["mine"]])
    spread["mine"].refresh_from_db()
    assert spread["mine"].status == "succeeded"
    assert r.status_code in (200, 302)

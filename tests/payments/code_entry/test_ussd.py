"""USSD code entry through the real endpoint and the sandbox rail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from chopay import ussd
from chopay.identifiers import damm_check_digit
from payments.code_entry.rails import SANDBOX_DECLINE, SANDBOX_TIMEOUT_THEN_APPROVE, SANDBOX_TIMEOUT_THEN_DECLINE
from payments.code_entry.tasks import sweep_pending_rail_payments
from payments.models import Channel, ConfirmationCode, OutboundSms, Payment, Source, UssdSession
from tests.factories import MarketFactory, VendorFactory
from tests.payments.code_entry.support import (
    CUSTOMER,
    USSD_SECRET,
    Phone,
    code_for,
    code_in_sms,
    pay,
    sms,
    ussd_secret,
)
from vendors.models import Vendor

__all__ = ["sms", "ussd_secret"]  # fixtures


def _screens_fit(phone: Phone) -> None:
    for reply in phone.replies:
        assert len(reply) <= 160, reply
        assert reply.isascii(), reply
        assert reply.startswith(("CON ", "END "))


def test_it_pays_a_vendor_through_a_complete_session(cast, sms, ussd_secret, django_capture_on_commit_callbacks):
    phone = Phone("ATUid_1", on_commit=django_capture_on_commit_callbacks)

    first = phone.dial()
    assert first == "CON Cho 4.0 - Thanh toan\nNhap ma nguoi ban (8 so):"
    shown = phone.send(cast.vendor.merchant_code)
    assert shown.startswith("CON Nguoi ban: Nguyen Thi Hoa (A-12)\nCho: Cho Dong Quang\n1. Dong y\n2. Huy")
    assert phone.send("1") == "CON Nhap so tien (dong):"
    assert phone.send("20000") == "CON Tra 20.000d cho Nguyen Thi Hoa - Cho Dong Quang?\n1. Xac nhan\n2. Huy"
    done = phone.send("1")

    assert phone.answers == [cast.vendor.merchant_code, "1", "20000", "1"]
    assert done.startswith("END Da tra 20.000d cho Nguyen Thi Hoa.\nMa xac nhan da gui qua SMS.\nMa GD: SBX")
    _screens_fit(phone)

    payment = Payment.objects.get()
    assert payment.status == Payment.Status.SUCCEEDED
    assert (payment.channel, payment.source, payment.attribution) == (Channel.CODE_ENTRY, Source.USSD, "code_entry")
    assert payment.vendor == cast.vendor and payment.market == cast.market
    assert payment.amount == 20_000
    assert payment.provider_txn_id == f"ATUid_1~{UssdSession.objects.get().pk}"
    assert payment.payer_masked == "0987***321"
    assert payment.provider_reference in done

    # Customer and vendor each get the same 6-digit code, which the vendor's key verifies.
    assert sorted(m.to for m in sms.outbox) == sorted([CUSTOMER, cast.vendor.phone])
    codes = {code_in_sms(m.body) for m in sms.outbox}
    assert len(codes) == 1
    code = codes.pop()
    assert len(code) == 6 and code.isdigit()
    counter = ConfirmationCode.objects.get(payment=payment).counter
    assert code == code_for(cast.vendor, counter=counter, amount=20_000)
    assert all(len(m.body) <= 160 and m.body.isascii() for m in sms.outbox)
    assert OutboundSms.objects.filter(payment=payment, status=OutboundSms.Status.SENT).count() == 2


def test_it_never_pays_twice_when_the_aggregator_retries(cast, sms, ussd_secret, django_capture_on_commit_callbacks):
    phone = pay("retry-1", cast.vendor, 35_000, on_commit=django_capture_on_commit_callbacks)
    final = phone.replies[-1]

    assert phone.retry() == final
    assert phone.retry() == final
    # Even a lost stored reply (another instance answering) finds the same payment.
    UssdSession.objects.filter(session_id="retry-1").update(last_reply="")
    assert phone.retry() == final

    assert Payment.objects.count() == 1
    assert len(sms.outbox) == 2


def test_it_re_asks_a_mistyped_or_unknown_code_with_a_reason(cast, ussd_secret):
    phone = Phone("typo-1")
    phone.dial()
    good = cast.vendor.merchant_code
    typo = good[:3] + good[4] + good[3] + good[5:] if good[3] != good[4] else good[:-1] + str((int(good[-1]) + 1) % 10)

    assert phone.send(typo) == "CON Ma sai, kiem tra lai.\nNhap ma nguoi ban (8 so):"
    unknown = "1234567" + damm_check_digit("1234567")
    assert phone.send(unknown) == "CON Khong tim thay nguoi ban.\nNhap ma nguoi ban (8 so):"
    assert phone.send(good).startswith("CON Nguoi ban: Nguyen Thi Hoa")
    _screens_fit(phone)


def test_it_refuses_a_vendor_who_is_not_active(cast, ussd_secret):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.SUSPENDED)
    phone = Phone("suspended-1")
    phone.dial()
    assert phone.send(cast.vendor.merchant_code).startswith("CON Khong tim thay nguoi ban.")


def test_it_re_asks_a_wrong_amount_with_a_reason(cast, ussd_secret):
    phone = Phone("amount-1")
    phone.dial()
    phone.send(cast.vendor.merchant_code)
    phone.send("1")
    assert phone.send("20.000") == "CON So tien chi gom chu so.\nNhap so tien (dong):"
    assert phone.send("999") == "CON Toi thieu 1.000d.\nNhap so tien (dong):"
    assert phone.send("10000001") == "CON Toi da 10.000.000d.\nNhap so tien (dong):"
    assert phone.send("1000").startswith("CON Tra 1.000d cho")


def test_it_ends_after_too_many_wrong_answers(cast, ussd_secret):
    phone = Phone("errors-1")
    phone.dial()
    for _ in range(ussd.MAX_WRONG_ANSWERS):
        assert phone.send("1").startswith("CON Ma sai")
    assert phone.send("1") == "END Nhap sai qua nhieu lan. Vui long thu lai sau."


@pytest.mark.parametrize("at", ["vendor", "summary"])
def test_it_cancels_without_paying(cast, ussd_secret, at):
    phone = Phone(f"cancel-{at}")
    phone.dial()
    phone.send(cast.vendor.merchant_code)
    if at == "summary":
        phone.send("1")
        phone.send("50000")
    assert phone.send("2") == "END Da huy. Ban khong bi tru tien."
    assert not Payment.objects.exists()


def test_it_keeps_every_screen_on_one_page_with_long_names(cast, sms, ussd_secret, django_capture_on_commit_callbacks):
    market = MarketFactory(
        name="Chợ Trung tâm Thương mại Đầu mối Nông sản Thực phẩm Phường Phan Đình Phùng Thái Nguyên"
    )
    vendor = VendorFactory(
        market=market,
        full_name="Nguyễn Thị Thanh Hương Hoàng Phương Ngọc Diễm Kiều Trinh Bảo Châu",
        stall_label="Dãy hàng khô số 123456",
    )
    phone = Phone("long-1", on_commit=django_capture_on_commit_callbacks)
    phone.dial()
    phone.send("0")  # bad code
    phone.send(vendor.merchant_code)
    phone.send("3")  # neither 1 nor 2
    phone.send("1")
    phone.send("abc")
    phone.send("10000000")
    phone.send("9")
    phone.send("1")
    _screens_fit(phone)
    assert "Nguoi ban: Nguyen Thi Thanh Huong. (Day hang.)\nCho: Cho Trung tam Thuong ma." in phone.replies[2]
    assert phone.replies[-1].startswith("END Da tra 10.000.000d")
    assert all(len(m.body) <= 160 for m in sms.outbox)
    # And the end screens that a payment never reaches in this session.
    for reply in [
        ussd.declined_screen(reason="insufficient_funds"),
        ussd.declined_screen(reason="something_new"),
        ussd.pending_screen(),
        ussd.message_screen(ussd.BAD_PHONE),
        ussd.message_screen(ussd.SESSION_MISMATCH),
        ussd.screen(ussd.Dialogue(step=ussd.Step.TOO_LONG)),
    ]:
        assert len(reply.wire) <= 160 and reply.wire.isascii()


def test_it_declines_the_magic_insufficient_funds_amount(cast, sms, ussd_secret, django_capture_on_commit_callbacks):
    phone = pay("decline-1", cast.vendor, SANDBOX_DECLINE, on_commit=django_capture_on_commit_callbacks)

    assert phone.replies[-1] == "END Giao dich khong thanh cong: khong du so du.\nBan khong bi tru tien."
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.FAILED
    assert not ConfirmationCode.objects.exists()
    assert sms.outbox == []
    assert phone.retry() == phone.replies[-2]


def test_it_leaves_a_timed_out_payment_pending_until_the_rail_approves(
    cast, sms, ussd_secret, django_capture_on_commit_callbacks
):
    # No worker runs in this test until we say so (no on_commit execution).
    phone = pay("timeout-ok", cast.vendor, SANDBOX_TIMEOUT_THEN_APPROVE)

    assert phone.replies[-1] == "END Giao dich dang xu ly. Ban se nhan SMS khi co ket qua."
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PENDING
    assert sms.outbox == []

    # The periodic sweep asks the rail once the payment is old enough.
    Payment.objects.filter(pk=payment.pk).update(recorded_at=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        sweep_pending_rail_payments()

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert len(sms.outbox) == 2
    assert phone.retry() == phone.replies[-2]  # the session's answer does not change afterwards


def test_it_fails_a_timed_out_payment_the_rail_declines_and_tells_the_customer(
    cast, sms, ussd_secret, django_capture_on_commit_callbacks
):
    pay("timeout-ko", cast.vendor, SANDBOX_TIMEOUT_THEN_DECLINE, on_commit=django_capture_on_commit_callbacks)

    # With eager tasks the status check scheduled after the timeout ran at once.
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.FAILED
    assert [m.to for m in sms.outbox] == [CUSTOMER]
    assert "khong thanh cong" in sms.outbox[0].body


def test_it_starts_afresh_when_the_aggregator_recycles_a_session_id(
    cast, sms, ussd_secret, django_capture_on_commit_callbacks
):
    first = pay("recycled-7", cast.vendor, 11_000, on_commit=django_capture_on_commit_callbacks)
    UssdSession.objects.filter(session_id="recycled-7").update(updated_at=timezone.now() - dt.timedelta(hours=2))

    second = pay("recycled-7", cast.vendor, 12_000, on_commit=django_capture_on_commit_callbacks)

    assert second.replies[-1].startswith("END Da tra 12.000d") and first.replies[-1].startswith("END Da tra 11.000d")
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [11_000, 12_000]
    assert UssdSession.objects.count() == 2


def test_it_refuses_a_session_reused_from_another_phone(cast, ussd_secret):
    Phone("hijack-1").dial()
    other = Phone("hijack-1", phone="+84912000111")
    assert other.dial() == "END Phien khong hop le."


def test_it_ends_for_a_number_that_is_not_a_vietnamese_mobile(cast, ussd_secret):
    assert Phone("foreign-1", phone="+12025550123").dial() == "END So dien thoai khong duoc ho tro."


def test_it_requires_the_shared_secret(cast, ussd_secret, api, settings):
    body = {"sessionId": "s", "phoneNumber": CUSTOMER, "text": ""}

    missing = api.post("/api/v1/ussd/", body)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_secret"

    wrong = api.post("/api/v1/ussd/", body, HTTP_X_USSD_SECRET="nope")
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "invalid_secret"

    settings.USSD_SHARED_SECRET = ""
    off = api.post("/api/v1/ussd/", body, HTTP_X_USSD_SECRET=USSD_SECRET)
    assert off.status_code == 503
    assert off.json()["error"]["code"] == "ussd_disabled"
    assert not UssdSession.objects.exists()


def test_it_rejects_a_request_without_a_session(cast, ussd_secret, api):
    r = api.post("/api/v1/ussd/", {"phoneNumber": CUSTOMER}, HTTP_X_USSD_SECRET=USSD_SECRET)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "required"

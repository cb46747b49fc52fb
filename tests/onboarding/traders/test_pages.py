"""The volunteer's pages: choosing the market, the new-trader form and its
rules (scope, consent, duplicates, the submission id), the done screen, and
"my traders"."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation
from market.models import VolunteerAssignment
from payments.models import OutboundSms
from tests.conftest import needs_postgres
from tests.factories import MarketFactory, PaymentFactory, VendorFactory, make_volunteer
from tests.onboarding.traders.support import new_url, texts_to, trader_form
from vendors import consent as consents
from vendors.models import Consent, Vendor

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


# --- /onboard/: which market ------------------------------------------------------------


def test_it_goes_straight_to_the_form_of_a_volunteers_only_market(client, cast):
    r = signed_in(client, cast.volunteer).get(reverse("onboard:start"))

    assert r.status_code == 302
    assert r["Location"] == new_url(cast.market)


def test_it_lets_a_volunteer_of_several_markets_choose_and_remembers_it(client, cast):
    VolunteerAssignment.objects.create(user=cast.volunteer, market=cast.other_market)
    signed_in(client, cast.volunteer)

    page = client.get(reverse("onboard:start"))
    assert page.status_code == 200
    html = page.content.decode()
    assert cast.market.name in html and cast.other_market.name in html
    assert cast.far_market.name not in html

    client.get(new_url(cast.other_market))
    assert client.get(reverse("onboard:start"))["Location"] == new_url(cast.other_market)
    assert client.get(reverse("onboard:start") + "?change=1").status_code == 200


@pytest.mark.parametrize("who", ["outsider", "vendor_user"])
def test_it_is_not_found_for_someone_who_onboards_nowhere(client, cast, who):
    assert signed_in(client, getattr(cast, who)).get(reverse("onboard:start")).status_code == 404
    assert client.get(reverse("onboard:traders")).status_code == 404


def test_it_asks_to_sign_in_first(client, cast):
    r = client.get(new_url(cast.market))
    assert r.status_code == 302 and r["Location"].startswith(reverse("accounts:login"))


# --- the form ------------------------------------------------------------------------------


def test_the_form_shows_the_consent_text_and_a_submission_id(client, cast):
    page = signed_in(client, cast.volunteer).get(new_url(cast.market))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Nghị định 13/2023/NĐ-CP" in html
    assert consents.CURRENT.version in html
    form = page.context["form"]
    ref = str(form["client_ref"].value())
    assert uuid.UUID(ref).version == 4
    assert f'name="client_ref" value="{ref}"' in html
    assert "Vietcombank" in html and 'data-search="vietcombank' in html


@pytest.mark.parametrize("market", ["other_market", "far_market", "missing"])
def test_a_market_outside_the_volunteers_is_not_found(client, cast, market):
    url = reverse("onboard:trader-new", args=[987654]) if market == "missing" else new_url(getattr(cast, market))
    signed_in(client, cast.volunteer)

    assert client.get(url).status_code == 404
    assert client.post(url, trader_form()).status_code == 404
    assert not Vendor.objects.filter(phone="+84987654321").exists()


@pytest.mark.parametrize("who", ["board", "officer", "admin"])
def test_those_who_manage_the_market_may_use_the_form_too(client, cast, sms, who):
    r = signed_in(client, getattr(cast, who)).post(new_url(cast.market), trader_form())

    assert r.status_code == 302, r.content.decode()[:2000]
    assert Vendor.objects.get(phone="+84987654321").onboarded_by == getattr(cast, who)


def test_it_registers_a_trader_with_their_consent_and_texts_them(client, cast, sms):
    form = trader_form(full_name="Nguyễn Thị Hoà  Bình", account_name="")

    r = signed_in(client, cast.volunteer).post(new_url(cast.market), form)

    vendor = Vendor.objects.get(phone="+84987654321")
    assert r.status_code == 302
    assert r["Location"] == reverse("onboard:trader", args=[vendor.pk]) + "?done=1&sms=sent"
    assert vendor.market == cast.market
    assert vendor.status == Vendor.Status.PENDING
    assert vendor.full_name == "Nguyễn Thị Hoà Bình"
    assert vendor.account_name == "NGUYEN THI HOA BINH"  # as banks print it
    assert vendor.bank_id == "970422"
    assert vendor.stall_label == "B-03"
    assert str(vendor.client_ref) == form["client_ref"]
    consent = Consent.objects.get(vendor=vendor)
    assert consent.text == consents.CURRENT.text
    assert consent.version == consents.CURRENT.version
    assert consent.collected_by == cast.volunteer
    assert abs(consent.collected_at - timezone.now()) < dt.timedelta(minutes=1)
    assert texts_to("+84987654321") == {"welcome": 1, "invitation": 1, "all": 1}
    welcome = OutboundSms.objects.get(to="+84987654321", body__contains="Ma nguoi ban").body
    code = vendor.merchant_code
    assert f"{code[:4]} {code[4:]}" in welcome and welcome.isascii()
    # The trader's own login, invited (vendors.accounts.vendor_account_invite).
    assert vendor.user is not None and not vendor.user.has_usable_password()
    assert Invitation.objects.filter(user=vendor.user, phone="+84987654321").count() == 1


def test_it_stores_when_the_consent_was_ticked_on_a_form_sent_later(client, cast, sms):
    ticked = timezone.now() - dt.timedelta(hours=3)
    form = trader_form(consent_at=str(int(ticked.timestamp() * 1000)))

    signed_in(client, cast.volunteer).post(new_url(cast.market), form)

    stored = Consent.objects.get(vendor__phone="+84987654321").collected_at
    assert abs(stored - ticked) < dt.timedelta(seconds=1)


def test_it_refuses_to_register_without_the_traders_consent(client, cast, sms):
    r = signed_in(client, cast.volunteer).post(new_url(cast.market), trader_form(consent=None))

    assert r.status_code == 400
    assert "Hãy hỏi sự đồng ý của tiểu thương" in r.content.decode()
    assert not Vendor.objects.filter(phone="+84987654321").exists()
    assert Consent.objects.count() == 0
    assert not OutboundSms.objects.exists()


def test_it_refuses_an_out_of_date_consent_text(client, cast):
    r = signed_in(client, cast.volunteer).post(new_url(cast.market), trader_form(consent_version="nd13-1999"))

    assert r.status_code == 400
    assert not Vendor.objects.filter(phone="+84987654321").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "12345", "không phải số di động Việt Nam"),
        ("account_number", "12", "Số tài khoản có từ 6 đến 19"),
        ("full_name", "", "Nhập tên tiểu thương"),
        ("bank", "", "Chọn ngân hàng"),
    ],
)
def test_it_says_in_vietnamese_what_is_wrong(client, cast, field, value, message):
    r = signed_in(client, cast.volunteer).post(new_url(cast.market), trader_form(**{field: value}))

    assert r.status_code == 400
    assert message in r.content.decode()
    assert Vendor.objects.filter(market=cast.market).count() == 1  # the cast's own


def test_it_accepts_the_phone_as_volunteers_type_it(client, cast, sms):
    signed_in(client, cast.volunteer).post(new_url(cast.market), trader_form(phone="+84 98-765-4321"))

    assert Vendor.objects.filter(phone="+84987654321").exists()


def test_a_resend_of_the_same_form_registers_one_trader_and_one_sms(client, cast, sms):
    form = trader_form()
    signed_in(client, cast.volunteer)

    first = client.post(new_url(cast.market), form)
    again = client.post(new_url(cast.market), form)

    assert first["Location"].endswith("sms=sent")
    assert again.status_code == 302 and again["Location"].endswith("sms=again")
    assert first["Location"].split("?")[0] == again["Location"].split("?")[0]
    assert Vendor.objects.filter(phone="+84987654321").count() == 1
    assert texts_to("+84987654321") == {"welcome": 1, "invitation": 1, "all": 1}


@pytest.mark.parametrize("clash", ["phone", "account"])
def test_a_trader_already_registered_is_shown_instead_of_an_error(client, cast, clash):
    existing = cast.vendor  # Nguyễn Thị Hoà, A-12, active
    form = trader_form(
        phone=existing.phone if clash == "phone" else "0966 111 222",
        bank=existing.bank_id if clash == "account" else "970422",
        account_number=existing.account_number if clash == "account" else "5556667778",
    )

    r = signed_in(client, cast.volunteer).post(new_url(cast.market), form)

    assert r.status_code == 409
    html = r.content.decode()
    assert "Tiểu thương này đã được đăng ký" in html
    assert existing.full_name in html and "A-12" in html and "Đang hoạt động" in html
    assert reverse("onboard:trader", args=[existing.pk]) in html
    assert Vendor.objects.filter(market=cast.market).count() == 1


def test_an_account_of_another_markets_stall_is_explained(client, cast):
    other = cast.other_vendor
    form = trader_form(bank=other.bank_id, account_number=other.account_number)

    r = signed_in(client, cast.volunteer).post(new_url(cast.market), form)

    assert r.status_code == 409
    assert "đã được đăng ký cho một sạp ở chợ khác" in r.content.decode()
    assert other.full_name not in r.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_double_tap_on_send_registers_one_trader(cast, sms):
    needs_postgres()
    for round_ in range(4):
        form = trader_form(phone=f"0977 200 {round_:03d}", account_number=f"55500000{round_:02d}")
        barrier = threading.Barrier(2)
        statuses: list = [None, None]

        def send(index, form=form, barrier=barrier, statuses=statuses):
            try:
                client = Client()
                client.force_login(cast.volunteer)
                barrier.wait()
                statuses[index] = client.post(new_url(cast.market), form)["Location"]
            finally:
                connection.close()

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        assert sorted(location.split("sms=")[1] for location in statuses) == ["again", "sent"]
        vendor = Vendor.objects.get(client_ref=form["client_ref"])
        assert texts_to(vendor.phone) == {"welcome": 1, "invitation": 1, "all": 1}
        assert Consent.objects.filter(vendor=vendor).count() == 1


# --- the done screen ------------------------------------------------------------------------


def test_the_done_screen_shows_the_stall_qr_the_card_and_that_it_awaits_approval(client, cast, sms):
    signed_in(client, cast.volunteer)
    location = client.post(new_url(cast.market), trader_form())["Location"]

    page = client.get(location)

    vendor = Vendor.objects.get(phone="+84987654321")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    assert reverse("vendor-card-pdf", args=[vendor.pk]) in html
    assert "CHỜ DUYỆT" in html
    assert f"{vendor.merchant_code[:4]} {vendor.merchant_code[4:]}" in html
    assert "0987 654 321" in html


def test_a_rejected_trader_has_no_qr_on_screen(client, cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.REJECTED)

    html = signed_in(client, cast.volunteer).get(reverse("onboard:trader", args=[cast.vendor.pk])).content.decode()

    assert "<svg" not in html
    assert "card.pdf" not in html


@pytest.mark.parametrize("who", ["volunteer", "far_officer", "outsider", "vendor_user"])
def test_a_trader_outside_ones_markets_is_not_found(client, cast, who):
    status = signed_in(client, getattr(cast, who)).get(reverse("onboard:trader", args=[cast.other_vendor.pk]))
    assert status.status_code == 404


# --- my traders --------------------------------------------------------------------------


def test_my_traders_says_who_has_been_paid_and_who_came_back(client, cast):
    started = VendorFactory(market=cast.market, full_name="Đã Bán Một Ngày", onboarded_by=cast.volunteer)
    regular = VendorFactory(market=cast.market, full_name="Bán Đều Đặn", onboarded_by=cast.volunteer)
    VendorFactory(
        market=cast.market, full_name="Chưa Bán Gì", onboarded_by=cast.volunteer, status=Vendor.Status.PENDING
    )
    someone_elses = VendorFactory(market=cast.market, full_name="Của Người Khác", onboarded_by=cast.board)
    for vendor, day in [(started, 3), (started, 3), (regular, 5), (regular, 1)]:
        PaymentFactory(vendor=vendor, occurred_at=timezone.now() - dt.timedelta(days=day))

    page = signed_in(client, cast.volunteer).get(reverse("onboard:traders"))

    assert page.status_code == 200
    rows = {row.vendor.full_name: row for row in page.context["page"].object_list}
    assert set(rows) == {"Đã Bán Một Ngày", "Bán Đều Đặn", "Chưa Bán Gì"}
    assert someone_elses.full_name not in page.content.decode()
    assert rows["Chưa Bán Gì"].started is False and rows["Chưa Bán Gì"].needs_visit
    assert rows["Đã Bán Một Ngày"].started and not rows["Đã Bán Một Ngày"].came_back
    assert rows["Bán Đều Đặn"].came_back and not rows["Bán Đều Đặn"].needs_visit
    html = page.content.decode()
    assert "Chưa có lần thanh toán nào" in html and "Đã được trả vào ngày thứ hai" in html
    assert "₫" not in html  # volunteers do not see money

    visit = client.get(reverse("onboard:traders") + "?show=visit")
    assert {r.vendor.full_name for r in visit.context["page"].object_list} == {"Đã Bán Một Ngày", "Chưa Bán Gì"}


def test_my_traders_leaves_out_markets_no_longer_mine(client, cast):
    VendorFactory(market=cast.market, full_name="Ở Chợ Của Tôi", onboarded_by=cast.volunteer)
    gone = MarketFactory(name="Chợ Cũ")
    VendorFactory(market=gone, full_name="Ở Chợ Cũ", onboarded_by=cast.volunteer)

    html = signed_in(client, cast.volunteer).get(reverse("onboard:traders")).content.decode()

    assert "Ở Chợ Của Tôi" in html and "Ở Chợ Cũ" not in html


def test_a_second_volunteer_sees_only_their_own(client, cast):
    other = make_volunteer(cast.market, "volunteer2")
    VendorFactory(market=cast.market, full_name="Của Tôi", onboarded_by=cast.volunteer)

    page = signed_in(client, other).get(reverse("onboard:traders"))

    assert page.context["total"] == 0


def test_it_serves_the_service_worker_for_background_sync(client):
    r = client.get(reverse("onboard:service-worker"))

    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/javascript")
    assert 'addEventListener("sync"' in r.content.decode()


def test_a_form_carrying_someone_elses_submission_id_gets_its_own(client, cast, sms):
    form = trader_form()
    signed_in(client, cast.board).post(new_url(cast.market), form)
    copied = trader_form(client_ref=form["client_ref"], phone="0966 555 444", account_number="1110002223")

    r = signed_in(client, cast.volunteer).post(new_url(cast.market), copied)

    assert r.status_code == 409
    fresh = str(r.context["form"]["client_ref"].value())
    assert fresh != form["client_ref"]
    again = client.post(new_url(cast.market), {**copied, "client_ref": fresh})
    assert again.status_code == 302
    assert Vendor.objects.get(phone="+84966555444").onboarded_by == cast.volunteer

"""The board's pages (/onboard/markets/<id>/…) through Django's test client:
who sees which market, the decisions and their refusals as a board member
meets them, CSRF, and the market's cards."""

from __future__ import annotations

import pytest
from django.test import Client

from chopay import vietqr
from payments.cards.stall_qr import vendor_static_payload
from payments.models import CardBatch
from tests.factories import VendorFactory
from vendors.models import PayoutAccountChange, Vendor, VendorDecision
from vendors.payout_changes import payout_change_request

pytestmark = pytest.mark.django_db

PAGES = ["", "review/", "payout-changes/", "cards/"]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(market, suffix=""):
    return f"/onboard/markets/{market.pk}/{suffix}"


@pytest.fixture
def submitted(cast):
    return VendorFactory(
        market=cast.market, full_name="Phạm Văn Chờ", status=Vendor.Status.PENDING, onboarded_by=cast.volunteer
    )


# --- who sees what ---------------------------------------------------------------------

SEES = {
    "admin": 200,
    "officer": 200,
    "board": 200,
    "volunteer": 404,
    "vendor_user": 404,
    "other_board": 404,
    "far_officer": 404,
    "outsider": 404,
}


@pytest.mark.parametrize("suffix", PAGES)
@pytest.mark.parametrize("role", sorted(SEES))
def test_it_shows_a_markets_board_pages_only_to_who_manages_it(cast, role, suffix):
    r = signed_in(getattr(cast, role)).get(page(cast.market, suffix))

    assert r.status_code == SEES[role]


def test_it_sends_an_anonymous_visitor_to_sign_in(cast):
    r = Client().get(page(cast.market))

    assert r.status_code == 302
    assert r["Location"].startswith("/login/")


def test_it_answers_404_for_a_market_that_does_not_exist(cast):
    assert signed_in(cast.admin).get("/onboard/markets/999999/").status_code == 404


def test_it_cannot_decide_a_trader_of_another_market_through_its_own(cast):
    other = VendorFactory(market=cast.other_market, status=Vendor.Status.PENDING, onboarded_by=cast.volunteer)

    r = signed_in(cast.board).post(page(cast.market, f"review/{other.pk}/approve/"))

    assert r.status_code == 404
    other.refresh_from_db()
    assert other.status == Vendor.Status.PENDING


def test_a_volunteer_cannot_post_a_decision(cast, submitted):
    r = signed_in(cast.volunteer).post(page(cast.market, f"review/{submitted.pk}/approve/"))

    assert r.status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.PENDING


# --- the home page -----------------------------------------------------------------------


def test_the_home_page_counts_what_waits_for_the_board(cast, submitted):
    VendorFactory(market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.volunteer)
    VendorFactory(market=cast.other_market, status=Vendor.Status.PENDING)  # another market's
    payout_change_request(
        actor=cast.vendor_user,
        vendor=cast.vendor,
        bank=cast.vendor.bank,
        account_number="5550009999",
        account_name=cast.vendor.account_name,
        reason="đổi tài khoản",
    )

    r = signed_in(cast.board).get(page(cast.market))

    html = r.content.decode()
    assert r.status_code == 200
    assert "Tiểu thương chờ duyệt" in html  # Vietnamese by default
    review_link = html.split('data-testid="review-link"')[1].split("</a>")[0]
    payouts_link = html.split('data-testid="payouts-link"')[1].split("</a>")[0]
    assert ">2<" in review_link
    assert ">1<" in payouts_link
    assert page(cast.market, "cards/") in html
    assert f'href="/onboard/people/{cast.market.pk}/"' in html  # invite volunteers


# --- decisions -----------------------------------------------------------------------------


def test_the_board_approves_from_the_queue(cast, submitted):
    client = signed_in(cast.board)
    assert "Phạm Văn Chờ" in client.get(page(cast.market, "review/")).content.decode()

    r = client.post(page(cast.market, f"review/{submitted.pk}/approve/"), follow=True)

    assert r.status_code == 200
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.ACTIVE
    assert VendorDecision.objects.filter(vendor=submitted, to_status="active", decided_by=cast.board).count() == 1


def test_the_queue_shows_the_phone_to_call_as_people_write_it(cast, submitted):
    Vendor.objects.filter(pk=submitted.pk).update(phone="+84912000777")
    html = signed_in(cast.board).get(page(cast.market, "review/")).content.decode()

    assert 'href="tel:+84912000777">0912 000 777</a>' in html


def test_the_board_must_give_a_reason_to_reject(cast, submitted):
    client = signed_in(cast.board)

    r = client.post(page(cast.market, f"review/{submitted.pk}/reject/"), {"reason": "  "})

    assert r.status_code == 400
    assert "Phạm Văn Chờ: Hãy nêu lý do từ chối." in r.content.decode()  # in the error summary
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.PENDING
    r = client.post(page(cast.market, f"review/{submitted.pk}/reject/"), {"reason": "Sai số tài khoản"}, follow=True)
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.REJECTED
    assert "Sai số tài khoản" in r.content.decode()  # listed with its reason


def test_the_board_member_who_submitted_sees_no_buttons_and_is_refused(cast):
    own = VendorFactory(market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.board)
    client = signed_in(cast.board)

    html = client.get(page(cast.market, "review/")).content.decode()
    assert 'data-testid="own-submission"' in html
    assert f"review/{own.pk}/approve/" not in html

    r = client.post(page(cast.market, f"review/{own.pk}/approve/"), follow=True)
    own.refresh_from_db()
    assert own.status == Vendor.Status.PENDING
    assert "notice--error" in r.content.decode()


def test_a_decision_needs_the_csrf_token(cast, submitted):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.board)

    r = client.post(page(cast.market, f"review/{submitted.pk}/approve/"))

    assert r.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.PENDING


# --- payout-account changes --------------------------------------------------------------


def qr_pays(vendor):
    qr = vietqr.decode(vendor_static_payload(Vendor.objects.get(pk=vendor.pk)))
    return qr.bank_bin, qr.account_number


@pytest.fixture
def change(cast):
    return payout_change_request(
        actor=cast.vendor_user,
        vendor=cast.vendor,
        bank=cast.vendor.bank,
        account_number="5550009999",
        account_name=cast.vendor.account_name,
        reason="đổi ngân hàng",
    )


def test_the_qr_changes_only_when_the_board_approves(cast, change):
    before = qr_pays(cast.vendor)
    client = signed_in(cast.board)
    assert "5550009999" in client.get(page(cast.market, "payout-changes/")).content.decode()
    assert qr_pays(cast.vendor) == before  # waiting: the stall still pays the old account

    client.post(page(cast.market, f"payout-changes/{change.pk}/approve/"))

    assert qr_pays(cast.vendor) == (before[0], "5550009999")
    change.refresh_from_db()
    assert change.outcome == PayoutAccountChange.Outcome.APPROVED


def test_a_rejected_change_keeps_the_old_account_and_needs_a_reason(cast, change):
    before = qr_pays(cast.vendor)
    client = signed_in(cast.officer)

    assert client.post(page(cast.market, f"payout-changes/{change.pk}/reject/"), {"reason": ""}).status_code == 400
    client.post(page(cast.market, f"payout-changes/{change.pk}/reject/"), {"reason": "chủ tài khoản khác tên"})

    change.refresh_from_db()
    assert change.outcome == PayoutAccountChange.Outcome.REJECTED
    assert change.decision_reason == "chủ tài khoản khác tên"
    assert qr_pays(cast.vendor) == before


def test_whoever_asked_for_a_change_cannot_approve_it(cast):
    second = VendorFactory(market=cast.market)
    asked = payout_change_request(
        actor=cast.volunteer,
        vendor=second,
        bank=second.bank,
        account_number="5550008888",
        account_name=second.account_name,
        reason="đổi",
    )
    # The volunteer who asked does not even see the page; a board member who asked is refused.
    assert signed_in(cast.volunteer).get(page(cast.market, "payout-changes/")).status_code == 404
    asked.requested_by = cast.board
    asked.save(update_fields=["requested_by"])

    client = signed_in(cast.board)
    assert 'data-testid="own-submission"' in client.get(page(cast.market, "payout-changes/")).content.decode()
    client.post(page(cast.market, f"payout-changes/{asked.pk}/approve/"))

    asked.refresh_from_db()
    assert asked.outcome == PayoutAccountChange.Outcome.PENDING


# --- the market's cards ---------------------------------------------------------------------


def test_the_print_button_starts_the_batch_and_links_the_pdf(
    cast, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = signed_in(cast.board)
    page_before = client.get(page(cast.market, "cards/")).content.decode()
    assert 'data-testid="print"' in page_before
    assert "/download/" not in page_before

    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(cast.market, "cards/"))
    r = client.get(page(cast.market, "cards/"))

    batch = CardBatch.objects.get(market=cast.market)
    html = r.content.decode()
    assert batch.status == CardBatch.Status.DONE, batch.error
    assert f"/api/v1/markets/{cast.market.pk}/cards-jobs/{batch.pk}/download/" in html
    pdf = client.get(f"/api/v1/markets/{cast.market.pk}/cards-jobs/{batch.pk}/download/")
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_the_markets_dashboard_links_the_boards_page(cast):
    r = signed_in(cast.board).get(f"/dashboard/markets/{cast.market.pk}/")

    assert r.status_code == 200
    assert f'href="{page(cast.market)}"' in r.content.decode()


def test_the_provinces_dashboard_links_its_people_and_its_import(cast):
    html = signed_in(cast.officer).get("/dashboard/provinces/19/").content.decode()

    assert 'href="/onboard/people/"' in html
    assert 'href="/onboard/provinces/19/import/"' in html
    assert signed_in(cast.officer).get("/onboard/provinces/19/import/").status_code == 200


# --- correcting a rejected registration ----------------------------------------------------


def correction(vendor, **overrides):
    data = {
        "full_name": vendor.full_name,
        "phone": vendor.phone,
        "stall_label": vendor.stall_label,
        "goods_category": vendor.goods_category,
        "bank": vendor.bank_id,
        "account_number": vendor.account_number,
        "account_name": vendor.account_name,
    }
    data.update(overrides)
    return data


@pytest.fixture
def rejected(cast, submitted):
    from vendors.reviews import vendor_reject

    vendor_reject(actor=cast.board, vendor=submitted, reason="Sai tên chủ tài khoản")
    submitted.refresh_from_db()
    return submitted


def test_the_volunteer_corrects_the_account_and_sends_it_again(cast, rejected):
    client = signed_in(cast.volunteer)
    url = page(cast.market, f"traders/{rejected.pk}/correct/")
    assert "Sai tên chủ tài khoản" in client.get(url).content.decode()

    r = client.post(url, correction(rejected, account_name="Phạm Văn Chờ", account_number="0123 456 789"), follow=True)

    assert r.status_code == 200
    rejected.refresh_from_db()
    assert rejected.status == Vendor.Status.PENDING
    assert (rejected.account_name, rejected.account_number) == ("PHAM VAN CHO", "0123456789")
    assert list(rejected.decisions.order_by("id").values_list("to_status", "decided_by__username")) == [
        ("rejected", "board"),
        ("pending", "volunteer"),
    ]
    assert 'data-testid="status"' in r.content.decode()  # no form any more: it waits for the board


def test_a_correction_with_a_bad_phone_is_shown_on_the_form_and_nothing_changes(cast, rejected):
    r = signed_in(cast.volunteer).post(
        page(cast.market, f"traders/{rejected.pk}/correct/"), correction(rejected, phone="12345")
    )

    assert r.status_code == 400
    assert 'data-testid="errors"' in r.content.decode()
    rejected.refresh_from_db()
    assert rejected.status == Vendor.Status.REJECTED


def test_a_correction_cannot_take_a_neighbours_phone(cast, rejected):
    r = signed_in(cast.volunteer).post(
        page(cast.market, f"traders/{rejected.pk}/correct/"), correction(rejected, phone=cast.vendor.phone)
    )

    assert r.status_code == 400
    rejected.refresh_from_db()
    assert rejected.status == Vendor.Status.REJECTED


@pytest.mark.parametrize("role", ["other_board", "far_officer", "outsider", "vendor_user"])
def test_nobody_outside_the_market_corrects_it(cast, rejected, role):
    r = signed_in(getattr(cast, role)).post(page(cast.market, f"traders/{rejected.pk}/correct/"), correction(rejected))

    assert r.status_code == 404
    rejected.refresh_from_db()
    assert rejected.status == Vendor.Status.REJECTED


def test_a_pending_registration_has_no_correction_form(cast, submitted):
    r = signed_in(cast.volunteer).post(page(cast.market, f"traders/{submitted.pk}/correct/"), correction(submitted))

    assert r.status_code == 200
    assert "<form" not in r.content.decode().split("<main")[1].split("</main>")[0]
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.PENDING


def test_the_volunteers_trader_page_links_the_correction_of_a_rejected_trader(cast, rejected):
    r = signed_in(cast.volunteer).get(f"/onboard/traders/{rejected.pk}/")

    assert r.status_code == 200
    assert f'href="{page(cast.market, f"traders/{rejected.pk}/correct/")}"' in r.content.decode()

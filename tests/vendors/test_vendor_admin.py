"""The vendor admin, in Vietnamese, scoped like the API."""

from __future__ import annotations

import pytest
from django.test import Client

from chopay.identifiers import is_valid_merchant_code
from tests.factories import VendorFactory
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/vendors/vendor/"


def staff_client(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def change_url(vendor: Vendor) -> str:
    return f"/admin/vendors/vendor/{vendor.pk}/change/"


def form_data(vendor: Vendor, **overrides) -> dict:
    data = {
        "market": vendor.market_id,
        "full_name": vendor.full_name,
        "phone": vendor.phone,
        "stall_label": vendor.stall_label,
        "goods_category": vendor.goods_category,
        "bank": vendor.bank_id,
        "account_number": vendor.account_number,
        "account_name": vendor.account_name,
        "status": vendor.status,
        "user": vendor.user_id or "",
        "_save": "Lưu",
        # The read-only payout-change history inline, as the page renders it.
        "payout_changes-TOTAL_FORMS": str(vendor.payout_changes.count()),
        "payout_changes-INITIAL_FORMS": str(vendor.payout_changes.count()),
    }
    data.update(overrides)
    return data


# role -> the cast vendors it sees in the admin
VISIBLE = {
    "admin": {"vendor", "other_vendor"},
    "officer": {"vendor", "other_vendor"},
    "board": {"vendor"},
    "other_board": {"other_vendor"},
    "volunteer": {"vendor"},
    "vendor_user": {"vendor"},
}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_it_lists_only_the_vendors_in_scope(cast, role):
    client = staff_client(getattr(cast, role))

    r = client.get(CHANGELIST)

    assert r.status_code == 200
    page = r.content.decode()
    for name in ("vendor", "other_vendor"):
        shown = getattr(cast, name).merchant_code in page
        assert shown == (name in VISIBLE[role]), name


def test_it_shows_a_vendor_user_only_their_own_record(cast):
    neighbour = VendorFactory(market=cast.market)
    client = staff_client(cast.vendor_user)

    page = client.get(CHANGELIST).content.decode()

    assert cast.vendor.merchant_code in page
    assert neighbour.merchant_code not in page
    assert client.get(change_url(neighbour)).status_code in (302, 403, 404)


@pytest.mark.parametrize("role", ["board", "volunteer", "officer", "admin"])
def test_it_opens_a_vendor_in_scope(cast, role):
    r = staff_client(getattr(cast, role)).get(change_url(cast.vendor))

    assert r.status_code == 200
    assert cast.vendor.full_name in r.content.decode()


@pytest.mark.parametrize("role", ["board", "volunteer", "vendor_user"])
def test_it_hides_another_markets_vendor(cast, role):
    client = staff_client(getattr(cast, role))

    r = client.get(change_url(cast.other_vendor))
    posted = client.post(change_url(cast.other_vendor), form_data(cast.other_vendor, stall_label="HACK"))

    # Django's admin answers a row outside the queryset with a redirect to the index.
    assert r.status_code in (302, 403, 404)
    assert posted.status_code in (302, 403, 404)
    cast.other_vendor.refresh_from_db()
    assert cast.other_vendor.stall_label != "HACK"


def test_it_refuses_staff_without_a_role(cast):
    r = staff_client(cast.outsider).get(CHANGELIST)

    assert r.status_code == 403


def test_it_sends_non_staff_to_the_login_page(cast):
    client = Client()
    client.force_login(cast.board)  # a board member without is_staff

    r = client.get(CHANGELIST)

    assert r.status_code == 302
    assert "/admin/login/" in r["Location"]


def test_it_lets_the_board_edit_a_vendor_with_the_apis_rules(cast):
    client = staff_client(cast.board)

    r = client.post(
        change_url(cast.vendor),
        form_data(cast.vendor, phone="0388 123 456", account_name="Nguyễn Thị Hoà", stall_label="B-01"),
    )

    assert r.status_code == 302, r.content.decode()[:2000]
    cast.vendor.refresh_from_db()
    assert (cast.vendor.phone, cast.vendor.account_name, cast.vendor.stall_label) == (
        "+84388123456",
        "NGUYEN THI HOA",
        "B-01",
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "024 3825 1234"),
        ("phone", "02438251234"),  # short enough for the model field: reaches the phone check
    ],
)
def test_it_shows_a_form_error_for_bad_input(cast, field, value):
    client = staff_client(cast.board)
    before = Vendor.objects.get(pk=cast.vendor.pk)

    r = client.post(change_url(cast.vendor), form_data(cast.vendor, **{field: value}))

    assert r.status_code == 200  # the form again, with errors; never a 500
    assert r.context["adminform"].form.errors
    after = Vendor.objects.get(pk=cast.vendor.pk)
    assert getattr(after, field) == getattr(before, field)


def test_it_refuses_an_illegal_status_change(cast):
    client = staff_client(cast.board)

    r = client.post(change_url(cast.vendor), form_data(cast.vendor, status="pending"))

    assert r.status_code == 200
    assert "status" in r.context["adminform"].form.errors
    cast.vendor.refresh_from_db()
    assert cast.vendor.status == Vendor.Status.ACTIVE


def test_it_refuses_a_neighbours_phone(cast):
    neighbour = VendorFactory(market=cast.market)
    client = staff_client(cast.board)

    r = client.post(change_url(cast.vendor), form_data(cast.vendor, phone=neighbour.phone))

    assert r.status_code == 200
    cast.vendor.refresh_from_db()
    assert cast.vendor.phone != neighbour.phone


def test_it_does_not_let_a_volunteer_change_a_status(cast):
    # As in the API, activation and suspension belong to the board and the province.
    client = staff_client(cast.volunteer)

    r = client.post(change_url(cast.vendor), form_data(cast.vendor, status="suspended", stall_label="B-7"))

    # The form was accepted (the other change is saved), with status read-only:
    # not refused for some unrelated reason that would leave the status alone too.
    assert r.status_code == 302
    cast.vendor.refresh_from_db()
    assert cast.vendor.stall_label == "B-7"
    assert cast.vendor.status == Vendor.Status.ACTIVE


def test_it_does_not_let_a_vendor_change_their_record_in_the_admin(cast):
    client = staff_client(cast.vendor_user)

    r = client.post(change_url(cast.vendor), form_data(cast.vendor, status="suspended", stall_label="Z"))

    assert r.status_code == 403
    cast.vendor.refresh_from_db()
    assert (cast.vendor.status, cast.vendor.stall_label) == (Vendor.Status.ACTIVE, "A-12")


def test_it_assigns_a_merchant_code_when_a_superuser_adds_vendors(cast):
    client = staff_client(cast.admin)

    for n, phone in enumerate(["0912 000 001", "0912 000 002"]):
        r = client.post(
            "/admin/vendors/vendor/add/",
            {
                "market": cast.market.pk,
                "full_name": f"Người mới {n}",
                "phone": phone,
                "stall_label": f"N-{n}",
                "goods_category": "other",
                "bank": "970436",
                "account_number": f"55500000{n}",
                "account_name": "Người mới",
                "status": "pending",
                "user": "",
                "_save": "Lưu",
            },
        )
        assert r.status_code == 302, r.content.decode()[:3000]

    added = Vendor.objects.filter(full_name__startswith="Người mới")
    assert added.count() == 2
    for vendor in added:
        assert is_valid_merchant_code(vendor.merchant_code)
        assert vendor.onboarded_by == cast.admin


@pytest.mark.parametrize(("field", "value"), [("account_number", "12-34"), ("account_name", "???")])
def test_it_checks_the_account_of_a_vendor_added_by_hand(cast, field, value):
    data = {
        "market": cast.market.pk,
        "full_name": "Người mới",
        "phone": "0912 000 009",
        "stall_label": "N-9",
        "goods_category": "other",
        "bank": "970436",
        "account_number": "555000009",
        "account_name": "Người mới",
        "status": "pending",
        "user": "",
        "_save": "Lưu",
    }

    r = staff_client(cast.admin).post("/admin/vendors/vendor/add/", {**data, field: value})

    assert r.status_code == 200  # the form again, with errors; never a 500
    assert r.context["adminform"].form.errors
    assert not Vendor.objects.filter(full_name="Người mới").exists()


def test_it_speaks_vietnamese(cast):
    page = staff_client(cast.board).get(CHANGELIST).content.decode()

    assert "tiểu thương" in page.lower()
    assert "Quản trị Chợ 4.0" in page
    assert "Thoát" in page  # Django's own "Log out"


def test_it_accepts_a_phone_written_with_country_code_and_spaces(cast):
    r = staff_client(cast.board).post(change_url(cast.vendor), form_data(cast.vendor, phone="+84 388 123 456"))

    assert r.status_code == 302
    cast.vendor.refresh_from_db()
    assert cast.vendor.phone == "+84388123456"


def test_it_lets_a_volunteer_fix_a_vendors_details(cast):
    client = staff_client(cast.volunteer)

    r = client.post(change_url(cast.vendor), form_data(cast.vendor, stall_label="A-12b"))

    assert r.status_code == 302
    cast.vendor.refresh_from_db()
    assert cast.vendor.stall_label == "A-12b"


@pytest.mark.parametrize("role", ["board", "volunteer", "vendor_user"])
def test_it_offers_only_markets_in_scope_in_the_changelist_filter(cast, role):
    client = staff_client(getattr(cast, role))

    page = client.get(CHANGELIST).content.decode()

    assert cast.market.name in page  # the filter of one's own market
    assert cast.other_market.name not in page  # not the next market's name (it used to list every market)
    assert cast.far_market.name not in page


def test_it_does_not_let_the_admin_put_a_stall_onto_another_markets_account(cast):
    # Security issue, hole 1: the admin applies vendors.services.account_claim_check too.
    # (An existing stall's account is read-only in the admin: hole 2.)
    from tests.factories import make_board

    far_board = make_board(cast.far_market, "far_board")
    client = staff_client(far_board)

    r = client.post(
        "/admin/vendors/vendor/add/",
        form_data(cast.vendor, market=cast.far_market.pk, phone="+84987650001", user="", status="pending"),
    )

    # Only superusers add vendors in the admin (staff onboard through the API,
    # where account_claim_check applies), and an existing stall's account is read-only.
    assert r.status_code == 403
    assert cast.vendor.merchant_code not in r.content.decode()
    assert not Vendor.objects.filter(market=cast.far_market, account_number=cast.vendor.account_number).exists()


def test_the_admin_shows_claims_read_only(cast):
    client = staff_client(cast.admin)

    r = client.get("/admin/vendors/sharedaccountclaim/")

    assert r.status_code == 200


# --- the review's rules hold in the admin too (vendors.reviews) --------------------------


def test_it_refuses_an_approval_by_whoever_submitted_the_trader(cast):
    own = VendorFactory(market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.board)
    client = staff_client(cast.board)

    r = client.post(change_url(own), form_data(own, status="active"))

    assert r.status_code == 200  # the form again, with the refusal on the status
    assert "status" in r.context["adminform"].form.errors
    own.refresh_from_db()
    assert own.status == Vendor.Status.PENDING


def test_it_records_a_status_change_made_in_the_admin(cast):
    submitted = VendorFactory(market=cast.market, status=Vendor.Status.PENDING, onboarded_by=cast.volunteer)
    client = staff_client(cast.board)

    r = client.post(change_url(submitted), form_data(submitted, status="active"))

    assert r.status_code == 302, r.content.decode()[:2000]
    submitted.refresh_from_db()
    assert submitted.status == Vendor.Status.ACTIVE
    assert list(submitted.decisions.values_list("from_status", "to_status", "decided_by__username")) == [
        ("pending", "active", "board")
    ]


def test_it_adds_a_trader_only_as_pending(cast):
    client = staff_client(cast.admin)

    r = client.post(
        "/admin/vendors/vendor/add/",
        {
            "market": cast.market.pk,
            "full_name": "Lê Thị Mới",
            "phone": "0912 777 888",
            "stall_label": "C-1",
            "goods_category": "other",
            "bank": "970436",
            "account_number": "7770001112",
            "account_name": "LE THI MOI",
            "status": "active",
        },
    )

    assert r.status_code == 200  # the form again: a new trader waits for review
    assert "status" in r.context["adminform"].form.errors
    assert not Vendor.objects.filter(full_name="Lê Thị Mới").exists()

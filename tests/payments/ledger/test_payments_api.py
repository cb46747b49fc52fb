"""GET /api/v1/payments/ (+ retrieve, CSV export, daily summary): who sees
which payment, the filters, and numbers computed from seeded payments."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from payments.models import Payment
from tests.conftest import client_for
from tests.factories import PaymentFactory, VendorFactory

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, 3, day, hour, minute, tzinfo=VN)


@dataclass
class Seed:
    morning: Payment  # cast.vendor, 1 March 08:00, static QR
    late: Payment  # cast.vendor, 1 March 23:30 (16:30 UTC): still the 1st in Vietnam
    after_midnight: Payment  # cast.vendor, 2 March 00:15 (1 March 17:15 UTC): the 2nd in Vietnam
    failed: Payment  # cast.vendor, failed: listed but never counted
    other: Payment  # cast.other_vendor (other market, same province)
    far: Payment  # a vendor in Hà Nội
    unmatched: Payment  # no vendor, arrived in cast.market
    stray: Payment  # no vendor, no market, unknown account

    def ids(self, *names: str) -> set[int]:
        return {getattr(self, name).id for name in names}


@pytest.fixture
def seed(cast) -> Seed:
    far_vendor = VendorFactory.create(market=cast.far_market, full_name="Phạm Văn Hà")
    return Seed(
        morning=PaymentFactory.create(vendor=cast.vendor, amount=50_000, channel="static_qr", occurred_at=vn(1, 8)),
        late=PaymentFactory.create(
            vendor=cast.vendor, amount=120_000, channel="dynamic_qr", source="payos", occurred_at=vn(1, 23, 30)
        ),
        after_midnight=PaymentFactory.create(
            vendor=cast.vendor, amount=30_000, channel="code_entry", source="ussd", occurred_at=vn(2, 0, 15)
        ),
        failed=PaymentFactory.create(vendor=cast.vendor, amount=999, status="failed", occurred_at=vn(1, 9)),
        other=PaymentFactory.create(vendor=cast.other_vendor, amount=70_000, occurred_at=vn(1, 10)),
        far=PaymentFactory.create(vendor=far_vendor, amount=90_000, occurred_at=vn(1, 11)),
        unmatched=PaymentFactory.create(
            vendor=None, market=cast.market, amount=40_000, receiving_account="999000111", occurred_at=vn(1, 12)
        ),
        stray=PaymentFactory.create(vendor=None, market=None, amount=10_000, receiving_account="123123123",
                             occurred_at=vn(1, 13)),
    )  # fmt: skip


MINE = ("morning", "late", "after_midnight", "failed")
VISIBLE = {
    "admin": (*MINE, "other", "far", "unmatched", "stray"),
    "officer": (*MINE, "other", "unmatched"),
    "board": (*MINE, "unmatched"),
    "other_board": ("other",),
    "vendor_user": MINE,
    "volunteer": (),
    "far_officer": ("far",),
    "outsider": (),
}


def list_ids(client: APIClient, query: str = "") -> list[int]:
    r = client.get(f"/api/v1/payments/{query}")
    assert r.status_code == 200, r.content
    return [p["id"] for p in r.json()["results"]]


# --- scope ----------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_it_lists_only_the_payments_in_the_callers_scope(cast, seed, role):
    ids = list_ids(client_for(getattr(cast, role)))
    assert set(ids) == seed.ids(*VISIBLE[role])
    assert len(ids) == len(set(ids)), "a payment is listed twice"


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_it_retrieves_a_payment_only_within_scope(cast, seed, role):
    client = client_for(getattr(cast, role))
    for name in ("morning", "other", "far", "unmatched", "stray"):
        r = client.get(f"/api/v1/payments/{getattr(seed, name).id}/")
        expected = 200 if name in VISIBLE[role] else 404
        assert r.status_code == expected, (role, name, r.content)
        if expected == 404:
            assert r.json()["error"]["code"] == "not_found"


def test_it_requires_authentication_everywhere(api, seed):
    for url in (
        "/api/v1/payments/",
        f"/api/v1/payments/{seed.morning.id}/",
        "/api/v1/payments/export.csv",
        "/api/v1/payments/summary/",
        "/api/v1/payments/unmatched/",
    ):
        r = api.get(url)
        assert r.status_code == 401, url
        assert r.json()["error"]["code"] == "not_authenticated"


def test_it_shows_a_stray_credit_to_the_board_holding_its_account_and_their_officer(cast, seed):
    # A credit queued without a market (say from before attribution sent an
    # account held in several markets to the first stall): the scope holding
    # the receiving account sees it — other_vendor's board and their officer.
    stray = PaymentFactory.create(vendor=None, market=None, receiving_account=cast.other_vendor.account_number)
    assert stray.id in list_ids(client_for(cast.officer))
    assert stray.id in list_ids(client_for(cast.other_board))
    assert stray.id not in list_ids(client_for(cast.board))
    assert stray.id not in list_ids(client_for(cast.far_officer))
    assert stray.id in list_ids(client_for(cast.admin))


def test_it_shows_a_vendor_who_is_also_a_board_member_both(cast, seed):
    from market.models import BoardMember

    BoardMember.objects.create(user=cast.vendor_user, market=cast.other_market)
    assert set(list_ids(client_for(cast.vendor_user))) == seed.ids(*MINE, "other")


# --- shape ----------------------------------------------------------------------


def test_it_renders_the_documented_fields_in_vietnam_time(cast, seed):
    r = client_for(cast.vendor_user).get(f"/api/v1/payments/?vendor={cast.vendor.id}&ordering=occurred_at")
    first = r.json()["results"][0]
    required = {"id", "vendor", "market", "amount", "channel", "source", "status", "occurred_at",
                "payment_request", "provider_reference"}  # fmt: skip
    assert required <= set(first)
    assert first["id"] == seed.morning.id
    assert first["vendor"] == cast.vendor.id
    assert first["market"] == cast.market.id
    assert first["amount"] == 50_000
    assert first["channel"] == "static_qr"
    assert first["status"] == "succeeded"
    assert first["occurred_at"] == "2025-03-01T08:00:00+07:00"
    assert first["local_date"] == "2025-03-01"
    assert first["payment_request"] is None
    # The raw transfer content and receiving account are for the detail view only.
    assert "content" not in first and "receiving_account" not in first


def test_it_retrieves_a_payment_with_its_audit_trail(cast, seed):
    seed.morning.transition("disputed", actor=cast.board, data={"note": "khách báo nhầm"})
    r = client_for(cast.vendor_user).get(f"/api/v1/payments/{seed.morning.id}/")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "disputed"
    assert [(e["kind"], e["actor"], e["data"]) for e in body["events"]] == [
        ("status:disputed", "board", {"from": "succeeded", "note": "khách báo nhầm"})
    ]


def test_it_paginates(cast, seed):
    r = client_for(cast.admin).get("/api/v1/payments/?page_size=3")
    body = r.json()
    assert body["count"] == 8
    assert len(body["results"]) == 3
    assert body["next"]


def test_it_orders_newest_first_by_default_and_on_request(cast, seed):
    client = client_for(cast.vendor_user)
    assert list_ids(client) == [seed.after_midnight.id, seed.late.id, seed.failed.id, seed.morning.id]
    assert list_ids(client, "?ordering=amount") == [seed.failed.id, seed.after_midnight.id, seed.morning.id,
                                                   seed.late.id]  # fmt: skip


# --- filters --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?channel=dynamic_qr", ("late",)),
        ("?status=failed", ("failed",)),
        ("?source=ussd", ("after_midnight",)),
        ("?date_from=2025-03-01&date_to=2025-03-01", ("morning", "late", "failed", "unmatched")),
        ("?date_from=2025-03-02", ("after_midnight",)),
        ("?date_to=2025-02-28", ()),
        # Instants: 23:00 Vietnam on the 1st = 16:00 UTC.
        ("?occurred_after=2025-03-01T16:00:00Z", ("late", "after_midnight")),
        ("?occurred_before=2025-03-01T09:00:00%2B07:00", ("morning",)),
        ("?occurred_after=2025-03-01T09:00:00&occurred_before=2025-03-01T12:00:00", ("failed",)),
        ("?unmatched=true", ("unmatched",)),
        ("?attribution=unmatched", ("unmatched",)),
    ],
)
def test_it_filters_the_list(cast, seed, query, expected):
    assert set(list_ids(client_for(cast.board), query)) == seed.ids(*expected)


def test_it_filters_by_vendor_and_market_within_scope_only(cast, seed):
    officer = client_for(cast.officer)
    assert set(list_ids(officer, f"?vendor={cast.other_vendor.id}")) == seed.ids("other")
    assert set(list_ids(officer, f"?market={cast.market.id}")) == seed.ids(*MINE, "unmatched")
    # Naming a vendor or market outside one's scope finds nothing, and says nothing about it.
    assert list_ids(client_for(cast.board), f"?vendor={cast.other_vendor.id}") == []
    assert list_ids(client_for(cast.board), f"?market={cast.far_market.id}") == []


def test_it_searches_by_bank_reference(cast, seed):
    assert list_ids(client_for(cast.board), f"?search={seed.late.provider_reference}") == [seed.late.id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?date_from=01-03-2025x", "date_from"),
        ("?channel=cash", "channel"),
        ("?status=paid", "status"),
        ("?vendor=abc", "vendor"),
        ("?vendor=1.5", "vendor"),
        ("?market=99999999999999999999999999", "market"),  # past bigint: a 400, not a database error
        ("?vendor=%C2%B2", "vendor"),  # "²"
        ("?occurred_after=yesterday", "occurred_after"),
    ],
)
def test_it_rejects_bad_filters_with_a_400(cast, seed, query, field):
    r = client_for(cast.board).get(f"/api/v1/payments/{query}")
    assert r.status_code == 400, r.content
    assert field in r.json()["error"]["fields"]


# --- CSV --------------------------------------------------------------------------


def read_csv(response) -> list[dict[str, str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode()), "Excel needs the UTF-8 BOM"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_it_exports_the_filtered_payments_as_csv(cast, seed):
    r = client_for(cast.board).get("/api/v1/payments/export.csv?date_from=2025-03-01&date_to=2025-03-01")
    assert r.status_code == 200
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"] == 'attachment; filename="payments_2025-03-01_2025-03-01.csv"'
    rows = read_csv(r)
    assert {int(row["id"]) for row in rows} == seed.ids("morning", "late", "failed", "unmatched")
    late = next(row for row in rows if int(row["id"]) == seed.late.id)
    assert late["occurred_at"] == "2025-03-01 23:30:00"  # Vietnam time, not 16:30 UTC
    assert late["local_date"] == "2025-03-01"
    assert late["amount"] == "120000"
    assert late["vendor_name"] == "Nguyễn Thị Hoà"
    assert late["market_name"] == "Chợ Đồng Quang"
    assert late["channel"] == "dynamic_qr"
    assert late["source"] == "payos"
    assert late["provider_reference"] == seed.late.provider_reference
    unmatched = next(row for row in rows if int(row["id"]) == seed.unmatched.id)
    assert unmatched["vendor"] == "" and unmatched["vendor_name"] == ""
    assert unmatched["market_code"] == "TN-DQ"


def test_it_exports_only_the_callers_payments(cast, seed):
    rows = read_csv(client_for(cast.vendor_user).get("/api/v1/payments/export.csv"))
    assert {int(row["id"]) for row in rows} == seed.ids(*MINE)
    rows = read_csv(client_for(cast.volunteer).get("/api/v1/payments/export.csv"))
    assert rows == []


def test_it_names_the_export_after_its_date_range(cast, seed):
    client = client_for(cast.board)
    r = client.get("/api/v1/payments/export.csv?date_from=2025-03-02")
    assert 'filename="payments_from_2025-03-02.csv"' in r["Content-Disposition"]
    r = client.get("/api/v1/payments/export.csv")
    assert 'filename="payments_all_' in r["Content-Disposition"]


def test_it_defuses_spreadsheet_formulas_from_the_bank(cast, seed):
    PaymentFactory.create(vendor=cast.vendor, content='=HYPERLINK("http://evil")', payer_masked="+8491***123")
    rows = read_csv(client_for(cast.vendor_user).get("/api/v1/payments/export.csv"))
    evil = next(row for row in rows if row["content"])
    assert evil["content"] == '\'=HYPERLINK("http://evil")'
    assert evil["payer_masked"] == "'+8491***123"


def test_it_answers_a_bad_export_filter_in_json_even_when_csv_is_asked_for(cast, seed):
    r = client_for(cast.board).get("/api/v1/payments/export.csv?date_from=nope", HTTP_ACCEPT="text/csv")
    assert r.status_code == 400
    assert r.json()["error"]["fields"]["date_from"]


def test_it_streams_the_export_in_constant_queries(cast, seed):
    def export_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = read_csv(client_for(cast.vendor_user).get("/api/v1/payments/export.csv"))
        return len(rows), len(queries.captured_queries)

    rows_before, queries_before = export_queries()
    for _ in range(30):
        PaymentFactory.create(vendor=cast.vendor)
    rows_after, queries_after = export_queries()
    assert (rows_before, rows_after) == (4, 34)
    assert queries_after == queries_before  # no query per row (vendor, market, request names come joined)


# --- summary ----------------------------------------------------------------------


def summary(client: APIClient, query: str) -> dict:
    r = client.get(f"/api/v1/payments/summary/{query}")
    assert r.status_code == 200, r.content
    return r.json()


def test_it_summarises_a_vendors_days_by_vietnam_calendar(cast, seed):
    body = summary(client_for(cast.vendor_user), "?date_from=2025-03-01&date_to=2025-03-03")
    day1, day2, day3 = body["days"]
    # The failed payment (999 ₫) is not money received and is left out.
    assert (day1["date"], day1["count"], day1["amount"], day1["average_ticket"]) == ("2025-03-01", 2, 170_000, 85_000)
    assert day1["by_channel"]["static_qr"] == {"count": 1, "amount": 50_000}
    assert day1["by_channel"]["dynamic_qr"] == {"count": 1, "amount": 120_000}
    assert day1["by_channel"]["code_entry"] == {"count": 0, "amount": 0}
    assert (day2["date"], day2["count"], day2["amount"]) == ("2025-03-02", 1, 30_000)
    assert day2["by_channel"]["code_entry"] == {"count": 1, "amount": 30_000}
    # A day without sales is listed with zeros.
    assert (day3["date"], day3["count"], day3["amount"], day3["average_ticket"]) == ("2025-03-03", 0, 0, 0)
    assert body["totals"]["count"] == 3
    assert body["totals"]["amount"] == 200_000
    assert body["totals"]["average_ticket"] == 66_667  # 200 000 / 3, rounded half up


def test_it_summarises_a_board_members_market_including_unmatched_credits(cast, seed):
    body = summary(client_for(cast.board), "?date=2025-03-01")
    assert body["date_from"] == body["date_to"] == "2025-03-01"
    assert [(d["count"], d["amount"]) for d in body["days"]] == [(3, 210_000)]  # 50k + 120k + 40k unmatched
    body = summary(client_for(cast.board), f"?date=2025-03-01&vendor={cast.vendor.id}")
    assert body["totals"]["amount"] == 170_000


def test_it_summarises_within_scope_only(cast, seed):
    assert summary(client_for(cast.other_board), "?date=2025-03-01")["totals"]["amount"] == 70_000
    assert summary(client_for(cast.officer), "?date=2025-03-01")["totals"]["amount"] == 280_000
    officer_market = summary(client_for(cast.officer), f"?date=2025-03-01&market={cast.other_market.id}")
    assert officer_market["totals"]["amount"] == 70_000
    assert summary(client_for(cast.far_officer), "?date=2025-03-01")["totals"]["amount"] == 90_000
    assert summary(client_for(cast.volunteer), "?date=2025-03-01")["totals"]["count"] == 0
    assert summary(client_for(cast.board), f"?date=2025-03-01&vendor={cast.other_vendor.id}")["totals"]["count"] == 0


def test_it_aggregates_in_the_database(cast, seed):
    with CaptureQueriesContext(connection) as queries:
        summary(client_for(cast.board), "?date_from=2025-03-01&date_to=2025-03-31")
    grouped = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert len(grouped) == 1
    assert '"local_date"' in grouped[0] and '"channel"' in grouped[0]


def test_it_defaults_the_summary_to_today_in_vietnam(cast, seed):
    from django.utils import timezone

    PaymentFactory.create(vendor=cast.vendor, amount=25_000)
    body = summary(client_for(cast.vendor_user), "")
    assert body["date_from"] == body["date_to"] == timezone.localdate().isoformat()
    assert body["totals"]["amount"] == 25_000


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("?date_from=2025-03-02&date_to=2025-03-01", "invalid_range"),
        ("?date=2025-03-01&date_to=2025-03-02", "invalid_range"),
        ("?date_from=2024-01-01&date_to=2025-03-01", "range_too_long"),
        ("?date=tomorrow", "invalid"),
        ("?vendor=x", "invalid"),
    ],
)
def test_it_rejects_a_bad_summary_request(cast, seed, query, code):
    r = client_for(cast.vendor_user).get(f"/api/v1/payments/summary/{query}")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == code


def test_the_csv_export_refuses_a_form_post_without_the_csrf_token_403(cast):
    # Found by the abuse drill's CSRF sweep: the CSV's content negotiation parsed any body as
    # JSON, so the CSRF check's read of the form failed first, 400 "JSON parse error".
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.board)
    browser.get("/", secure=True)
    browser.cookies["csrftoken"] = "a" * 32

    answer = browser.post(
        "/api/v1/payments/export.csv",
        "a=b",
        content_type="application/x-www-form-urlencoded",
        secure=True,
        HTTP_ORIGIN="https://testserver",  # past the origin check, the token is looked for in the form
    )

    assert answer.status_code == 403
    assert "CSRF" in answer.json()["error"]["message"]

"""The import service: every row checked as the registration form checks it,
all or nothing, the file's own duplicates, the rows written exactly as the
form writes one trader."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.errors import Invalid, NotFound
from onboarding.imports.models import ImportJob
from onboarding.imports.rows import RowChecker
from onboarding.imports.services import import_start
from tests.onboarding.imports.helpers import csv_file, trader, xlsx_file
from vendors.consent import CURRENT
from vendors.models import Consent, Vendor
from vendors.services import vendor_create

pytestmark = pytest.mark.django_db


def start(cast: Any, content: bytes, *, name: str = "ds.csv", actor: Any = None, **kwargs: Any) -> ImportJob:
    kwargs.setdefault("market", cast.market)
    return import_start(actor=actor or cast.board, file_name=name, content=content, consent_confirmed=True, **kwargs)


def errors_of(job: ImportJob) -> list[tuple[int, str]]:
    return [(error["row"], error["column"]) for error in job.errors]


def test_it_imports_every_row_of_a_good_file_as_pending_traders_with_their_consent(cast: Any) -> None:
    job = start(cast, csv_file([trader(1), trader(2), trader(3)]))

    assert (job.status, job.created_count, job.error_count) == ("done", 3, 0)
    imported = Vendor.objects.filter(market=cast.market, full_name__startswith="Lê Thị Lan").order_by("phone")
    assert [v.phone for v in imported] == ["+84983000001", "+84983000002", "+84983000003"]
    first = imported[0]
    assert (first.status, first.onboarded_by, first.bank_id) == ("pending", cast.board, "970436")
    assert (first.account_number, first.account_name, first.goods_category) == ("0451000000001", "LE THI LAN 1", "meat")
    consent = Consent.objects.get(vendor=first)
    assert (consent.method, consent.version, consent.text, consent.collected_by) == (
        "import",
        CURRENT.version,
        CURRENT.text,
        cast.board,
    )
    assert len({v.merchant_code for v in imported}) == 3


def test_it_reads_the_same_rows_from_an_excel_file(cast: Any) -> None:
    job = start(cast, xlsx_file([trader(1), trader(2)]), name="ds.xlsx")

    assert (job.status, job.created_count) == ("done", 2)


def test_it_lists_each_wrong_row_with_its_column_and_imports_nothing(cast: Any) -> None:
    rows = [
        trader(1),
        trader(2, phone="0123"),
        trader(3, bank="Ngân hàng không có"),
        trader(4, account_number="12"),
        trader(5, full_name=""),
        trader(6, consent="không"),
        trader(7, goods_category="Vàng bạc"),
    ]
    job = start(cast, csv_file(rows))

    assert job.status == "rejected"
    assert errors_of(job) == [
        (3, "phone"),
        (4, "bank"),
        (5, "account_number"),
        (6, "full_name"),
        (7, "consent"),
        (8, "goods_category"),
    ]
    messages = {error["column"]: error["message"] for error in job.errors}
    assert messages["phone"] == "“0123” không phải số di động Việt Nam."
    assert "VCB" in messages["bank"]
    assert not Vendor.objects.filter(full_name__startswith="Lê Thị Lan").exists()
    assert job.created_count == 0


def test_it_imports_the_good_rows_when_asked_and_lists_the_others(cast: Any) -> None:
    job = start(cast, csv_file([trader(1), trader(2, phone="0123"), trader(3)]), all_or_nothing=False)

    assert (job.status, job.created_count, errors_of(job)) == ("done", 2, [(3, "phone")])
    assert Vendor.objects.filter(full_name__startswith="Lê Thị Lan").count() == 2


def test_it_refuses_a_phone_or_an_account_repeated_within_the_file(cast: Any) -> None:
    rows = [trader(1), trader(2, phone="0983 000 001"), trader(3, account_number="0451000000001")]
    job = start(cast, csv_file(rows))

    assert errors_of(job) == [(3, "phone"), (4, "account_number")]
    assert job.errors[0]["message"] == "Trùng số điện thoại với dòng 2 của tệp."


def test_it_names_the_trader_already_registered_with_a_phone_or_an_account(cast: Any) -> None:
    existing = cast.vendor
    rows = [trader(1, phone=existing.phone), trader(2, account_number=existing.account_number, bank="970436")]
    job = start(cast, csv_file(rows))

    assert errors_of(job) == [(2, "phone"), (3, "account_number")]
    assert existing.full_name in job.errors[0]["message"]
    assert existing.merchant_code in job.errors[1]["message"]


def test_it_refuses_an_account_held_in_a_market_the_uploader_does_not_manage(cast: Any) -> None:
    held = cast.other_vendor  # in other_market: not this board's
    job = start(cast, csv_file([trader(1, account_number=held.account_number)]))

    assert errors_of(job) == [(2, "account_number")]
    assert held.full_name not in job.errors[0]["message"]


def test_it_allows_an_account_held_in_another_market_of_the_officer(cast: Any) -> None:
    held = cast.other_vendor  # same province: the officer manages both markets
    job = start(cast, csv_file([trader(1, account_number=held.account_number)]), actor=cast.officer)

    assert (job.status, job.created_count) == ("done", 1)


def test_it_finds_the_bank_by_name_short_name_code_or_bin_without_diacritics(cast: Any) -> None:
    names = ["Vietcombank", "VCB", "970436", "vietcombank", "Ngân hàng TMCP Ngoại thương Việt Nam"]
    rows = [trader(n, bank=name) for n, name in enumerate(names, start=1)]
    job = start(cast, csv_file(rows))

    assert job.errors == []
    assert set(Vendor.objects.filter(full_name__startswith="Lê Thị Lan").values_list("bank_id", flat=True)) == {
        "970436"
    }


def test_it_skips_the_template_example_and_the_notes(cast: Any) -> None:
    from onboarding.imports.spreadsheet import template_csv

    content = template_csv(with_market=False) + csv_file([trader(1)]).split(b"\n", 1)[1]
    job = start(cast, content)

    assert (job.status, job.total_rows, job.created_count) == ("done", 1, 1)


def test_it_refuses_a_file_without_the_required_columns(cast: Any) -> None:
    with pytest.raises(Invalid) as caught:
        start(cast, "Tên,Điện thoại\nA,0912345678\n".encode())

    assert caught.value.code == "import_missing_columns"
    assert "“Họ và tên”" in caught.value.message
    assert not ImportJob.objects.exists()


def test_it_refuses_an_upload_without_the_consent_confirmation(cast: Any) -> None:
    with pytest.raises(Invalid) as caught:
        import_start(
            actor=cast.board,
            market=cast.market,
            file_name="a.csv",
            content=csv_file([trader(1)]),
            consent_confirmed=False,
        )

    assert caught.value.field == "consent_confirmed"


@pytest.mark.parametrize("who", ["volunteer", "other_board", "far_officer", "vendor_user", "outsider"])
def test_it_lets_nobody_outside_the_market_import(cast: Any, who: str) -> None:
    with pytest.raises(NotFound):
        start(cast, csv_file([trader(1)]), actor=getattr(cast, who))


def test_it_imports_a_province_file_whose_rows_name_their_market(cast: Any) -> None:
    rows = [
        trader(1, market="TN-DQ"),
        trader(2, market=str(cast.other_market.pk)),
        trader(3, market="HN-HOM"),  # another province
        trader(4, market=""),
    ]
    job = start(cast, csv_file(rows, with_market=True), market=None, province=cast.market.province, actor=cast.officer)

    assert errors_of(job) == [(4, "market"), (5, "market")]
    job = start(
        cast, csv_file(rows[:2], with_market=True), market=None, province=cast.market.province, actor=cast.officer
    )
    assert (job.status, job.created_count) == ("done", 2)
    assert Vendor.objects.get(phone="+84983000002").market == cast.other_market


def test_a_board_member_cannot_import_for_the_province(cast: Any) -> None:
    with pytest.raises(NotFound):
        start(cast, csv_file([trader(1, market="TN-DQ")], with_market=True), market=None, province=cast.market.province)


def test_an_imported_trader_is_stored_exactly_as_the_form_stores_one(cast: Any) -> None:
    start(cast, csv_file([trader(1, stall_label=" C-3 ", account_name="Lê Thị Lan")]))
    imported = Vendor.objects.get(phone="+84983000001")
    by_form = vendor_create(
        actor=cast.board,
        market=cast.market,
        full_name="Lê  Thị Lan 2",
        phone="0983 000 002",
        bank=imported.bank,
        account_number="0451000000002",
        account_name="Lê Thị Lan",
        stall_label=" C-3 ",
        goods_category="meat",
        consent=CURRENT,
    )
    by_form.refresh_from_db()

    differ = {"id", "phone", "account_number", "full_name", "merchant_code", "code_secret"}
    differ |= {"onboarded_at", "created_at", "updated_at"}
    for field in Vendor._meta.concrete_fields:
        if field.attname in differ:
            continue
        assert getattr(imported, field.attname) == getattr(by_form, field.attname), field.attname
    assert (imported.full_name, by_form.full_name) == ("Lê Thị Lan 1", "Lê Thị Lan 2")
    assert len(imported.code_secret) == len(by_form.code_secret) == 64
    assert imported.code_secret != by_form.code_secret
    assert imported.merchant_code.isdigit() and len(imported.merchant_code) == 8
    form_consent = by_form.consents.get()
    import_consent = imported.consents.get()
    for field in ("text", "version", "language", "collected_by_id"):
        assert getattr(import_consent, field) == getattr(form_consent, field), field
    assert (import_consent.method, form_consent.method) == ("import", "form")


def test_it_checks_the_database_in_a_fixed_number_of_queries(cast: Any) -> None:
    small = start(cast, csv_file([trader(n) for n in range(1, 4)]))
    with CaptureQueriesContext(connection) as few:
        start(cast, csv_file([trader(n) for n in range(10, 13)]))
    with CaptureQueriesContext(connection) as many:
        start(cast, csv_file([trader(n) for n in range(100, 400)]))

    assert small.status == "done"
    # 100 times the rows, a few more queries: inserts in batches (SQLite's are
    # small: its parameter limit), never one query per row.
    assert len(many) < len(few) + 20


def test_it_gives_back_the_leading_zero_a_spreadsheet_took_from_a_phone(cast: Any) -> None:
    from openpyxl import Workbook

    from onboarding.imports.spreadsheet import columns_for

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([column.header for column in columns_for(with_market=False)])
    sheet.append(["Lê Thị Lan", 983000001, "", "", 970436, "0451000000001", "", "có"])  # numbers, as Excel keeps them
    out = io.BytesIO()
    book.save(out)

    job = start(cast, out.getvalue(), name="so.xlsx")

    assert (job.status, job.created_count) == ("done", 1)
    assert Vendor.objects.get(full_name="Lê Thị Lan").phone == "+84983000001"


def test_it_never_hands_out_a_merchant_code_already_taken(cast: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = cast.vendor.merchant_code
    codes = iter([taken, taken, "20000006", "30000005"])
    monkeypatch.setattr("onboarding.imports.services.generate_merchant_code", lambda: next(codes))

    job = start(cast, csv_file([trader(1), trader(2)]))

    assert job.status == "done"
    assert set(Vendor.objects.filter(full_name__startswith="Lê Thị Lan").values_list("merchant_code", flat=True)) == {
        "20000006",
        "30000005",
    }


def test_a_trader_registered_while_the_import_runs_fails_it_whole_by_the_database_constraint(
    cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A volunteer registers the file's first trader after the checks read the market.
    monkeypatch.setattr(RowChecker, "database_conflicts", lambda self, rows: [])
    Vendor.objects.filter(pk=cast.vendor.pk).update(phone="+84983000002")

    job = start(cast, csv_file([trader(1), trader(2), trader(3)]))

    assert (job.status, job.created_count) == ("failed", 0)
    assert job.failure.startswith("Trong lúc nhập, một tiểu thương trong tệp đã được người khác đăng ký.")
    assert not Vendor.objects.filter(full_name__startswith="Lê Thị Lan").exists()
    assert not Consent.objects.filter(method="import").exists()

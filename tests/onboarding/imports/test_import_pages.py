"""The bulk-import pages: the template, the upload, the job's page and its
progress, who may see them."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from onboarding.imports import services
from onboarding.imports.models import ImportJob
from onboarding.imports.rows import RowChecker
from tests.onboarding.imports.helpers import csv_file, trader, xlsx_file
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

VI_HEADERS = [
    "Họ và tên",
    "Số điện thoại",
    "Quầy",
    "Ngành hàng",
    "Ngân hàng (tên/viết tắt/BIN)",
    "Số tài khoản",
    "Tên tài khoản",
    "Đã đồng ý (có/không)",
]


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client: Client, url: str, content: bytes, *, name: str = "ds.csv", **fields: Any) -> Any:
    data = {"file": SimpleUploadedFile(name, content), "consent_confirmed": "on", **fields}
    return client.post(url, data)


def import_url(cast: Any) -> str:
    return reverse("onboard:import", kwargs={"market_id": cast.market.pk})


def test_it_serves_the_csv_template_with_a_byte_order_mark_and_vietnamese_headers(cast: Any) -> None:
    response = signed_in(cast.board).get(reverse("onboard:import-template", args=["csv"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    notes = [record[0] for record in records if record[0].startswith("#")]
    header, example = [record for record in records if not record[0].startswith("#")]
    assert header == VI_HEADERS
    assert example[:2] == ["Nguyễn Thị Mẫu", "0912 345 678"]
    assert any("đồng ý" in note and "Nghị định 13/2023/NĐ-CP" in note for note in notes)


def test_it_serves_an_xlsx_template_that_opens_with_the_headers_an_example_and_the_notes(cast: Any) -> None:
    response = signed_in(cast.board).get(reverse("onboard:import-template", args=["xlsx"]) + "?kind=province")

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == ["Chợ (mã hoặc số)", *VI_HEADERS]
    assert rows[1][1] == "Nguyễn Thị Mẫu"
    assert sheet.column_dimensions["C"].number_format == "@"  # the phone keeps its leading 0
    notes = " ".join(str(row[0]) for row in book["Hướng dẫn"].iter_rows(values_only=True))
    assert "đồng ý" in notes and "Nghị định 13/2023/NĐ-CP" in notes


def test_the_template_is_for_those_who_may_import(cast: Any) -> None:
    assert signed_in(cast.volunteer).get(reverse("onboard:import-template", args=["csv"])).status_code == 404
    assert Client().get(reverse("onboard:import-template", args=["csv"])).status_code == 302  # to sign in


def test_the_upload_page_is_in_vietnamese_with_labels_and_csrf(cast: Any) -> None:
    response = signed_in(cast.board).get(import_url(cast), HTTP_ACCEPT_LANGUAGE="en")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Nhập danh sách tiểu thương từ tệp" in page
    assert "csrfmiddlewaretoken" in page
    assert '<label for="id_file">' in page and '<label for="id_consent_confirmed">' in page
    assert "Chợ Đồng Quang" in page


def test_an_upload_with_errors_shows_each_row_and_column_and_imports_nothing(cast: Any) -> None:
    client = signed_in(cast.board)
    response = upload(client, import_url(cast), csv_file([trader(1), trader(2, phone="12345")]))

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("onboard:import-job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Chưa nhập dòng nào" in page
    assert '<td class="num">3</td><td>Số điện thoại</td><td>“12345” không phải số di động Việt Nam.</td>' in page
    assert "Tải lên tệp đã sửa" in page  # the form to send the fixed file
    assert not Vendor.objects.filter(full_name__startswith="Lê Thị Lan").exists()
    assert (job.uploaded_by, job.file_name, job.status, job.error_count) == (cast.board, "ds.csv", "rejected", 1)


def test_a_good_upload_imports_and_says_how_many(cast: Any) -> None:
    client = signed_in(cast.board)
    response = upload(client, import_url(cast), xlsx_file([trader(1), trader(2)]), name="ds.xlsx")

    page = client.get(response["Location"]).content.decode()
    assert "Đã nhập 2 tiểu thương" in page
    assert Vendor.objects.filter(full_name__startswith="Lê Thị Lan", status="pending").count() == 2


def test_the_upload_needs_the_consent_confirmation_and_a_readable_file(cast: Any) -> None:
    client = signed_in(cast.board)
    no_consent = client.post(import_url(cast), {"file": SimpleUploadedFile("a.csv", csv_file([trader(1)]))})
    unreadable = upload(client, import_url(cast), b"\x00\x01garbage", name="a.xlsx")
    wrong_columns = upload(client, import_url(cast), "Tên;SĐT\nA;0912345678\n".encode(), name="a.csv")

    assert no_consent.status_code == 400
    assert "Hãy xác nhận mọi tiểu thương trong tệp đã ký giấy đồng ý." in no_consent.content.decode()
    assert unreadable.status_code == 400 and "Không đọc được tệp này." in unreadable.content.decode()
    assert "Tệp thiếu các cột" in wrong_columns.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("who", ["volunteer", "other_board", "far_officer", "vendor_user", "outsider"])
def test_nobody_outside_the_market_finds_its_import_page_or_jobs(cast: Any, who: str) -> None:
    job = services.import_start(
        actor=cast.board, market=cast.market, file_name="a.csv", content=csv_file([trader(1)]), consent_confirmed=True
    )
    client = signed_in(getattr(cast, who))

    assert client.get(import_url(cast)).status_code == 404
    assert upload(client, import_url(cast), csv_file([trader(2)])).status_code == 404
    assert client.get(reverse("onboard:import-job", args=[job.pk])).status_code == 404
    assert client.get(reverse("onboard:import-status", args=[job.pk])).status_code == 404


def test_the_province_page_is_for_its_officers_only(cast: Any) -> None:
    url = reverse("onboard:import-province", kwargs={"code": "19"})

    assert signed_in(cast.board).get(url).status_code == 404
    assert signed_in(cast.far_officer).get(url).status_code == 404
    page = signed_in(cast.officer).get(url).content.decode()
    assert "Chợ (mã hoặc số)" in page
    response = upload(signed_in(cast.officer), url, csv_file([trader(1, market="TN-THAI")], with_market=True))
    assert response.status_code == 302
    assert Vendor.objects.get(phone="+84983000001").market == cast.other_market


def test_a_file_over_500_rows_runs_as_a_celery_task_with_a_progress_page(
    cast: Any, django_capture_on_commit_callbacks: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = signed_in(cast.board)
    rows = [trader(n) for n in range(1, 1202)]  # 1,201 rows: progress saved after rows 500 and 1,000

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(client, import_url(cast), csv_file(rows))
    job = ImportJob.objects.get()
    assert (job.status, job.total_rows) == ("queued", 1201)  # not run in the request
    waiting = client.get(response["Location"]).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in waiting
    assert "onboard-import.js" in waiting and '<progress max="100" value="0"' in waiting
    status = client.get(reverse("onboard:import-status", args=[job.pk])).json()
    assert (status["status"], status["percent"], status["finished"]) == ("queued", 0, False)

    # What the progress endpoint answers while the task runs, each time it saves its progress.
    polled: list[tuple[str, int, int]] = []
    real_check_rows = RowChecker.check_rows

    def check_rows(self: RowChecker, rows: Any, *, progress: Any = None, every: int = 500) -> Any:
        def save_then_poll(done: int) -> None:
            progress(done)
            answer = client.get(reverse("onboard:import-status", args=[job.pk])).json()
            polled.append((answer["status"], answer["processed"], answer["percent"]))

        return real_check_rows(self, rows, progress=save_then_poll, every=every)

    monkeypatch.setattr(RowChecker, "check_rows", check_rows)
    for callback in callbacks:  # the commit: the task named onboarding.imports.run is enqueued, and runs eagerly
        callback()

    assert polled == [("running", 500, 39), ("running", 1000, 79)]
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 1201)
    done = client.get(reverse("onboard:import-status", args=[job.pk])).json()
    assert (done["status"], done["percent"], done["finished"], done["created"]) == ("done", 100, True, 1201)
    page = client.get(response["Location"]).content.decode()
    assert "Đã nhập 1201 tiểu thương" in page and "http-equiv" not in page


def test_the_task_runs_a_job_once_whatever_the_number_of_messages(
    cast: Any, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from onboarding.imports.tasks import run_import, sweep_imports

    job = ImportJob.objects.create(
        uploaded_by=cast.board, market=cast.market, file_name="a.csv", total_rows=1, rows=[{**trader(1), "_row": "2"}]
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=job.created_at.replace(year=2020))

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_imports.apply().get() == 1  # a lost message: the sweep sends it again (run eagerly here)
    assert run_import.apply(args=[job.pk]).get() == "already-run"
    assert Vendor.objects.filter(phone="+84983000001").count() == 1

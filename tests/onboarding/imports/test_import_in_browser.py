"""A board member imports a list from a 360×740 phone in Chromium: a file
with a wrong row is refused with the row and column named, the fixed file is
imported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.browser import screenshot
from tests.onboarding.imports.helpers import csv_file, trader
from tests.web.test_pages_in_browser import PASSWORD, assert_fits_a_phone, sign_in
from vendors.models import Consent, Vendor

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_board_member_fixes_a_wrong_row_and_imports_the_list(
    live_server: Any, page_at: Any, cast: Any, tmp_path: Path
) -> None:
    cast.board.set_password(PASSWORD)
    cast.board.save()
    wrong = tmp_path / "danh-sach.csv"
    wrong.write_bytes(csv_file([trader(1), trader(2, phone="0912 34"), trader(3)]))
    fixed = tmp_path / "danh-sach-da-sua.csv"
    fixed.write_bytes(csv_file([trader(1), trader(2), trader(3)]))
    page = page_at(360, height=740)
    sign_in(page, live_server.url, "board")

    page.goto(live_server.url + reverse("onboard:import", kwargs={"market_id": cast.market.pk}))
    assert page.get_by_role("heading", level=1).inner_text() == "Nhập danh sách tiểu thương từ tệp"
    assert page.get_by_role("link", name="Tệp mẫu Excel (.xlsx)").is_visible()
    assert_fits_a_phone(page)
    screenshot(page, "onboard-import-form-360")

    page.get_by_label("Tệp danh sách đã điền (CSV hoặc Excel)").set_input_files(str(wrong))
    page.get_by_label("Tôi xác nhận mọi tiểu thương trong tệp đã ký giấy đồng ý", exact=False).check()
    page.get_by_role("button", name="Kiểm tra và nhập").click()
    page.wait_for_load_state()

    assert page.get_by_role("heading", name="Chưa nhập dòng nào").is_visible()
    row = page.locator("table.import-errors tbody tr")
    assert row.count() == 1
    assert row.first.locator("td").all_inner_texts() == [
        "3",
        "Số điện thoại",
        "“0912 34” không phải số di động Việt Nam.",
    ]
    assert not Vendor.objects.filter(full_name__startswith="Lê Thị Lan").exists()
    assert_fits_a_phone(page)
    screenshot(page, "onboard-import-errors-360")

    page.get_by_label("Tệp danh sách đã điền (CSV hoặc Excel)").set_input_files(str(fixed))
    page.get_by_label("Tôi xác nhận mọi tiểu thương trong tệp đã ký giấy đồng ý", exact=False).check()
    page.get_by_role("button", name="Kiểm tra và nhập").click()
    page.wait_for_load_state()

    assert page.get_by_role("heading", name="Đã nhập 3 tiểu thương").is_visible()
    assert Vendor.objects.filter(full_name__startswith="Lê Thị Lan", status="pending").count() == 3
    assert Consent.objects.filter(method="import", vendor__market=cast.market).count() == 3
    assert_fits_a_phone(page)
    screenshot(page, "onboard-import-done-360")


def test_the_progress_bar_follows_a_running_import_and_the_page_shows_the_result(
    live_server: Any, page_at: Any, cast: Any
) -> None:
    from onboarding.imports.models import ImportJob

    cast.board.set_password(PASSWORD)
    cast.board.save()
    job = ImportJob.objects.create(
        uploaded_by=cast.board, market=cast.market, file_name="lon.xlsx", total_rows=2000, status="running"
    )
    page = page_at(360, height=740)
    sign_in(page, live_server.url, "board")

    page.goto(live_server.url + reverse("onboard:import-job", args=[job.pk]))
    assert page.locator("progress").get_attribute("value") == "0"
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=1000)
    page.wait_for_function("() => document.querySelector('progress').value == 47")  # moved by the script's polling
    assert page.locator("[data-field=processed]").inner_text() == "1000"
    assert_fits_a_phone(page)
    screenshot(page, "onboard-import-progress-360")

    ImportJob.objects.filter(pk=job.pk).update(status="done", processed_rows=2000, created_count=2000)
    page.get_by_role("heading", name="Đã nhập 2000 tiểu thương").wait_for()  # the script reloaded the page

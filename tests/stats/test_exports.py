"""?format=csv and ?format=xlsx: the same figures as the JSON, with
Vietnamese headers, a file name naming the scope and the dates."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_sections(content: bytes) -> dict[str, list[list[str]]]:
    """The CSV's tables by title (a title row, a header row, the rows; blank lines between)."""
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    sections: dict[str, list[list[str]]] = {}
    title = None
    for row in csv.reader(io.StringIO(text[1:])):
        if not row:
            title = None
        elif title is None:
            title = row[0]
            sections[title] = []
        else:
            sections[title].append(row)
    return sections


def test_market_csv_has_vietnamese_headers_and_the_figures(data) -> None:
    response = client_for(data.cast.board).get(
        f"/api/v1/stats/markets/{data.market.pk}/?from=2026-11-01&to=2026-11-30&format=csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="thong-ke_market-{data.market.pk}_2026-11-01_2026-11-30.csv"'
    )
    sections = csv_sections(response.content)
    assert list(sections) == ["Tổng quan", "Theo thời gian", "Kênh thanh toán", "Quy mô thanh toán",
                              "Nhóm theo tháng đăng ký", "Cần theo dõi"]  # fmt: skip
    overview = {row[0]: row[1:] for row in sections["Tổng quan"]}
    assert overview["Chỉ số"] == ["Kỳ này", "Kỳ trước"]
    assert overview["Phạm vi"][0] == "Chợ Đồng Quang"
    assert overview["Số sạp theo danh sách"] == ["10", "10"]
    assert overview["Số giao dịch"] == ["6", "2"]
    assert overview["Giá trị giao dịch (đồng)"] == ["330000", "100000"]
    assert overview["Độ phủ"] == ["0.4", "0.4"]
    follow_up = sections["Cần theo dõi"]
    assert follow_up[0][:3] == ["Sạp", "Tiểu thương", "Số điện thoại"]
    assert follow_up[2][:3] == ["C-07", "Đỗ Văn Nam", "0912 000 333"]
    assert follow_up[2][6] == "0987 654 321"


def test_province_xlsx_opens_with_a_sheet_per_table(data) -> None:
    response = client_for(data.cast.officer).get(
        "/api/v1/stats/provinces/19/?from=2026-11-01&to=2026-11-30&format=xlsx"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="thong-ke_province-19_2026-11-01_2026-11-30.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Tổng quan", "Theo thời gian", "Kênh thanh toán", "Quy mô thanh toán",
                               "Nhóm theo tháng đăng ký", "Xếp hạng chợ", "Theo tỉnh cũ"]  # fmt: skip
    overview = {row[0]: row[1:] for row in book["Tổng quan"].iter_rows(values_only=True)}
    assert overview["Phạm vi"][0] == "Tỉnh Thái Nguyên"
    assert overview["Số giao dịch"] == (7, 2)
    assert overview["Giá trị giao dịch (đồng)"] == (830_000, 100_000)
    assert overview["Độ phủ"][0] == pytest.approx(0.3333)
    formats = {row[0].value: row[1].number_format for row in book["Tổng quan"].iter_rows()}
    assert (formats["Độ phủ"], formats["Giá trị giao dịch (đồng)"]) == ("0.0%", "#,##0")
    ranking = list(book["Xếp hạng chợ"].iter_rows(values_only=True))
    assert ranking[0][:3] == ("Hạng", "Tên", "Số sạp theo danh sách")
    assert [row[:2] for row in ranking[1:]] == [(1, "Chợ Thái"), (2, "Chợ Đồng Quang")]
    groups = list(book["Theo tỉnh cũ"].iter_rows(values_only=True))
    assert groups[1][:2] == ("06", "Tỉnh Bắc Kạn")
    series = list(book["Theo thời gian"].iter_rows(values_only=True))
    assert series[0] == ("Từ ngày", "Số giao dịch", "Giá trị giao dịch (đồng)", "Số tiểu thương hoạt động")
    assert len(series) == 31


def test_volunteer_xlsx(data) -> None:
    response = client_for(data.cast.board).get("/api/v1/stats/volunteers/?from=2026-09-01&to=2026-11-30&format=xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="thong-ke_market-{data.market.pk}_2026-09-01_2026-11-30.xlsx"'
    )
    rows = list(load_workbook(io.BytesIO(response.content))["Tình nguyện viên"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Tình nguyện viên", "Số điện thoại", "Số tiểu thương đã đăng ký")
    assert rows[1][:4] == ("Tình Lê Văn", "0987 654 321", 3, 1)


def test_a_name_that_looks_like_a_formula_is_not_run(data) -> None:
    data.v3.full_name = '=HYPERLINK("http://x")'
    data.v3.save(update_fields=["full_name"])
    board = client_for(data.cast.board)
    url = f"/api/v1/stats/markets/{data.market.pk}/?from=2026-11-01&to=2026-11-30&format="
    assert "'=HYPERLINK" in board.get(url + "csv").content.decode()
    sheet = load_workbook(io.BytesIO(board.get(url + "xlsx").content))["Cần theo dõi"]
    assert sheet["B3"].value.startswith("'=")


def test_errors_stay_json_whatever_the_format(data) -> None:
    response = client_for(data.cast.board).get(f"/api/v1/stats/markets/{data.market.pk}/?format=xlsx&from=x")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert client_for(data.cast.volunteer).get("/api/v1/stats/provinces/19/?format=csv").status_code == 404


def test_the_nation_csv_ranks_provinces_then_markets(data) -> None:
    response = client_for(data.cast.admin).get("/api/v1/stats/?from=2026-11-01&to=2026-11-30&format=csv")
    assert response["Content-Disposition"] == 'attachment; filename="thong-ke_nation_2026-11-01_2026-11-30.csv"'
    sections = csv_sections(response.content)
    assert [row[:2] for row in sections["Xếp hạng tỉnh"][1:]] == [["1", "Thành phố Hà Nội"], ["2", "Tỉnh Thái Nguyên"]]
    assert len(sections["Xếp hạng chợ"]) == 4

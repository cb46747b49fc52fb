"""The import file: its columns (Vietnamese headers), the downloadable
template (CSV with a UTF-8 byte-order mark, so that Excel shows the
diacritics, and XLSX) and reading an uploaded file back into rows of text.

The headers and notes are the file format, the same for everyone whatever
language the page is in: a file filled in by one person is read the same way
for another. Reading matches a header without its diacritics and case
("ho va ten", "HỌ VÀ TÊN") and also takes the English column keys.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font

from chopay.text import fold_ascii
from common.errors import Invalid
from vendors.models import Vendor

CSV_TYPE: Final = "text/csv; charset=utf-8"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS: Final = 20_000
MAX_BYTES: Final = 10 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    width: int = 18
    text: bool = False  # formatted as text in the XLSX template (leading zeros kept)


MARKET = Column("market", "Chợ (mã hoặc số)", required=True, width=18)
COLUMNS: Final = (
    Column("full_name", "Họ và tên", required=True, width=26),
    Column("phone", "Số điện thoại", required=True, width=16, text=True),
    Column("stall_label", "Quầy", width=10),
    Column("goods_category", "Ngành hàng", width=20),
    Column("bank", "Ngân hàng (tên/viết tắt/BIN)", required=True, width=22),
    Column("account_number", "Số tài khoản", required=True, width=20, text=True),
    Column("account_name", "Tên tài khoản", width=24),
    Column("consent", "Đã đồng ý (có/không)", required=True, width=14),
)
HEADERS: Final = {column.key: column.header for column in (MARKET, *COLUMNS)}

EXAMPLE: Final = {
    "market": "TN-DONGQUANG",
    "full_name": "Nguyễn Thị Mẫu",
    "phone": "0912 345 678",
    "stall_label": "A-01",
    "goods_category": "Rau củ, trái cây",
    "bank": "Vietcombank",
    "account_number": "0011001234567",
    "account_name": "NGUYEN THI MAU",
    "consent": "có",
}

YES: Final = frozenset({"co", "x", "yes", "y", "1", "true", "dong y", "da dong y"})


def columns_for(*, with_market: bool) -> tuple[Column, ...]:
    return (MARKET, *COLUMNS) if with_market else COLUMNS


def goods_labels() -> list[str]:
    with translation.override("vi"):
        return [str(label) for _value, label in Vendor.GoodsCategory.choices]


def notes(*, with_market: bool) -> list[str]:
    """What the template says about filling it in, in Vietnamese."""
    lines = [
        "Mỗi dòng là một tiểu thương. Dòng ví dụ (Nguyễn Thị Mẫu) được bỏ qua khi nhập; có thể xoá nó. "
        "Dòng bắt đầu bằng # là ghi chú, cũng được bỏ qua.",
        "Bắt buộc: Họ và tên, Số điện thoại, Ngân hàng, Số tài khoản, Đã đồng ý. "
        "Để trống Tên tài khoản thì lấy họ tên viết hoa không dấu, như ngân hàng in.",
        "Sự đồng ý (Nghị định 13/2023/NĐ-CP): chỉ ghi những tiểu thương đã ký đồng ý cho xử lý dữ liệu "
        'cá nhân trên giấy, ghi "có" ở cột Đã đồng ý và giữ lại bản giấy. '
        "Người tải tệp lên xác nhận điều này.",
        "Ngân hàng: tên, tên viết tắt hoặc mã BIN, ví dụ Vietcombank, VCB hoặc 970436.",
        "Ngành hàng (để trống là Khác): " + "; ".join(goods_labels()) + ".",
    ]
    if with_market:
        lines.insert(1, "Chợ: mã chợ (ví dụ TN-DONGQUANG) hoặc số của chợ, thuộc tỉnh của bạn.")
    return lines


# --- the template ----------------------------------------------------------------------


def template_csv(*, with_market: bool) -> bytes:
    columns = columns_for(with_market=with_market)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in notes(with_market=with_market):
        writer.writerow([f"# {line}"])
    writer.writerow([column.header for column in columns])
    writer.writerow([EXAMPLE[column.key] for column in columns])
    # The byte-order mark makes Excel read the file as UTF-8 (else "Há» vÃ  tÃªn").
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def template_xlsx(*, with_market: bool) -> bytes:
    columns = columns_for(with_market=with_market)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tiểu thương"
    sheet.append([column.header for column in columns])
    sheet.append([EXAMPLE[column.key] for column in columns])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            # Typed as text, so that 0912… and 0011… keep their leading zero.
            sheet.column_dimensions[letter].number_format = "@"
            for row in (1, 2):
                sheet.cell(row=row, column=index).number_format = "@"
    guide = book.create_sheet("Hướng dẫn")
    guide.column_dimensions["A"].width = 110
    guide.append(["Hướng dẫn điền tệp nhập danh sách tiểu thương"])
    guide["A1"].font = Font(bold=True)
    for line in notes(with_market=with_market):
        guide.append([line])
    for row in guide.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- reading a file ----------------------------------------------------------------------


@dataclass
class ParsedFile:
    rows: list[dict[str, str]]  # each with "_row": the row number the spreadsheet shows
    columns: frozenset[str]


def _folded(text: str) -> str:
    return " ".join(fold_ascii(text).lower().replace("_", " ").split())


# A header is recognised by how its folded text starts (Vietnamese) or by its key (English).
_HEADER_STARTS: Final = (
    ("market", ("cho", "market", "ma cho")),
    ("full_name", ("ho va ten", "ho ten", "full name", "name")),
    ("phone", ("so dien thoai", "dien thoai", "sdt", "phone")),
    ("stall_label", ("quay", "stall")),
    ("goods_category", ("nganh hang", "goods")),
    ("bank", ("ngan hang", "bank")),
    ("account_number", ("so tai khoan", "stk", "account number")),
    ("account_name", ("ten tai khoan", "chu tai khoan", "account name")),
    ("consent", ("da dong y", "dong y", "consent")),
)


def header_key(cell: str) -> str | None:
    folded = _folded(cell)
    if not folded:
        return None
    for key, starts in _HEADER_STARTS:
        for start in starts:
            if folded == start or folded.startswith(start + " ") or folded.startswith(start + "("):
                return key
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _csv_records(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's "CSV" (not "CSV UTF-8") on a Vietnamese Windows writes code page 1258.
        text = content.decode("cp1258", errors="replace")
    first = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_records(content: bytes) -> Iterator[list[Any]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise unreadable() from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        book.close()


def unreadable() -> Invalid:
    return Invalid(
        "import_unreadable",
        _("This file cannot be read. Upload the template filled in, saved as CSV (UTF-8) or Excel (.xlsx)."),
        field="file",
    )


def _is_example(row: dict[str, str]) -> bool:
    return row.get("full_name") == EXAMPLE["full_name"] and _folded(row.get("phone", "")) == _folded(EXAMPLE["phone"])


def _rows(records: Iterable[list[Any]], *, with_market: bool) -> ParsedFile:
    header: list[str | None] | None = None
    rows: list[dict[str, str]] = []
    for number, record in enumerate(records, start=1):
        cells = [_text(value) for value in record]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header is None:
            header = [header_key(cell) for cell in cells]
            present = {key for key in header if key}
            wanted = columns_for(with_market=with_market)
            missing = [column.header for column in wanted if column.required and column.key not in present]
            if missing:
                raise Invalid(
                    "import_missing_columns",
                    _("The file lacks the columns %(columns)s. Start from the template: its first row names them.")
                    % {"columns": ", ".join(f"“{name}”" for name in missing)},
                    field="file",
                )
            continue
        row = {"_row": str(number)}
        for key, cell in zip(header, cells, strict=False):
            if key and key not in row:
                row[key] = cell
        if _is_example(row):
            continue
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise Invalid(
                "import_too_many_rows",
                _("A file may hold at most %(max)s traders; split it into several files.") % {"max": f"{MAX_ROWS:,}"},
                field="file",
            )
    if header is None or not rows:
        raise Invalid("import_empty", _("The file has no trader in it."), field="file")
    return ParsedFile(rows=rows, columns=frozenset(key for key in header if key))


def parse(*, file_name: str, content: bytes, with_market: bool) -> ParsedFile:
    """The rows of an uploaded CSV or XLSX file, as text by column key.
    Raises ``Invalid`` for a file that cannot be read, lacks a required
    column, holds no trader or too many."""
    if len(content) > MAX_BYTES:
        raise Invalid(
            "import_too_large",
            _("The file is larger than %(size)s MB; split it into several files.") % {"size": MAX_BYTES // 2**20},
            field="file",
        )
    is_zip = content[:4] == b"PK\x03\x04"
    if file_name.lower().endswith(".xlsx") or is_zip:
        records: Iterable[list[Any]] = _xlsx_records(content)
    elif file_name.lower().endswith((".csv", ".txt")):
        if b"\x00" in content[:4096]:
            raise unreadable()
        records = _csv_records(content)
    else:
        raise unreadable()
    try:
        return _rows(records, with_market=with_market)
    except csv.Error as exc:
        raise unreadable() from exc

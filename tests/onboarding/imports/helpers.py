"""Import files built the way a person fills the template in."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from openpyxl import Workbook

from onboarding.imports.spreadsheet import columns_for

ROW = {
    "full_name": "Lê Thị Lan",
    "phone": "0987 654 321",
    "stall_label": "B-07",
    "goods_category": "Thịt",
    "bank": "vcb",
    "account_number": "0451000123456",
    "account_name": "",
    "consent": "có",
}


def trader(n: int, **changes: str) -> dict[str, str]:
    """The n-th trader of a file: distinct phone and account."""
    row = dict(ROW, full_name=f"Lê Thị Lan {n}", phone=f"0983{n:06d}", account_number=f"0451{n:09d}")
    row.update(changes)
    return row


def csv_file(rows: Iterable[dict[str, str]], *, with_market: bool = False) -> bytes:
    columns = columns_for(with_market=with_market)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.header for column in columns])
    for row in rows:
        writer.writerow([row.get(column.key, "") for column in columns])
    return "\ufeff".encode() + out.getvalue().encode()


def xlsx_file(rows: Iterable[dict[str, str]], *, with_market: bool = False) -> bytes:
    columns = columns_for(with_market=with_market)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([row.get(column.key, "") for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

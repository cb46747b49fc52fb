"""The statistics as tables with translated (by default Vietnamese) headers,
written as CSV (one file, a titled section per table) or XLSX (one sheet per
table): the same figures as the JSON of the API."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

CSV_TYPE: Final = "text/csv; charset=utf-8"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Cell formats: a share (0.7234) shows as 72.3 %, money and counts with separators.
SHARE: Final = "0.0%"
NUMBER: Final = "#,##0"
_FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    # Number formats by column index (from 0), or by row (from 1) when each row is one metric.
    formats: dict[int, str] = field(default_factory=dict)
    formats_by_row: bool = False


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in text (names are typed by people)."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def _headline_labels() -> list[tuple[str, str, str | None]]:
    return [
        ("stalls", _("Stalls on the roster"), NUMBER),
        ("vendors_registered", _("Vendors registered"), NUMBER),
        ("vendors_with_qr", _("Vendors with a QR"), NUMBER),
        ("coverage", _("Coverage"), SHARE),
        ("vendors_activated", _("Vendors activated"), NUMBER),
        ("activation", _("Activation"), SHARE),
        ("active_vendors", _("Active vendors in the period"), NUMBER),
        ("active_7d", _("Active vendors, last 7 days"), NUMBER),
        ("active_30d", _("Active vendors, last 30 days"), NUMBER),
        ("active_share", _("Active share (30 days)"), SHARE),
        ("regular_vendors", _("Regular vendors"), NUMBER),
        ("payments_count", _("Number of payments"), NUMBER),
        ("payments_value", _("Payments value (VND)"), NUMBER),
        ("average_ticket", _("Average ticket (VND)"), NUMBER),
    ]


def _overview(data: dict[str, Any]) -> Table:
    table = Table(_("Overview"), [_("Metric"), _("This period"), _("Previous period")], formats_by_row=True)
    scope, period = data["scope"], data["period"]
    table.rows.append([_("Scope"), scope["name"], ""])
    table.rows.append([_("From"), period["from"], ""])
    table.rows.append([_("To"), period["to"], ""])
    for key, label, number_format in _headline_labels():
        table.rows.append([label, data[key], data["previous"][key]])
        table.formats[len(table.rows)] = number_format or NUMBER
    for key, label, value_label in (
        ("refunds", _("Refunds"), _("Refunds value (VND)")),
        ("disputes", _("Disputes"), _("Disputes value (VND)")),
    ):
        table.rows.append([label, data[key]["count"], ""])
        table.rows.append([value_label, data[key]["value"], ""])
    target = data.get("target")
    if target:
        table.rows.append([_("Target coverage"), target["coverage"], ""])
        table.rows.append([_("Target active share"), target["active"], ""])
        table.rows.append([_("Target deadline"), target["deadline"], ""])
        table.rows.append([_("Progress towards the coverage target"), target["coverage_progress"], ""])
        table.rows.append([_("Progress towards the active target"), target["active_progress"], ""])
    return table


def _series(data: dict[str, Any]) -> Table:
    table = Table(
        _("Over time"), [_("From"), _("Number of payments"), _("Payments value (VND)"), _("Active vendors")],
        formats={1: NUMBER, 2: NUMBER, 3: NUMBER},
    )  # fmt: skip
    for row in data["series"]:
        table.rows.append([row["start"], row["payments_count"], row["payments_value"], row["active_vendors"]])
    return table


def _channels(data: dict[str, Any]) -> Table:
    table = Table(
        _("Channels"), [_("Channel"), _("Number of payments"), _("Payments value (VND)"), _("Share of payments")],
        formats={1: NUMBER, 2: NUMBER, 3: SHARE},
    )  # fmt: skip
    for row in data["channels"]:
        table.rows.append([row["label"], row["count"], row["value"], row["share"]])
    return table


def _sizes(data: dict[str, Any]) -> Table:
    table = Table(
        _("Payment sizes"), [_("From (VND)"), _("To (VND)"), _("Number of payments"), _("Payments value (VND)")],
        formats={0: NUMBER, 1: NUMBER, 2: NUMBER, 3: NUMBER},
    )  # fmt: skip
    for row in data["size_buckets"]:
        table.rows.append([row["min"], row["max"], row["count"], row["value"]])
    return table


def _cohorts(data: dict[str, Any]) -> Table:
    months = max((len(row["active"]) for row in data["cohorts"]), default=0)
    table = Table(
        _("Cohorts"),
        [_("Onboarding month"), _("Vendors onboarded")]
        + [_("Active in month %(n)d") % {"n": k} for k in range(months)],
    )
    for row in data["cohorts"]:
        table.rows.append([row["month"], row["vendors"], *row["active"]])
    return table


def _markets(rows: Sequence[dict[str, Any]], title: str, *, with_rank: bool) -> Table:
    columns = [key for key, _label, _format in _headline_labels()]
    headers = [label for _key, label, _format in _headline_labels()]
    formats = {index: fmt or NUMBER for index, (_key, _label, fmt) in enumerate(_headline_labels(), start=2)}
    table = Table(title, [_("Rank") if with_rank else _("Code"), _("Name"), *headers], formats=formats)
    for row in rows:
        first = row["rank"] if with_rank else row["code"]
        table.rows.append([first, row["name"], *(row[key] for key in columns)])
    return table


def _follow_up(data: dict[str, Any]) -> Table:
    table = Table(
        _("Follow-up"),
        [_("Stall"), _("Vendor"), _("Phone"), _("Merchant code"), _("Onboarded on"), _("Onboarded by"),
         _("Volunteer's phone"), _("Last receipt")],
    )  # fmt: skip
    for row in data["follow_up"]:
        helper = row["onboarded_by"] or {}
        table.rows.append(
            [row["stall"], row["name"], row["phone"], row["merchant_code"], row["onboarded_on"],
             helper.get("name"), helper.get("phone"), row["last_receipt"]]
        )  # fmt: skip
    return table


def stats_tables(data: dict[str, Any]) -> list[Table]:
    tables = [_overview(data), _series(data), _channels(data), _sizes(data), _cohorts(data)]
    if "provinces" in data:
        tables.append(_markets(data["provinces"], _("Province ranking"), with_rank=True))
    if "markets" in data:
        tables.append(_markets(data["markets"], _("Market ranking"), with_rank=True))
    if data.get("groups"):
        tables.append(_markets(data["groups"], _("Former provinces"), with_rank=False))
    if "follow_up" in data:
        tables.append(_follow_up(data))
    return tables


def volunteer_tables(data: dict[str, Any]) -> list[Table]:
    table = Table(
        _("Volunteers"),
        [_("Volunteer"), _("Phone"), _("Traders onboarded"), _("Reached 2 active days in 30 days"),
         _("Share reaching it"), _("Still within their 30 days")],
        formats={2: NUMBER, 3: NUMBER, 4: SHARE, 5: NUMBER},
    )  # fmt: skip
    for row in data["volunteers"]:
        volunteer = row["volunteer"]
        table.rows.append(
            [volunteer["name"], volunteer["phone"], row["onboarded"], row["reached"], row["reached_share"],
             row["in_window"]]
        )  # fmt: skip
    return [table]


def to_csv(tables: list[Table]) -> bytes:
    """Every table under its title, a blank line between; UTF-8 with a BOM so
    that Excel shows "Chợ Đồng Quang" as written."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for index, table in enumerate(tables):
        if index:
            writer.writerow([])
        writer.writerow([table.title])
        writer.writerow(table.headers)
        writer.writerows([_cell(value) for value in row] for row in table.rows)
    return buffer.getvalue().encode()


def _sheet_title(title: str, taken: set[str]) -> str:
    # Excel: at most 31 characters, none of []:*?/\ , unique in the workbook.
    clean = "".join(" " if char in "[]:*?/\\" else char for char in title)[:31] or "Sheet"
    candidate, number = clean, 2
    while candidate in taken:
        candidate, number = f"{clean[:28]} {number}", number + 1
    taken.add(candidate)
    return candidate


def to_xlsx(tables: list[Table]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(value) if isinstance(value, str) else value for value in row])
        _apply_formats(sheet, table)
        for index, header in enumerate(table.headers, start=1):
            width = max([len(str(header))] + [len(str(row[index - 1])) for row in table.rows if len(row) >= index])
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(width + 2, 48)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _apply_formats(sheet: Any, table: Table) -> None:
    """Give numbers their format: a share as a percentage, đồng with separators."""
    apply: Callable[[Any, int, int], None]
    if table.formats_by_row:

        def apply(cell: Any, row: int, column: int) -> None:
            if column >= 1 and row in table.formats:
                cell.number_format = table.formats[row]

    else:

        def apply(cell: Any, row: int, column: int) -> None:
            if column in table.formats:
                cell.number_format = table.formats[column]

    for row_index, row in enumerate(sheet.iter_rows(min_row=2), start=1):
        for column_index, cell in enumerate(row):
            if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                apply(cell, row_index, column_index)

"""Numbers as a Vietnamese reader writes them: ``1.234.567 ₫``, ``1,2 tr``, ``45,2 %``.

Pure functions (no Django): the dashboard's template filters and the SVG charts
both call them with the active language. Vietnamese groups thousands with a dot
and writes the decimal comma; English the other way round. Money is integer
đồng throughout.
"""

from __future__ import annotations

from datetime import date


def _is_vi(lang: str | None) -> bool:
    return not lang or lang.lower().startswith("vi")


def _group(n: int, sep: str) -> str:
    sign = "-" if n < 0 else ""
    digits = f"{abs(n):,}".replace(",", sep)
    return sign + digits


def format_int(n: int | None, *, lang: str | None = "vi") -> str:
    """``1234567`` → ``1.234.567`` (vi) or ``1,234,567`` (en); ``None`` → ``–``."""
    if n is None:
        return "–"
    return _group(int(n), "." if _is_vi(lang) else ",")


def _decimal(x: float, places: int, lang: str | None) -> str:
    whole, _dot, fraction = f"{x:.{places}f}".partition(".")
    fraction = fraction.rstrip("0")
    vi = _is_vi(lang)
    text = _group(int(whole), "." if vi else ",") if whole.lstrip("-").isdigit() else whole
    if whole.startswith("-") and not text.startswith("-"):
        text = "-" + text  # -0.5 rounds to "-0"
    return f"{text}{',' if vi else '.'}{fraction}" if fraction else text


def format_decimal(x: float, places: int = 1, *, lang: str | None = "vi") -> str:
    """``3.25`` → ``3,3`` (vi) or ``3.3`` (en); a trailing ``,0`` is dropped."""
    return _decimal(x, places, lang)


def format_dong(amount: int | None, *, lang: str | None = "vi") -> str:
    """Full amount: ``1.234.567 ₫``."""
    if amount is None:
        return "–"
    return f"{format_int(amount, lang=lang)} ₫"


# (threshold, Vietnamese suffix, English suffix), largest first.
_SHORT_UNITS = (
    (1_000_000_000, "tỷ", "B"),
    (1_000_000, "tr", "M"),
    (1_000, "k", "k"),
)


def short_dong(amount: int | None, *, lang: str | None = "vi", precise: bool = False) -> str:
    """Axis and tile form: ``1,2 tr`` (1 200 000 đồng), ``3,5 tỷ``, ``850 k``; ``0`` → ``0``.

    One decimal below ten units, none above (``12 tr``, ``125 tr``); ``precise``:
    three significant digits (``1,02 tỷ``, ``18,2 tr``), for a headline figure."""
    if amount is None:
        return "–"
    n = int(amount)
    sign = "-" if n < 0 else ""
    n = abs(n)
    for index, (threshold, vi_suffix, en_suffix) in enumerate(_SHORT_UNITS):
        if n >= threshold:
            x = n / threshold
            # 999 950 would round to "1000 k": say "1 tr", in the next unit up.
            if round(x, 1 if x < 10 else 0) >= 1000 and index > 0:
                threshold, vi_suffix, en_suffix = _SHORT_UNITS[index - 1]
                x = n / threshold
            places = (2 if x < 10 else 1 if x < 100 else 0) if precise else (1 if x < 10 else 0)
            number = _decimal(x, places, lang)
            return f"{sign}{number} {vi_suffix}" if _is_vi(lang) else f"{sign}{number}{en_suffix}"
    return f"{sign}{n}"


def format_percent(share: float | None, *, lang: str | None = "vi", places: int = 0) -> str:
    """A share 0–1 as a percentage: ``0.452`` → ``45 %`` (vi, non-breaking space) or ``45%``."""
    if share is None:
        return "–"
    number = _decimal(share * 100, places, lang)
    return f"{number}\u00a0%" if _is_vi(lang) else f"{number}%"


def format_date(value: date | str | None, *, lang: str | None = "vi") -> str:
    """``2026-12-06`` → ``06/12/2026`` (vi) or ``6 Dec 2026`` (en)."""
    if value is None or value == "":
        return "–"
    d = date.fromisoformat(value) if isinstance(value, str) else value
    if _is_vi(lang):
        return d.strftime("%d/%m/%Y")
    return f"{d.day} {d.strftime('%b %Y')}"


def bucket_label(start: date | str, granularity: str, *, lang: str | None = "vi") -> str:
    """Short x-axis label of a series bucket: ``07/11`` for a day or a week
    (its Monday), ``11/2026`` for a month (English: ``7 Nov``, ``Nov 2026``)."""
    d = date.fromisoformat(start) if isinstance(start, str) else start
    if granularity == "month":
        return d.strftime("%m/%Y") if _is_vi(lang) else d.strftime("%b %Y")
    return d.strftime("%d/%m") if _is_vi(lang) else f"{d.day} {d.strftime('%b')}"

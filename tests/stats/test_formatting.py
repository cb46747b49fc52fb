"""Numbers on the dashboard read as a Vietnamese reader writes them."""

from __future__ import annotations

from datetime import date

import pytest

from stats.formatting import bucket_label, format_date, format_dong, format_int, format_percent, short_dong


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Pure functions: no cache to empty, so no test database either."""


def test_it_groups_thousands_with_dots_in_vietnamese_and_commas_in_english() -> None:
    assert format_dong(1_234_567, lang="vi") == "1.234.567 ₫"
    assert format_dong(0, lang="vi") == "0 ₫"
    assert format_int(1_234_567, lang="en") == "1,234,567"
    assert format_int(-5_000, lang="vi") == "-5.000"
    assert format_dong(None) == "–"


@pytest.mark.parametrize(
    ("amount", "vi", "en"),
    [
        (0, "0", "0"),
        (950, "950", "950"),
        (20_000, "20 k", "20k"),
        (1_200_000, "1,2 tr", "1.2M"),
        (1_000_000, "1 tr", "1M"),
        (999_999, "1 tr", "1M"),
        (12_400_000, "12 tr", "12M"),
        (3_450_000_000, "3,5 tỷ", "3.5B"),
    ],
)
def test_it_writes_short_amounts_for_axes_and_tiles(amount: int, vi: str, en: str) -> None:
    assert short_dong(amount, lang="vi") == vi
    assert short_dong(amount, lang="en") == en


def test_a_headline_amount_keeps_three_significant_digits() -> None:
    assert short_dong(1_023_456_789, lang="vi", precise=True) == "1,02 tỷ"
    assert short_dong(18_234_000, lang="vi", precise=True) == "18,2 tr"
    assert short_dong(125_600_000, lang="en", precise=True) == "126M"
    assert short_dong(2_000_000, lang="vi", precise=True) == "2 tr"


def test_it_writes_shares_as_percentages_with_the_decimal_comma() -> None:
    assert format_percent(0.452, lang="vi", places=1) == "45,2\u00a0%"
    assert format_percent(0.452, lang="en", places=1) == "45.2%"
    assert format_percent(1.0, lang="vi") == "100\u00a0%"
    assert format_percent(None) == "–"
    assert format_percent(25.01, lang="vi") == "2.501\u00a0%"


def test_it_writes_dates_day_first_in_vietnamese() -> None:
    assert format_date("2026-12-06", lang="vi") == "06/12/2026"
    assert format_date(date(2026, 12, 6), lang="en") == "6 Dec 2026"
    assert bucket_label("2026-11-07", "day", lang="vi") == "07/11"
    assert bucket_label("2026-11-01", "month", lang="vi") == "11/2026"

"""The SVG charts: one bar per bucket, heights to scale, every label escaped,
and something for a screen reader to read."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from django.utils import translation

from stats.charts import channel_mix, cohort_table, nice_ceiling, progress_bar, trend_chart

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Pure functions: no cache to empty, so no test database either."""


@pytest.fixture(autouse=True)
def _vietnamese() -> Iterator[None]:
    """The words of the charts in the site's language, whatever an earlier test left active."""
    with translation.override("vi"):
        yield


def svg_of(markup: str) -> ET.Element:
    return svgs_of(markup)[0]


def svgs_of(markup: str) -> list[ET.Element]:
    """The charts' drawings (not the legends' colour squares, small SVGs too)."""
    found = re.findall(r'<svg class="chart.*?</svg>', str(markup), re.S)
    assert found, markup
    return [ET.fromstring(svg) for svg in found]


def bars(svg: ET.Element) -> list[ET.Element]:
    return [el for el in svg.iter(f"{SVG}rect") if el.get("class") == "bar"]


def trend(values: list[int], counts: list[int] | None = None, labels: list[str] | None = None) -> str:
    labels = labels or [f"{i + 1:02d}/11" for i in range(len(values))]
    return trend_chart(
        labels=labels, values=values, counts=counts or [1] * len(values), title="Giá trị", desc="Mô tả", lang="vi"
    )


def test_it_draws_one_bar_per_bucket_even_an_empty_one_on_a_phone_and_a_wide_screen() -> None:
    narrow, wide = svgs_of(trend([0, 50_000, 0, 120_000, 0, 0, 7_000]))
    assert "chart--narrow" in narrow.get("class") and "chart--wide" in wide.get("class")
    for svg in (narrow, wide):
        assert len(bars(svg)) == 7
        assert [b.get("data-value") for b in bars(svg)] == ["0", "50000", "0", "120000", "0", "0", "7000"]
        assert float(bars(svg)[0].get("height")) == 0


def test_the_tallest_bar_is_the_largest_value_and_heights_are_to_scale() -> None:
    values = [250_000, 1_000_000, 500_000]
    heights = [float(b.get("height")) for b in bars(svg_of(trend(values)))]
    assert max(heights) == heights[1]
    assert heights[0] == pytest.approx(heights[1] / 4, abs=0.1)
    assert heights[2] == pytest.approx(heights[1] / 2, abs=0.1)
    # The axis tops out at a round figure at or above the largest value, inside the plot.
    assert heights[1] <= 230


def test_the_value_axis_is_labelled_in_short_vietnamese_dong() -> None:
    svg = svg_of(trend([1_200_000, 2_000_000]))
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "y-label"]
    assert labels == ["0", "500 k", "1 tr", "1,5 tr", "2 tr"]
    tooltip = bars(svg)[0].find(f"{SVG}title").text
    assert "1.200.000 ₫" in tooltip


def test_it_labels_a_few_buckets_on_the_x_axis_first_and_last_included() -> None:
    labels = [f"{d:02d}/11" for d in range(1, 31)]
    narrow, wide = svgs_of(trend([1_000] * 30, labels=labels))
    for svg, most in ((narrow, 5), (wide, 8)):
        shown = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "x-label"]
        assert len(shown) == most
        assert shown[0] == "01/11" and shown[-1] == "30/11"


def test_it_escapes_labels_and_titles() -> None:
    markup = trend_chart(
        labels=["<script>x</script>"], values=[1], counts=[1], title='A "b" <c>', desc="d & e", lang="vi"
    )
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    svg = svg_of(markup)  # still well-formed XML
    assert svg.find(f"{SVG}title").text == 'A "b" <c>'


def test_it_gives_screen_readers_a_title_a_description_and_the_figures_as_a_table() -> None:
    markup = trend([10_000, 20_000], counts=[1, 2])
    svg = svg_of(markup)
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id
    assert svg.find(f"{SVG}desc").get("id") == desc_id
    table = re.search(r'<table class="visually-hidden">.*</table>', markup, re.S).group(0)
    assert table.count("<tr>") == 3  # header + one per bucket
    assert "20.000 ₫" in table


def test_it_refuses_series_of_different_lengths() -> None:
    with pytest.raises(ValueError):
        trend_chart(labels=["a"], values=[1, 2], counts=[1], title="t", desc="d")


def test_nice_ceiling_rounds_the_axis_up_to_whole_steps() -> None:
    assert nice_ceiling(0) == (4.0, 1.0)
    assert nice_ceiling(3) == (4.0, 1.0)
    assert nice_ceiling(9) == (12, 3)  # not 2.5 payments a step
    assert nice_ceiling(1_200_000) == (1_200_000, 300_000)
    assert nice_ceiling(1_300_000) == (2_000_000, 500_000)
    assert nice_ceiling(9_000) == (10_000, 2_500)


def test_the_channel_mix_splits_the_bar_by_share_and_lists_every_channel() -> None:
    markup = channel_mix(
        channels=[("QR tĩnh", 30, 1_500_000, 0.75), ("Chuyển khoản", 10, 500_000, 0.25), ("Mã <USSD>", 0, 0, 0.0)],
        title="Kênh",
        lang="vi",
    )
    svg = svg_of(markup)
    segments = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "segment"]
    assert [float(s.get("width")) for s in segments] == [300, 100]
    assert markup.count("<li>") == 3
    assert "Mã &lt;USSD&gt;" in markup
    assert "75\u00a0%" in markup and "1.500.000 ₫" in markup
    # Each channel's square in the legend has its segment's colour.
    legend = re.findall(r'<svg class="swatch"[^>]*><rect width="1" height="1" fill="([^"]+)"/></svg>', markup)
    assert legend == [s.get("fill") for s in segments] + ["#009e73"]  # the empty one too


def test_the_legends_colour_their_squares_without_a_style_attribute() -> None:
    for markup in (
        trend([1_000, 2_000]),
        channel_mix(channels=[("QR tĩnh", 3, 9_000, 1.0)], title="Kênh", lang="vi"),
    ):
        assert "style=" not in markup  # refused by the Content-Security-Policy
    fills = re.findall(r'<svg class="swatch[^"]*"[^>]*><rect [^>]*fill="([^"]+)"', trend([1_000, 2_000]))
    assert fills == ["#0072b2", "#d55e00"]  # the bars' colour, the count line's


def test_an_empty_channel_mix_says_there_is_nothing() -> None:
    svg = svg_of(channel_mix(channels=[], title="Kênh", lang="en"))
    assert svg.find(f"{SVG}desc").text == "Không có giao dịch nào trong kỳ này."


def test_the_progress_bar_fills_to_the_current_share_and_marks_the_target() -> None:
    svg = svg_of(progress_bar(current=0.4, target=0.6, label="Độ phủ", lang="vi"))
    fill = next(r for r in svg.iter(f"{SVG}rect") if r.get("class") == "fill")
    mark = next(svg.iter(f"{SVG}line"))
    assert float(fill.get("width")) == 160
    assert float(mark.get("x1")) == 240
    assert svg.get("aria-label") == "Độ phủ: 40\u00a0%, mục tiêu 60\u00a0%"


def test_the_progress_bar_without_target_or_value_still_draws() -> None:
    svg = svg_of(progress_bar(current=None, target=None, label="Độ phủ", lang="vi"))
    fill = next(r for r in svg.iter(f"{SVG}rect") if r.get("class") == "fill")
    assert float(fill.get("width")) == 0
    assert list(svg.iter(f"{SVG}line")) == []


def test_the_cohort_table_shades_each_month_by_the_share_still_active() -> None:
    markup = cohort_table(
        cohorts=[
            {"month": "2026-06", "vendors": 10, "active": [10, 6, 4]},
            {"month": "2026-07", "vendors": 0, "active": [0]},
        ],
        lang="vi",
    )
    assert markup.count("<tr>") == 3
    assert ">06/2026<" in markup  # the month as Vietnamese write it
    assert ">100\u00a0%<" in markup and ">60\u00a0%<" in markup and ">40\u00a0%<" in markup
    assert 'class="empty"' in markup  # July has one month so far
    assert '<td class="heat-10 dark"' in markup  # the full cell is the darkest (dashboard.css)
    assert '<td class="heat-6 dark"' in markup and '<td class="heat-4"' in markup
    assert "style=" not in markup  # refused by the Content-Security-Policy

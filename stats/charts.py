"""Charts drawn on the server as SVG (no JavaScript, no CDN).

Each function takes plain lists of numbers and labels and returns safe markup:
every label is escaped, every chart has a ``<title>``/``<desc>`` for screen
readers and, where a picture alone would hide figures, a visually hidden data
table beside it. Sizes are in viewBox units; CSS scales the SVG to its box.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import count as _counter

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from stats.formatting import bucket_label, format_dong, format_int, format_percent, short_dong

# Colour-blind-safe palette (Okabe–Ito), channel order as the selectors list them.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#777777")
BAR_COLOUR = "#0072b2"
LINE_COLOUR = "#d55e00"

_ids = _counter(1)


def _uid(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _lang(lang: str | None) -> str:
    return lang or get_language() or "vi"


def _swatch(colour: str, extra_class: str = "") -> SafeString:
    """A legend's colour square: a tiny SVG filled with ``colour`` (a fill attribute,
    not a style attribute, which the Content-Security-Policy refuses)."""
    return format_html(
        '<svg class="{}" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true" focusable="false">'
        '<rect width="1" height="1" fill="{}"/></svg>',
        f"swatch {extra_class}".strip(),
        colour,
    )


def _titled_svg(
    css_class: str, extra: str, uid: str, width: int, height: int, title: str, desc: str, parts: Sequence[str]
) -> SafeString:
    """An ``<svg>`` named by its ``<title>`` and described by its ``<desc>``
    (``aria-labelledby``), holding ``parts`` (each already escaped by
    ``format_html``); ``extra`` is a constant attribute string of ours."""
    return format_html(
        '<svg class="{}" viewBox="0 0 {} {}"{} role="img" aria-labelledby="{}-t {}-d" '
        'xmlns="http://www.w3.org/2000/svg"><title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        css_class,
        width,
        height,
        mark_safe(extra),  # noqa: S308 - a constant of this module
        uid,
        uid,
        uid,
        title,
        uid,
        desc,
        mark_safe("".join(parts)),  # noqa: S308 - every part went through format_html
    )


def nice_ceiling(value: float, steps: int = 4) -> tuple[float, float]:
    """The top of an axis at or above ``value`` split into ``steps`` round
    steps (1, 2, 2.5, 3 or 5 × 10ⁿ, whole numbers only): returns ``(top, step)``.
    An empty axis is 0–4."""
    if value <= 0:
        return float(steps), 1.0
    raw = value / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 3, 5, 10):
        step = factor * magnitude
        if step != int(step):  # whole steps only: counts and đồng
            continue
        if step * steps >= value:
            return step * steps, step
    return 10 * magnitude * steps, 10 * magnitude  # pragma: no cover - the loop always returns


def _label_indexes(n: int, most: int = 6) -> list[int]:
    """Which of ``n`` buckets get an x-axis label: first, last and evenly between."""
    if n <= most:
        return list(range(n))
    step = (n - 1) / (most - 1)
    return sorted({round(i * step) for i in range(most)})


def trend_chart(
    *,
    labels: Sequence[str],
    values: Sequence[int],
    counts: Sequence[int],
    title: str,
    desc: str,
    lang: str | None = None,
) -> SafeString:
    """Payments per bucket: bars for the value (đồng, left axis), a line for the
    count (right axis). One ``<rect class="bar">`` per bucket, zero-height for an
    empty one, so the bars always line up with the buckets.

    Drawn twice, for a phone (``chart--narrow``) and a wider screen
    (``chart--wide``), the stylesheet showing one: an SVG's text scales with it,
    so one drawing is either unreadable on a phone or shouting on a desktop."""
    if not (len(labels) == len(values) == len(counts)):
        raise ValueError("labels, values and counts must have the same length")
    lang = _lang(lang)
    narrow = _trend_svg(labels, values, counts, title, desc, lang, width=340, height=230, most_labels=5, font=13)
    wide = _trend_svg(labels, values, counts, title, desc, lang, width=640, height=260, most_labels=8, font=12)
    legend = format_html(
        '<p class="chart-legend"><span class="legend-item">{}{}</span><span class="legend-item">{}{}</span></p>',
        _swatch(BAR_COLOUR),
        _("Value (₫, left)"),
        _swatch(LINE_COLOUR, "swatch-line"),
        _("Payments (right)"),
    )
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td></tr>',
        (
            (label, format_dong(v, lang=lang), format_int(c, lang=lang))
            for label, v, c in zip(labels, values, counts, strict=True)
        ),
    )
    table = format_html(
        '<table class="visually-hidden"><caption>{}</caption><thead><tr><th scope="col">{}</th>'
        '<th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{}</tbody></table>',
        title,
        _("Period"),
        _("Value"),
        _("Payments"),
        rows,
    )
    return format_html('<figure class="chart-figure">{}{}{}{}</figure>', narrow, wide, legend, table)


def _trend_svg(
    labels: Sequence[str],
    values: Sequence[int],
    counts: Sequence[int],
    title: str,
    desc: str,
    lang: str,
    *,
    width: int,
    height: int,
    most_labels: int,
    font: int,
) -> SafeString:
    left, right, top, bottom = 8 + 3 * font, 6 + 2 * font, 14, 12 + font
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(values)
    value_top, value_step = nice_ceiling(max(values, default=0))
    count_top, count_step = nice_ceiling(max(counts, default=0))
    slot = plot_w / n if n else plot_w
    bar_w = max(slot * 0.7, 1.0)
    base_y = top + plot_h
    uid = _uid("trend")

    parts: list[str] = []
    # Grid and both axes' tick labels.
    for i in range(5):
        y = base_y - plot_h * i / 4
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d9d9d9" stroke-width="1"/>',
                left,
                left + plot_w,
                _f(y),
                _f(y),
            )
        )
        parts.append(
            format_html(
                '<text class="y-label" x="{}" y="{}" text-anchor="end" font-size="{}">{}</text>',
                left - 4,
                _f(y + 4),
                font,
                short_dong(round(value_step * i), lang=lang),
            )
        )
        parts.append(
            format_html(
                '<text class="y2-label" x="{}" y="{}" text-anchor="start" font-size="{}" fill="{}">{}</text>',
                left + plot_w + 4,
                _f(y + 4),
                font,
                LINE_COLOUR,
                format_int(round(count_step * i), lang=lang),
            )
        )
    points = []
    for i, (label, value, cnt) in enumerate(zip(labels, values, counts, strict=True)):
        h = plot_h * value / value_top if value_top else 0
        x = left + slot * i + (slot - bar_w) / 2
        parts.append(
            format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}" data-value="{}">'
                "<title>{}: {} · {}</title></rect>",
                _f(x),
                _f(base_y - h),
                _f(bar_w),
                _f(h),
                BAR_COLOUR,
                value,
                label,
                format_dong(value, lang=lang),
                _("%(count)s payments") % {"count": format_int(cnt, lang=lang)},
            )
        )
        points.append(f"{_f(left + slot * i + slot / 2)},{_f(base_y - plot_h * cnt / count_top)}")
    if points:
        parts.append(
            format_html(
                '<polyline class="count-line" points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                " ".join(points),
                LINE_COLOUR,
            )
        )
    for i in _label_indexes(n, most_labels):
        parts.append(
            format_html(
                '<text class="x-label" x="{}" y="{}" text-anchor="middle" font-size="{}">{}</text>',
                _f(left + slot * i + slot / 2),
                height - 6,
                font,
                labels[i],
            )
        )
    size = "wide" if width > 400 else "narrow"
    return _titled_svg(f"chart chart-trend chart--{size}", "", uid, width, height, title, desc, parts)


def channel_mix(
    *,
    channels: Sequence[tuple[str, int, int, float]],
    title: str,
    lang: str | None = None,
) -> SafeString:
    """The channel mix as one stacked bar (segments by share of count) with a
    legend listing every channel's share, count and value.

    ``channels``: ``(label, count, value, share)`` with ``share`` 0–1."""
    lang = _lang(lang)
    width, height = 400, 28
    uid = _uid("mix")
    segments: list[str] = []
    x = 0.0
    for i, (label, _cnt, _value, share) in enumerate(channels):
        w = width * max(share, 0.0)
        if w <= 0:
            continue
        segments.append(
            format_html(
                '<rect class="segment" x="{}" y="0" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                _f(x),
                _f(w),
                height,
                PALETTE[i % len(PALETTE)],
                label,
                format_percent(share, lang=lang),
            )
        )
        x += w
    if not segments:
        segments.append(format_html('<rect x="0" y="0" width="{}" height="{}" fill="#eeeeee"/>', width, height))
    desc = "; ".join(
        f"{label}: {format_percent(share, lang=lang)} ({format_int(cnt, lang=lang)})"
        for label, cnt, _v, share in channels
    )
    svg = _titled_svg(
        "chart chart-mix",
        ' preserveAspectRatio="none"',
        uid,
        width,
        height,
        title,
        desc or _("No payments in this period."),
        segments,
    )
    items = format_html_join(
        "",
        '<li>{}<span class="mix-label">{}</span> <strong>{}</strong> <span class="muted">{} · {}</span></li>',
        (
            (
                _swatch(PALETTE[i % len(PALETTE)]),
                label,
                format_percent(share, lang=lang),
                _("%(count)s payments") % {"count": format_int(cnt, lang=lang)},
                format_dong(value, lang=lang),
            )
            for i, (label, cnt, value, share) in enumerate(channels)
        ),
    )
    return format_html('<figure class="chart-figure">{}<ul class="mix-legend">{}</ul></figure>', svg, items)


def progress_bar(*, current: float | None, target: float | None, label: str, lang: str | None = None) -> SafeString:
    """A share (0–1) on a 0–100 % track with the target marked: the fill is
    where the scope stands, the dark tick where it should be by the deadline."""
    lang = _lang(lang)
    width, height = 400, 16
    value = min(max(current or 0.0, 0.0), 1.0)
    marker = ""
    if target is not None:
        tx = width * min(max(target, 0.0), 1.0)
        tx = min(max(tx, 1.5), width - 1.5)
        marker = format_html(
            '<line class="target-mark" x1="{}" x2="{}" y1="0" y2="{}" stroke="#222222" stroke-width="3"/>',
            _f(tx),
            _f(tx),
            height,
        )
        aria = _("%(label)s: %(current)s, target %(target)s") % {
            "label": label,
            "current": format_percent(current, lang=lang),
            "target": format_percent(target, lang=lang),
        }
    else:
        aria = f"{label}: {format_percent(current, lang=lang)}"
    return format_html(
        '<svg class="chart chart-progress" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" '
        'aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
        '<rect class="track" x="0" y="0" width="{}" height="{}" rx="4" fill="#e6e6e6"/>'
        '<rect class="fill" x="0" y="0" width="{}" height="{}" rx="4" fill="{}"/>{}</svg>',
        width,
        height,
        aria,
        aria,
        width,
        height,
        _f(width * value),
        height,
        "#009e73" if target is not None and current is not None and current >= target else BAR_COLOUR,
        marker,
    )


def cohort_table(*, cohorts: Sequence[dict], lang: str | None = None) -> SafeString:
    """Retention by onboarding month as an HTML heat table: one row per cohort
    (``{"month": "2026-06", "vendors": n, "active": [m0, m1, …]}``), a cell per
    month since onboarding giving the share still active, shaded by that share
    to the nearest tenth (classes ``heat-0`` … ``heat-10`` of dashboard.css: a
    style attribute per cell would be refused by the Content-Security-Policy)."""
    lang = _lang(lang)
    width = max((len(c["active"]) for c in cohorts), default=0)
    head = format_html_join("", '<th scope="col">{}</th>', ((_("M%(n)s") % {"n": i},) for i in range(width)))
    rows = []
    for cohort in cohorts:
        total = cohort["vendors"]
        cells = []
        for i in range(width):
            if i >= len(cohort["active"]):
                cells.append(mark_safe('<td class="empty"></td>'))
                continue
            active = cohort["active"][i]
            share = active / total if total else 0.0
            cells.append(
                format_html(
                    '<td class="{}" title="{}">{}</td>',
                    f"heat-{round(10 * share)}" + (" dark" if share >= 0.5 else ""),
                    _("%(active)s of %(vendors)s active") % {"active": active, "vendors": total},
                    format_percent(share, lang=lang),
                )
            )
        rows.append(
            format_html(
                '<tr><th scope="row">{}</th><td class="num">{}</td>{}</tr>',
                bucket_label(f"{cohort['month']}-01", "month", lang=lang),
                format_int(total, lang=lang),
                mark_safe("".join(cells)),  # noqa: S308 - every cell went through format_html
            )
        )
    return format_html(
        '<div class="table-scroll"><table class="cohort-table"><caption class="visually-hidden">{}</caption><thead><tr>'
        '<th scope="col">{}</th><th scope="col">{}</th>{}</tr></thead><tbody>{}</tbody></table></div>',
        _("Share of each month's new traders active, by months since onboarding"),
        _("Onboarding month"),
        _("Traders"),
        head,
        mark_safe("".join(rows)),  # noqa: S308 - every row went through format_html
    )


def _f(x: float) -> str:
    """A coordinate with at most one decimal, no trailing zero."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


__all__ = ["channel_mix", "cohort_table", "nice_ceiling", "progress_bar", "trend_chart"]

"""What the dashboard pages show, made from a selector's dict (``stats.selectors``):
the headline tiles with their change against the previous period, the charts,
the period presets and the export links. No query here: the pages render the
very figures the API returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from stats import charts
from stats.formatting import (
    bucket_label,
    format_date,
    format_decimal,
    format_dong,
    format_int,
    format_percent,
    short_dong,
)

PRESET_LABELS = {
    "today": gettext_lazy("Today"),
    "week": gettext_lazy("This week"),
    "month": gettext_lazy("This month"),
    "7d": gettext_lazy("7 days"),
    "30d": gettext_lazy("30 days"),
    "90d": gettext_lazy("90 days"),
}
GRANULARITY_LABELS = {
    "day": gettext_lazy("By day"),
    "week": gettext_lazy("By week"),
    "month": gettext_lazy("By month"),
}


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    change: str = ""  # "▲ 12 %" against the previous period, empty when there is nothing to compare
    direction: str = ""  # "up", "down" or "" (flat or unknown)
    change_label: str = ""  # the same change in words, for screen readers
    progress: SafeString | None = None  # a progress bar against the target
    note: str = ""


def _change(
    current: float | int | None, previous: float | int | None, *, share: bool, lang: str
) -> tuple[str, str, str]:
    """``(text, direction, words)`` for a headline against the previous period:
    a relative change for counts and money, percentage points for shares."""
    if current is None or previous is None:
        return "", "", ""
    if share:
        delta = (float(current) - float(previous)) * 100
        if abs(delta) < 0.05:
            return "= " + _("no change"), "", _("No change against the previous period.")
        amount = _("%(points)s pts") % {"points": format_decimal(abs(delta), 1, lang=lang)}
    else:
        if previous == 0:
            if current == 0:
                return "= " + _("no change"), "", _("No change against the previous period.")
            return _("new"), "up", _("None in the previous period.")
        ratio = (float(current) - float(previous)) / float(previous)
        if abs(ratio) < 0.0005:
            return "= " + _("no change"), "", _("No change against the previous period.")
        amount = format_percent(abs(ratio), lang=lang, places=1 if abs(ratio) < 0.1 else 0)
    if (current or 0) > (previous or 0):
        return f"▲ {amount}", "up", _("Up %(amount)s against the previous period.") % {"amount": amount}
    return f"▼ {amount}", "down", _("Down %(amount)s against the previous period.") % {"amount": amount}


def tiles(stats: dict[str, Any], *, lang: str) -> list[Tile]:
    """The headline tiles of a scope, in the order a board reads them."""
    previous = stats.get("previous") or {}
    target = stats.get("target") or None

    def tile(key: str, label: str, text: str, *, share: bool = False, **extra: Any) -> Tile:
        change, direction, words = _change(stats.get(key), previous.get(key), share=share, lang=lang)
        return Tile(key, label, text, change, direction, words, **extra)

    def progress(key: str, label: str) -> SafeString:
        goal = float(target[key]) if target and target.get(key) is not None else None
        value = stats.get(key)
        return charts.progress_bar(current=value, target=goal, label=label, lang=lang)

    coverage_note = _("%(qr)s of %(stalls)s stalls have a QR") % {
        "qr": format_int(stats.get("vendors_with_qr"), lang=lang),
        "stalls": format_int(stats.get("stalls"), lang=lang),
    }
    activation_note = _("%(activated)s traders have been paid at least once") % {
        "activated": format_int(stats.get("vendors_activated"), lang=lang)
    }
    return [
        tile(
            "payments_value",
            _("Value received"),
            short_dong(stats.get("payments_value"), lang=lang, precise=True) + " ₫",
            note=format_dong(stats.get("payments_value"), lang=lang),
        ),
        tile("payments_count", _("Number of payments"), format_int(stats.get("payments_count"), lang=lang)),
        tile("average_ticket", _("Average payment"), format_dong(stats.get("average_ticket"), lang=lang)),
        tile("active_vendors", _("Traders paid in the period"), format_int(stats.get("active_vendors"), lang=lang)),
        tile(
            "coverage",
            _("Coverage"),
            format_percent(stats.get("coverage"), lang=lang),
            share=True,
            progress=progress("coverage", _("Coverage")),
            note=coverage_note,
        ),
        tile(
            "activation",
            _("Activation"),
            format_percent(stats.get("activation"), lang=lang),
            share=True,
            note=activation_note,
        ),
        tile(
            "active_30d",
            _("Active in the last 30 days"),
            format_int(stats.get("active_30d"), lang=lang),
            progress=_active_progress(stats, target, lang=lang),
            note=_("%(n)s active in the last 7 days") % {"n": format_int(stats.get("active_7d"), lang=lang)},
        ),
        tile(
            "regular_vendors",
            _("Regular traders"),
            format_int(stats.get("regular_vendors"), lang=lang),
            note=_("10 or more active days in 90"),
        ),
    ]


def _goal(stats: dict[str, Any], key: str) -> float | None:
    target = stats.get("target")
    return float(target[key]) if target and target.get(key) is not None else None


def _active_progress(stats: dict[str, Any], target: dict[str, Any] | None, *, lang: str) -> SafeString:
    """The target's "active" is a share: traders holding a QR active in the 30 days ending at ``to``."""
    goal = float(target["active"]) if target and target.get("active") is not None else None
    return charts.progress_bar(
        current=stats.get("active_share"), target=goal, label=_("Share of traders with a QR active"), lang=lang
    )


def trend(stats: dict[str, Any], *, lang: str, title: str | None = None) -> SafeString:
    series = stats.get("series") or []
    granularity = stats["period"]["granularity"]
    labels = [bucket_label(row["start"], granularity, lang=lang) for row in series]
    values = [int(row["payments_value"]) for row in series]
    counts = [int(row["payments_count"]) for row in series]
    desc = _("%(count)s payments worth %(value)s from %(start)s to %(end)s, %(granularity)s.") % {
        "count": format_int(sum(counts), lang=lang),
        "value": format_dong(sum(values), lang=lang),
        "start": format_date(stats["period"]["from"], lang=lang),
        "end": format_date(stats["period"]["to"], lang=lang),
        "granularity": str(GRANULARITY_LABELS.get(granularity, granularity)).lower(),
    }
    return charts.trend_chart(
        labels=labels,
        values=values,
        counts=counts,
        title=title or _("Payments received over time"),
        desc=desc,
        lang=lang,
    )


def channel_mix(stats: dict[str, Any], *, lang: str) -> SafeString:
    rows = [
        (str(row.get("label") or row["channel"]), int(row["count"]), int(row["value"]), float(row.get("share") or 0))
        for row in stats.get("channels") or []
    ]
    return charts.channel_mix(channels=rows, title=_("How traders are paid"), lang=lang)


def cohorts(stats: dict[str, Any], *, lang: str) -> SafeString | None:
    # Months nobody was onboarded in say nothing about retention.
    rows = [row for row in stats.get("cohorts") or [] if row.get("vendors")]
    return charts.cohort_table(cohorts=rows, lang=lang) if rows else None


def size_buckets(stats: dict[str, Any], *, lang: str) -> list[dict[str, Any]]:
    """The size buckets (``max`` inclusive) with a short label: ``< 20 k``, ``20 k – 50 k``, ``≥ 500 k``."""
    out = []
    for row in stats.get("size_buckets") or []:
        low, high = row.get("min") or 0, row.get("max")
        if high is None:
            label = "≥ " + short_dong(low, lang=lang)
        elif not low:
            label = "< " + short_dong(high + 1, lang=lang)
        else:
            label = f"{short_dong(low, lang=lang)} – {short_dong(high + 1, lang=lang)}"
        out.append({**row, "label": label})
    return out


def groups(stats: dict[str, Any], *, lang: str) -> list[dict[str, Any]]:
    """The province's legacy-unit groups (the former Bắc Kạn pilot), each with its own trend."""
    out = []
    for group in stats.get("groups") or []:
        period = stats["period"]
        name = group.get("name") or ""
        out.append(
            {**group, "trend": trend({"series": group.get("series") or [], "period": period}, lang=lang, title=name)}
        )
    return out


def page_context(stats: dict[str, Any], *, api_path: str, lang: str) -> dict[str, Any]:
    """Everything a scope page (nation, province, market) shows, from the selector's dict."""
    return {
        "stats": stats,
        "period_words": period_words(stats["period"], lang=lang),
        "presets": preset_links(stats["period"]),
        "exports": export_links(api_path, stats["period"]),
        "period_qs": urlencode(period_query(stats["period"])),
        "tiles": tiles(stats, lang=lang),
        "trend": trend(stats, lang=lang),
        "channel_mix": channel_mix(stats, lang=lang),
        "size_buckets": size_buckets(stats, lang=lang),
        "coverage_bar": charts.progress_bar(
            current=stats.get("coverage"), target=_goal(stats, "coverage"), label=_("Coverage"), lang=lang
        ),
        "activation_bar": charts.progress_bar(
            current=stats.get("activation"), target=None, label=_("Activation"), lang=lang
        ),
        "groups": groups(stats, lang=lang),
        "cohorts": cohorts(stats, lang=lang),
    }


# --- the period bar --------------------------------------------------------------------


def period_query(period: dict[str, Any]) -> dict[str, str]:
    """The query string that asks for the same period again (pages, API exports)."""
    if period.get("preset"):
        return {"preset": period["preset"], "granularity": period["granularity"]}
    return {"from": period["from"], "to": period["to"], "granularity": period["granularity"]}


def preset_links(period: dict[str, Any], *, keep: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One-tap presets, the current one marked (each picks its own granularity);
    ``keep``: query parameters every link keeps (the volunteer page's scope)."""
    return [
        {
            "key": key,
            "label": label,
            "url": "?" + urlencode({**(keep or {}), "preset": key}),
            "current": period.get("preset") == key,
        }
        for key, label in PRESET_LABELS.items()
    ]


def export_links(api_path: str, period: dict[str, Any], *, keep: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The API's own exports (it accepts the session), for the same period."""
    query = {**(keep or {}), **period_query(period)}
    return [
        {"label": _("Download CSV"), "url": f"{api_path}?{urlencode({**query, 'format': 'csv'})}"},
        {"label": _("Download Excel"), "url": f"{api_path}?{urlencode({**query, 'format': 'xlsx'})}"},
    ]


def period_words(period: dict[str, Any], *, lang: str) -> str:
    start, end = format_date(period["from"], lang=lang), format_date(period["to"], lang=lang)
    if start == end:
        return start
    return _("%(start)s to %(end)s") % {"start": start, "end": end}

"""What keeps the pages within the Content-Security-Policy (config/settings.py,
``default-src 'self'`` without ``'unsafe-inline'`` or ``'unsafe-eval'``): no
template inlines a script, an event handler, a ``<style>`` or a style
attribute, no markup built in Python carries a style attribute, and no script
of ours sets one or evaluates text. A browser would refuse each (the pages
themselves are checked in Chromium by tests/web/test_csp_in_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]
    for path in folder.rglob("*.html")
    if ".venv" not in path.parts
)
# E-mail, never served as a page: mail clients drop <style> and <link>, so an
# e-mail's HTML styles each element, and no Content-Security-Policy applies to it.
EMAIL = {ROOT / "stats" / "templates" / "stats" / "digest" / "weekly.html"}

TAG = re.compile(r"<[a-zA-Z][^<>]*>")
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
STYLE_ELEMENT = re.compile(r"<style\b", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""=\s*["']?\s*javascript:""", re.I)


def refusals(markup: str) -> list[str]:
    """What a browser enforcing the policy would refuse in ``markup``."""
    found = [f"inline script {m.group()}" for m in INLINE_SCRIPT.finditer(markup)]
    found += [f"<style> element at {m.start()}" for m in STYLE_ELEMENT.finditer(markup)]
    for tag in TAG.findall(markup):
        if STYLE_ATTRIBUTE.search(tag):
            found.append(f"style attribute in {tag}")
        if EVENT_HANDLER.search(tag):
            found.append(f"event handler in {tag}")
        if JAVASCRIPT_URL.search(tag):
            found.append(f"javascript: URL in {tag}")
    return found


def test_the_checker_catches_what_a_browser_would_refuse() -> None:
    assert refusals('<script>alert(1)</script><script src="/static/js/a.js" defer></script>') == [
        "inline script <script>"
    ]
    assert refusals('<script id="s" type="application/json">{}</script>') == []  # data, not run
    assert len(refusals('<style>p{}</style><p style="color:red">x</p>')) == 2
    assert refusals('<button type="button" onclick="go()">Go</button>') == [
        'event handler in <button type="button" onclick="go()">'
    ]
    assert refusals('<a href="javascript:go()">Go</a>') == ['javascript: URL in <a href="javascript:go()">']
    assert refusals("<p>Pay online = pay by QR; the style = ours</p>") == []  # text, not attributes


@pytest.mark.parametrize("template", [t for t in TEMPLATES if t not in EMAIL], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_inlines_a_script_or_a_style(template: Path) -> None:
    assert refusals(template.read_text(encoding="utf-8")) == []


def test_every_template_is_checked() -> None:
    assert len(TEMPLATES) > 40
    assert EMAIL.issubset(TEMPLATES)  # the exception still exists (else drop it)


def test_no_markup_built_in_python_carries_a_style_attribute_or_a_script() -> None:
    sources = [
        path
        for path in ROOT.glob("*/**/*.py")
        if path.parts[len(ROOT.parts)] not in {".venv", "tests", "var", "node_modules"}
        and "migrations" not in path.parts
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"""<[a-zA-Z][^<>"]*\sstyle=|<script>|\son(?:click|load|change|submit|input)=\\?["']""", line)
    ]
    assert len(sources) > 100
    assert offenders == []


def test_no_script_of_ours_sets_a_style_attribute_or_evaluates_text() -> None:
    scripts = sorted((ROOT / "static" / "js").glob("*.js"))
    assert len(scripts) >= 5
    refused = re.compile(
        r"""setAttribute\(\s*["']style["']|style=|\beval\(|new Function\(|set(?:Timeout|Interval)\(\s*["']"""
    )
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in scripts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if refused.search(line)
    ]
    assert offenders == []


def test_no_admin_list_turns_off_both_action_bars() -> None:
    """Django's change list inlines a ``<style>`` when a model admin sets both
    ``actions_on_top`` and ``actions_on_bottom`` to False; none does, so the
    admin needs no exception to the policy (tests/web/test_csp_in_browser.py)."""
    from django.contrib import admin

    assert admin.site._registry
    both_off = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if not (model_admin.actions_on_top or model_admin.actions_on_bottom)
    ]
    assert both_off == []

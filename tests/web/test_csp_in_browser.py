"""The Content-Security-Policy (``DJANGO_CSP``, default ``default-src 'self'``: no
inline script, event handler, ``<style>`` or style attribute, no eval) in
Chromium: every role's main pages load without a single violation and still
work — the stall page's script connects, the new-trader form's bank search
appears, the dashboard's charts are drawn in their colours, Swagger UI lists the
operations, the admin's scripts run. A violation is caught twice: the page's
``securitypolicyviolation`` events (spied on before any script of the page runs)
and Chromium's console message ("Refused to … Content Security Policy")."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from payments.models import CardBatch, WebhookDelivery
from tests.browser import screenshot
from tests.stats.dashboard_data import month_of_payments

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "cho40-test-pass"
PHONE, DESKTOP = 360, 1280

CSP_SPY = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(autouse=True)
def _streams_end_with_the_test(browser: Any, settings: Any) -> Any:
    """The stall page keeps an event stream open; the live server's thread
    notices the page is gone when it next writes (a ping each second here)."""
    settings.STALL_KEEPALIVE_SECONDS = 1
    yield
    for context in browser.contexts:
        context.close()
    time.sleep(1.5)


def open_as(page_at: Any, live_server: Any, user: Any | None, width: int = PHONE) -> Any:
    """A page whose violations are recorded: ``page.violations()`` lists them."""
    page = page_at(width)
    console: list[str] = []
    page.on(
        "console",
        lambda message: console.append(message.text)
        if "Content Security Policy" in message.text or "Refused to" in message.text
        else None,
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.add_init_script(CSP_SPY)
    if user is not None:
        client = Client()
        client.force_login(user)
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )

    def violations() -> list[str]:
        page.wait_for_timeout(300)  # a report is dispatched a moment after the refusal
        return [*page.evaluate("window.__csp || []"), *console, *errors]

    page.violations = violations
    return page


def visit(page: Any, url: str, ready: str, name: str) -> None:
    """Open ``url``, wait for ``ready`` (what the page's script or stylesheet
    makes visible), save a screenshot and fail on any violation or script error."""
    answer = page.goto(url)
    assert answer is not None and answer.status == 200, url
    assert "default-src 'self'" in (answer.headers.get("content-security-policy") or ""), url
    page.locator(ready).first.wait_for(state="visible")
    screenshot(page, f"csp-{name}")
    assert page.violations() == [], url


def test_a_visitor_signs_in_on_pages_without_a_violation(live_server, page_at, cast):
    cast.board.set_password(PASSWORD)
    cast.board.save()
    page = open_as(page_at, live_server, None)
    visit(page, live_server.url + "/", "h1", "landing")
    visit(page, live_server.url + "/login/", "form button[type=submit]", "login")
    assert page.locator("link[rel=stylesheet]").count() >= 1
    # The stylesheet applies: the sign-in button is the brand colour, not the browser's grey.
    assert page.evaluate(
        "getComputedStyle(document.querySelector('form button[type=submit]')).backgroundColor"
    ) not in ("rgba(0, 0, 0, 0)", "rgb(239, 239, 239)")

    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill("board")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()  # form-action 'self'
    page.wait_for_load_state()
    assert "/login/" not in page.url
    assert page.violations() == [], page.url


def test_the_stall_pages_run_their_scripts_without_a_violation(live_server, page_at, cast):
    page = open_as(page_at, live_server, cast.vendor_user)
    visit(page, live_server.url + "/stall/", "[data-stall][data-live]", "stall")  # data-live: the script runs
    page.wait_for_function(
        "() => document.querySelector('[data-stall]').dataset.live === 'stream'"
    )  # EventSource: connect-src
    visit(page, live_server.url + "/stall/sale/", "form", "stall-sale")
    for key in ("5", "000"):  # the keypad is the page's script
        page.locator(f"[data-key='{key}']").click()
    page.get_by_role("button", name="Tạo mã QR").click()
    page.wait_for_url("**/stall/sale/*/")
    page.locator(".sale-qr svg").wait_for()  # the QR, an SVG in the page
    page.wait_for_function("() => document.querySelector('[data-countdown]').textContent.startsWith('14:')")
    screenshot(page, "csp-stall-sale-qr")
    assert page.violations() == [], page.url
    visit(page, live_server.url + "/stall/code/", "form", "stall-code")
    visit(page, live_server.url + "/stall/payments/", "h1", "stall-payments")
    assert page.violations() == []


def test_the_volunteer_onboarding_pages_run_without_a_violation(live_server, page_at, cast):
    page = open_as(page_at, live_server, cast.volunteer)
    visit(page, live_server.url + "/onboard/", "h1", "onboard-start")
    # The bank search box is hidden until the page's script shows it.
    visit(page, live_server.url + f"/onboard/traders/new/{cast.market.pk}/", "[data-bank-search]", "onboard-new")
    visit(page, live_server.url + "/onboard/traders/", "h1", "onboard-mine")
    visit(page, live_server.url + f"/onboard/traders/{cast.vendor.pk}/", "h1", "onboard-trader")


def test_the_board_pages_and_dashboard_draw_without_a_violation(live_server, page_at, cast):
    month_of_payments(cast)
    CardBatch.objects.create(market=cast.market, requested_by=cast.board, total=8, done=2, status="running")
    page = open_as(page_at, live_server, cast.board, DESKTOP)
    visit(
        page,
        live_server.url + f"/dashboard/markets/{cast.market.pk}/",
        "svg.chart-trend.chart--wide",
        "dashboard-market",
    )
    # The legend swatches and the heat table keep their colours without style attributes.
    swatches = page.evaluate(
        "[...document.querySelectorAll('.swatch')].map(s => getComputedStyle(s).backgroundColor"
        " + getComputedStyle(s).fill)"
    )
    assert swatches and all("rgb(" in s for s in swatches)
    assert not any(s.startswith("rgba(0, 0, 0, 0)none") for s in swatches), swatches
    assert page.locator(".cohort-table td:not(.empty)").count() >= 1
    heat = page.evaluate(
        "[...document.querySelectorAll('.cohort-table td:not(.empty):not(.num)')]"
        ".map(td => getComputedStyle(td).backgroundColor)"
    )
    assert heat and all(colour.startswith("rgba(0, 114, 178") for colour in heat), heat
    visit(page, live_server.url + f"/onboard/markets/{cast.market.pk}/", "h1", "board-home")
    visit(page, live_server.url + f"/onboard/markets/{cast.market.pk}/review/", "h1", "board-review")
    visit(page, live_server.url + f"/onboard/markets/{cast.market.pk}/cards/", "[data-testid=batch]", "board-cards")
    bar = page.locator("[data-testid=batch] progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("25", "100")
    visit(page, live_server.url + f"/onboard/people/{cast.market.pk}/", "h1", "board-people")
    visit(page, live_server.url + f"/onboard/markets/{cast.market.pk}/import/", "form", "board-import")


def test_the_officer_dashboard_draws_without_a_violation(live_server, page_at, cast):
    month_of_payments(cast)
    page = open_as(page_at, live_server, cast.officer, DESKTOP)
    visit(page, live_server.url + "/dashboard/", "svg.chart-trend.chart--wide", "dashboard-officer")


def test_swagger_ui_lists_the_operations_without_a_violation(live_server, page_at, cast):
    page = open_as(page_at, live_server, cast.officer, DESKTOP)
    visit(page, live_server.url + "/api/v1/docs/", ".opblock", "api-docs")
    assert page.locator(".opblock").count() > 20
    # "Try it out" runs a read with the session, and a write with the CSRF token the
    # static start-up script adds (without it the answer would be 403 "CSRF Failed").
    for method, expected in (("get", {"200"}), ("post", {"201", "400"})):
        operation = page.locator(f".opblock-{method}").filter(
            has=page.locator('.opblock-summary-path[data-path="/api/v1/markets/"]')
        )
        operation.locator(".opblock-summary").click()
        operation.get_by_role("button", name="Try it out").click()
        operation.get_by_role("button", name="Execute").click()
        status = operation.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for()
        assert status.inner_text().split()[0] in expected, (method, status.inner_text())
    screenshot(page, "csp-api-docs-tried")
    assert page.violations() == []


def test_the_admin_works_without_a_violation(live_server, page_at, cast):
    page = open_as(page_at, live_server, cast.admin, DESKTOP)
    visit(page, live_server.url + "/admin/", "#content", "admin-index")
    assert page.locator("html").get_attribute("data-theme")  # the admin's theme script ran
    # A list without actions (Django inlines a <style> for it) and one with actions.
    visit(page, live_server.url + "/admin/market/province/", "#result_list", "admin-list-no-actions")
    visit(page, live_server.url + "/admin/payments/payment/", "#changelist", "admin-list-actions")
    # The calendar shortcut and the ward's search box are drawn by the admin's scripts.
    visit(
        page, live_server.url + f"/admin/market/market/{cast.market.pk}/change/", ".datetimeshortcuts", "admin-change"
    )
    assert page.locator(".select2-container").count() >= 1
    # A read-only ledger page: multi-line text wraps by a class of css/admin.css, not a style attribute.
    delivery = WebhookDelivery.objects.create(source="sepay", body="line one\nline two " + "x" * 400, status="rejected")
    visit(
        page, live_server.url + f"/admin/payments/webhookdelivery/{delivery.pk}/change/", "pre.pre-wrap", "admin-ledger"
    )
    assert page.evaluate("getComputedStyle(document.querySelector('pre.pre-wrap')).whiteSpace") == "pre-wrap"
    assert page.evaluate("(p => p.scrollWidth <= p.clientWidth)(document.querySelector('pre.pre-wrap'))")  # wrapped

"""``/api/v1/docs/`` in Chromium: Swagger UI draws the API from this server alone."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_draws_swagger_ui_without_asking_any_other_host(live_server, page_at):
    page = page_at(1280)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server.url + "/api/v1/docs/")
    page.locator(".opblock").first.wait_for()  # the operations, read from /api/v1/schema/

    assert page.get_by_text("Chợ 4.0 API").first.is_visible()
    own = urlsplit(live_server.url).netloc
    assert [url for url in requested if urlsplit(url).netloc != own and not url.startswith("data:")] == []
    assert any(url.endswith("/api/v1/schema/") for url in requested)
    screenshot(page, "api-docs-1280", full_page=False)

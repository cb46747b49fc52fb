"""``/api/v1/docs/``: Swagger UI from our own static files, nothing from a CDN."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db

ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""")
ASSET = re.compile(r"""(?:src|href)="([^"]+)\"""")


def test_it_references_no_other_host(client):
    page = client.get("/api/v1/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    elsewhere = [url for url in ABSOLUTE_URL.findall(html) if urlsplit(url).hostname not in (None, "testserver")]
    assert elsewhere == []
    assert '"validatorUrl": null' in html  # the schema is not sent to a public validator


def test_it_serves_every_script_and_stylesheet_it_references(client):
    html = client.get("/api/v1/docs/").content.decode()
    assets = [url for url in ASSET.findall(html) if url.endswith((".js", ".css"))]

    assert any(url.endswith("swagger-ui-bundle.js") for url in assets)
    for url in assets:
        assert url.startswith("/static/"), url
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert b"".join(answer.streaming_content if answer.streaming else [answer.content]), url

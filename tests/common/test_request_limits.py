"""A body of 20 MB on every write endpoint of the URL configuration (API, web
pages, admin, webhooks) is refused at once with 413 and the JSON error, signed
in or not; nothing is stored. Bodies a page really takes still go through."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from drills.abuse_targets import write_routes
from payments.models import WebhookDelivery
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

TWENTY_MB = 20 * 1024 * 1024
# The sweep declares 20 MB and sends a few bytes: the middleware reads only the
# header, and a view that read the body would fail the test on the short body.
# (The abuse drill sends the real 20 MB over a socket to a live gunicorn.)
DECLARED = {"CONTENT_LENGTH": str(TWENTY_MB)}


def test_every_write_endpoint_refuses_20_mb_with_413_json(cast) -> None:
    anonymous, admin = Client(), Client()
    admin.force_login(cast.admin)
    routes = write_routes()
    wrong = []

    for route in routes:
        for method in route.methods:
            # Signed in too, except on the admin's ~140 model pages (time: CI is at its bound).
            clients = [("anonymous", anonymous)] + (
                [] if route.pattern.startswith("/admin/") else [("superuser", admin)]
            )
            for who, client in clients:
                answer = client.generic(method, route.path(), b"{}", content_type="application/json", **DECLARED)
                body = answer.json() if answer.get("Content-Type") == "application/json" else {}
                if answer.status_code != 413 or body.get("error", {}).get("code") != "request_too_large":
                    wrong.append(f"{who} {method} {route.pattern}: {answer.status_code}")

    assert len(routes) > 100  # the sweep found the URL configuration
    assert wrong == []
    assert Vendor.objects.count() == 2  # the cast's, nothing added
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.parametrize("path", ["/api/v1/vendors/", "/login/", "/api/v1/webhooks/sepay/"])
def test_a_real_20_mb_body_is_refused_unread(cast, path: str) -> None:
    body = b'{"full_name": "' + b"x" * TWENTY_MB + b'"}'

    answer = Client().post(path, body, content_type="application/json")

    assert answer.status_code == 413
    assert not answer.wsgi_request.META["wsgi.input"].read_started  # not a byte of it read


def test_a_form_body_over_the_upload_limit_is_refused_413_not_400(cast, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client()
    client.force_login(cast.volunteer)

    answer = client.post("/login/", "username=" + "x" * 2000, content_type="application/x-www-form-urlencoded")

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "request_too_large"


def test_a_spreadsheet_upload_over_the_form_limit_still_reaches_the_import_page(cast, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # files are not form data: they go by REQUEST_MAX_BODY_BYTES
    client = Client()
    client.force_login(cast.board)
    upload = SimpleUploadedFile("traders.csv", b"full_name,phone\n" + b"x" * 5000, content_type="text/csv")

    answer = client.post(f"/onboard/markets/{cast.market.pk}/import/", {"file": upload})

    assert answer.status_code != 413  # the page's own answer (this file lacks columns: 400 with the form)
    assert answer["Content-Type"].startswith("text/html")

"""The security headers on every kind of answer: a page, the API (success and
error), a static file, the 404s, a refused body (413), a redirect."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

KINDS = {
    "page": ("get", "/login/", {}),
    "api": ("get", "/api/v1/provinces/", {}),
    "api error": ("get", "/api/v1/vendors/", {}),  # 401 signed out
    "static": ("get", "/static/css/cho40.css", {}),
    "404 page": ("get", "/no-such-page/", {}),
    "404 api": ("get", "/api/v1/no-such-thing/", {}),
    "413": ("post", "/api/v1/vendors/", {"CONTENT_LENGTH": str(20 * 2**20)}),
    "schema": ("get", "/api/v1/schema/", {}),
    "api docs": ("get", "/api/v1/docs/", {}),  # drf-spectacular sent COOP unsafe-none
    "healthz": ("get", "/healthz", {}),  # answered before Django's security middleware
}


def expected_headers(response) -> dict[str, str | None]:
    csp = response.get("Content-Security-Policy")
    return {
        "Strict-Transport-Security": response.get("Strict-Transport-Security"),
        "X-Content-Type-Options": response.get("X-Content-Type-Options"),
        "Referrer-Policy": response.get("Referrer-Policy"),
        "X-Frame-Options": response.get("X-Frame-Options"),
        "Cross-Origin-Opener-Policy": response.get("Cross-Origin-Opener-Policy"),
        "frame-ancestors": "'none'" if csp and "frame-ancestors 'none'" in csp else None,
    }


@pytest.mark.parametrize("kind", KINDS)
@override_settings(SECURE_HSTS_SECONDS=31_536_000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True, SECURE_HSTS_PRELOAD=True)
def test_every_kind_of_answer_carries_the_security_headers(cast, kind: str) -> None:
    method, path, extra = KINDS[kind]
    client = Client()
    if kind in ("api", "schema", "api docs"):
        client.force_login(cast.officer)

    response = getattr(client, method)(path, secure=True, content_type="application/json", **extra)

    assert response.status_code < 500
    assert expected_headers(response) == {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "frame-ancestors": "'none'",
    }


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def test_the_default_policy_allows_scripts_and_styles_from_this_site_only(client) -> None:
    csp = directives(client.get("/login/")["Content-Security-Policy"])

    for kind in ("script-src", "style-src", "connect-src", "media-src", "worker-src", "font-src"):
        assert csp.get(kind, csp["default-src"]) == ["'self'"], kind  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["img-src"] == ["'self'", "data:"]  # Swagger UI's stylesheet draws its icons with data: URIs
    assert (csp["object-src"], csp["base-uri"], csp["form-action"]) == (["'none'"], ["'self'"], ["'self'"])


@override_settings(CONTENT_SECURITY_POLICY="")
def test_an_empty_policy_sends_no_header(client) -> None:
    assert "Content-Security-Policy" not in client.get("/login/")

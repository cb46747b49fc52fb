"""CSRF over the whole URL configuration: a POST from a signed-in browser
without the CSRF token is refused 403 on every page and every API endpoint
that a session can use; only the machine-to-machine endpoints (bank
webhooks, USSD, the token sign-in) take no session and need none."""

from __future__ import annotations

import pytest
from django.test import Client

from drills.abuse_targets import routes

pytestmark = pytest.mark.django_db

# Endpoints no browser session reaches: signed by the caller, or the sign-in itself.
NO_SESSION = ("/api/v1/webhooks/", "/api/v1/ussd/", "/api/v1/auth/token/")


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anonymous"])
def test_every_post_without_the_csrf_token_is_refused_403(cast, signed_in: bool) -> None:
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(cast.admin)
    client.cookies["csrftoken"] = "a" * 32  # the browser holds a CSRF cookie; the posts carry no token
    answered = {}

    for route in routes():
        if route.pattern.startswith(NO_SESSION) or (not signed_in and route.pattern.startswith("/api/")):
            continue  # signed out, the API answers 401 whatever the token: no session to ride
        answer = client.post(  # from this site over HTTPS, as a browser would: only the token is missing
            route.path(),
            "username=admin&password=x",
            content_type="application/x-www-form-urlencoded",
            secure=True,
            HTTP_ORIGIN="https://testserver",
        )
        answered[route.pattern] = answer.status_code

    assert len(answered) > 100
    refused = {403} if signed_in else {401, 403}  # a DRF view asks a stranger to sign in first (401)
    assert {p: s for p, s in answered.items() if s not in refused} == {}

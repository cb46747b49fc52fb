"""A page's form with NUL or a bidi control in any field is refused 400
before any view sees it (common/form_text.py); files are not form text; a
forged post is still the CSRF check's 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.onboarding.traders.support import new_url, trader_form
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("field", ["full_name", "stall_label"])
@pytest.mark.parametrize("odd", ["Nguy\u202eễn", "a\u2066b"])
def test_a_trader_with_a_bidi_control_in_a_field_is_refused_and_not_stored(cast: Any, field: str, odd: str) -> None:
    # Before: registered (302) with the override stored, reordering the name on the board's pages.
    volunteer = signed_in(cast.volunteer)

    refused = volunteer.post(new_url(cast.market), trader_form(**{field: odd}))
    plain = volunteer.post(new_url(cast.market), trader_form())

    assert refused.status_code == 400
    assert "ký tự điều khiển hướng chữ" in refused.content.decode()
    assert plain.status_code == 302
    assert list(Vendor.objects.filter(market=cast.market).values_list("full_name", flat=True)) == [
        cast.vendor.full_name,
        "Lê Văn Tám",
    ]


def test_plain_vietnamese_and_files_with_odd_bytes_are_not_refused(cast: Any) -> None:
    upload = SimpleUploadedFile("traders.csv", "full_name\nNguy\u202eễn\n".encode(), content_type="text/csv")

    named = Client().post("/login/", {"username": "Nguyễn Thị Hoà", "password": "x"})
    uploaded = signed_in(cast.board).post(f"/onboard/markets/{cast.market.pk}/import/", {"file": upload})

    assert named.status_code == 200  # the sign-in form's own answer (wrong password)
    assert uploaded.status_code != 400 or "ký tự điều khiển" not in uploaded.content.decode()


def test_a_forged_post_with_odd_text_is_still_refused_by_the_csrf_check(cast: Any) -> None:
    client = Client(enforce_csrf_checks=True)

    answer = client.post("/login/", {"username": "a\u202eb", "password": "x"})

    assert answer.status_code == 403

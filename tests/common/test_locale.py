"""Pages speak Vietnamese unless the person chose English; the API still
answers in the language its client asks for (common/locale.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


def html_lang(response) -> str:
    return response.content.decode().split('<html lang="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("asked", ["en-US,en;q=0.9", "en", "fr-FR", ""])
def test_it_serves_pages_in_vietnamese_whatever_the_browser_asks(client, asked):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE=asked)

    assert html_lang(page) == "vi"
    assert "Tên đăng nhập hoặc số điện thoại" in page.content.decode()
    assert page["Content-Language"] == "vi"


def test_it_serves_pages_in_english_once_the_switch_is_used(client):
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"}, HTTP_ACCEPT_LANGUAGE="vi")
    assert switched.status_code == 302
    assert switched["Location"] == "/login/"

    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="vi")
    assert html_lang(page) == "en"
    assert "Username or phone number" in page.content.decode()

    client.post("/i18n/setlang/", {"language": "vi", "next": "/login/"})
    assert html_lang(client.get("/login/")) == "vi"


def test_it_ignores_a_language_cookie_naming_a_language_it_does_not_speak(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "klingon"

    assert html_lang(client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")) == "vi"


def test_it_keeps_the_admin_in_vietnamese_for_an_english_browser(client):
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en-US")

    assert "Đăng nhập" in page.content.decode()


def test_it_marks_pages_as_varying_by_cookie_not_by_accept_language(client):
    page = client.get("/login/")

    vary = page["Vary"]
    assert "Cookie" in vary
    assert "Accept-Language" not in vary


def test_it_still_answers_the_api_in_the_language_its_client_asks_for():
    def wrong_password(**headers: str):
        return Client(**headers).post("/api/v1/auth/token/", {"username": "nobody", "password": "x"})

    english = wrong_password(HTTP_ACCEPT_LANGUAGE="en")
    vietnamese = wrong_password(HTTP_ACCEPT_LANGUAGE="vi")
    unasked = wrong_password()

    assert english.status_code == vietnamese.status_code == unasked.status_code == 400
    assert english.json()["error"]["message"] == "Unable to log in with provided credentials."
    assert vietnamese.json()["error"]["message"] == "Không thể đăng nhập với thông tin đã cung cấp."
    assert unasked.json()["error"]["message"] == vietnamese.json()["error"]["message"]  # Vietnamese by default
    assert "Accept-Language" in english["Vary"]
    assert english["Content-Language"] == "en"

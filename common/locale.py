"""The language of a request: Vietnamese unless the person chose English.

Django's ``LocaleMiddleware`` follows the browser's ``Accept-Language``, so a
market board member whose phone happens to be set to English would get
English pages they never asked for. The web pages (and the admin) are
therefore in ``settings.LANGUAGE_CODE`` (Vietnamese) unless the language
cookie, set by the switch in the page header (Django's ``set_language``
view), says otherwise.

The API (``/api/``) keeps Django's rule, cookie then ``Accept-Language`` then
Vietnamese: a client program asks for the language of its error messages
with the standard header, and the API has always honoured it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

API_PREFIX = "/api/"


def page_language(request: HttpRequest) -> str:
    """The language cookie if it names a supported language, else ``LANGUAGE_CODE``."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        try:
            return translation.get_supported_language_variant(chosen)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


class SiteLanguageMiddleware:
    """In place of ``django.middleware.locale.LocaleMiddleware`` (same position:
    after the session middleware, before ``CommonMiddleware``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path_info.startswith(API_PREFIX)
        language = translation.get_language_from_request(request) if is_api else page_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
        response = self.get_response(request)
        if is_api:
            patch_vary_headers(response, ("Accept-Language",))
        else:
            # The same URL answers in another language once the cookie is set.
            patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response

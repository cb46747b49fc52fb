"""Who may open the trader's pages (the live page, sale QR, code check, my stall), and
the little formatting they share.

Every page under /stall/ is for a signed-in vendor and shows only their own
stall: not signed in → the sign-in page with ``?next=``; signed in without a
stall → a 403 page; someone else's object → 404 (the views look objects up
through the vendor, so another vendor's never matches). JSON endpoints answer
the same refusals as ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from vendors.models import Vendor
from vendors.selectors import vendor_for_user

P = ParamSpec("P")
VendorView = Callable[Concatenate[HttpRequest, Vendor, P], HttpResponseBase]


def vendor_page(view: VendorView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """An HTML page of the signed-in vendor's own stall; the view gets the vendor."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        vendor = vendor_for_user(user=request.user)
        if vendor is None:
            return render(request, "stall/forbidden.html", status=403)
        return view(request, vendor, *args, **kwargs)

    return wrapped


def json_error(code: str, message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def vendor_json(view: VendorView[P]) -> Callable[Concatenate[HttpRequest, P], HttpResponseBase]:
    """A JSON endpoint of the signed-in vendor's own stall (polled by the pages'
    scripts, which need an error body rather than a sign-in page)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return json_error("not_authenticated", _("Sign in again."), status=401)
        vendor = vendor_for_user(user=request.user)
        if vendor is None:
            return json_error("not_a_vendor", _("Only a trader can open this page."), status=403)
        return view(request, vendor, *args, **kwargs)

    return wrapped


def dong_words(amount: int | None) -> str:
    """``64000`` → ``64.000`` (for "… đồng" in a sentence)."""
    return f"{amount or 0:,}".replace(",", ".")

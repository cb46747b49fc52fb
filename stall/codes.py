"""Checking a customer's confirmation code (issue 14, item 5): ``/stall/code/``.

Online, the code and amount go to ``payments.code_entry.confirmation.
confirmation_code_confirm`` (logged, throttled: 5 wrong codes per 15 minutes)
and the page says valid / already used / expired / wrong / wait. Offline,
``static/js/stall-code.js`` checks the code on the phone with the stall's
offline key (docs/code-entry.md §4) and queues it for
``POST /api/v1/payments/offline-sync/``; the server's answer is final. See
docs/stall.md "Checking a code (online and offline)".

Without JavaScript the form posts and the answer is shown after a redirect
(so reloading the page never sends the code a second time). With it, the
script posts with ``Accept: application/json`` and gets the same answer,
rendered by the server, as ``{"outcome", "html"}``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from chopay import codes
from chopay.vietqr import MAX_AMOUNT
from common.client_address import client_address
from payments.code_entry.confirmation import ConfirmResult, confirmation_code_confirm
from payments.receipts.selectors import amount_text
from stall.access import vendor_page
from vendors.models import Vendor

SESSION_RESULT = "stall_code_result"


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Code"),
        regex=r"^\d{6}$",
        error_messages={"invalid": gettext_lazy("The code has 6 digits."), "required": gettext_lazy("Enter the code.")},
    )
    amount = forms.IntegerField(
        label=gettext_lazy("Amount (đồng)"),
        min_value=1,
        max_value=MAX_AMOUNT,
        error_messages={"required": gettext_lazy("Enter the amount the customer paid.")},
    )

    def clean_code(self) -> str:
        return str(self.cleaned_data["code"]).strip()


def _result(result: ConfirmResult, *, code: str, amount: int) -> dict[str, Any]:
    """What the answer box shows, as plain values (kept in the session between
    the POST and the page that shows it)."""
    payment = result.payment
    return {
        "outcome": result.outcome,
        "amount": amount,
        "code_tail": codes.code_tail(code),
        "retry_after": result.retry_after,
        "payment_amount": payment.amount if payment else None,
        "paid_at": payment.occurred_at.isoformat() if payment else None,
        "payer": payment.payer_masked if payment else "",
    }


def _result_context(result: dict[str, Any]) -> dict[str, Any]:
    paid_at = parse_datetime(result["paid_at"]) if result.get("paid_at") else None
    wait = int(result.get("retry_after") or 0)
    return {
        **result,
        "amount_text": amount_text(result["amount"]),
        "payment_amount_text": amount_text(result["payment_amount"]) if result.get("payment_amount") else "",
        "paid_at": timezone.localtime(paid_at) if paid_at else None,
        "wait_minutes": (wait + 59) // 60,
    }


def _page(
    request: HttpRequest, vendor: Vendor, form: CodeForm, result: dict[str, Any] | None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "vendor": vendor,
        "result": _result_context(result) if result else None,
        "offline_ready": vendor.status == Vendor.Status.ACTIVE,
        "key_url": reverse("vendor-offline-key"),
        "sync_url": reverse("payment-offline-sync"),
        "window": codes.LOOK_AHEAD,
        "strings": _script_strings(),
    }
    response = render(request, "stall/code.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _script_strings() -> dict[str, Any]:
    """What stall-code.js says, translated here (the script has no catalogue)."""
    return {
        "provisional_tag": _("Provisional"),
        "provisional_title": _("Valid (provisional — the server will confirm)"),
        "provisional_body": _(
            "Checked on this phone without a connection. It is sent to the server as soon as the phone is online; "
            "the server's answer is the final one."
        ),
        "reused_title": _("Already used on this phone"),
        "reused_body": _("This code was already accepted on this phone. Do not hand over the goods again for it."),
        "nomatch_title": _("Not confirmed on this phone"),
        "nomatch_body": _(
            "The code does not match on this phone. Check the digits and the amount, or check again online."
        ),
        "nokey_title": _("No connection"),
        "nokey_body": _("This phone cannot check codes offline yet. Check the code when the phone is online."),
        "key_ready": _("This phone can check codes without a connection."),
        "key_none": _("This phone cannot check codes without a connection yet."),
        "settled_title": _("Confirmed by the server"),
        "refused_title": _("The server did not confirm this code"),
        "refused_body": _("Do not hand over the goods for it; tell the market board."),
        "status_queued": _("Not sent yet"),
        "status_pending": _("Waiting for the server"),
        "status_throttled": _("Waiting: too many wrong codes, checked later"),
        "status_matched": _("Confirmed"),
        "status_flagged": _("Flagged:"),
        "status_error": _("Not accepted:"),
        "reasons": {
            "code_already_used": _("the code was already used elsewhere"),
            "code_expired": _("the code had expired"),
            "no_matching_payment": _("no such payment arrived"),
            "too_many_wrong_codes": _("too many wrong codes"),
        },
    }


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@vendor_page
@require_http_methods(["GET", "POST"])
def code_check(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    if request.method != "POST":
        return _page(request, vendor, CodeForm(), request.session.pop(SESSION_RESULT, None))
    form = CodeForm(request.POST)
    if not form.is_valid():
        if _wants_json(request):
            errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
            first = next(iter(errors.values()))[0]
            return JsonResponse({"error": {"code": "invalid", "message": first, "fields": errors}}, status=400)
        return _page(request, vendor, form, None, status=400)
    code, amount = form.cleaned_data["code"], form.cleaned_data["amount"]
    outcome = confirmation_code_confirm(
        vendor=vendor,
        user=request.user,  # type: ignore[arg-type]
        code=code,
        amount=amount,
        remote_addr=client_address(request.META),
    )
    result = _result(outcome, code=code, amount=amount)
    if _wants_json(request):
        html = render_to_string("stall/code_result.html", {"result": _result_context(result)}, request=request)
        return JsonResponse({"outcome": result["outcome"], "html": html}, headers={"Cache-Control": "no-store"})
    request.session[SESSION_RESULT] = result
    return redirect("stall:code")


urlpatterns = [
    path("code/", code_check, name="code"),
]

"""``/stall/`` (``stall:home``): the trader's own page on their phone.

Server-rendered: today's total and today's receipts, newest first, with links
to the stall's other pages; it works without JavaScript (a reload link).
``static/js/stall.js`` then keeps it live (the event stream ``stall:events``,
polling ``stall:receipts`` where streams fail), announces each new receipt
(a chime, the amount full screen, the amount spoken in Vietnamese or played
from the word clips of ``static/audio/vi/``) and acknowledges it
(``stall:ack``). docs/stall.md.

Who: a signed-in vendor, their own stall only. Not signed in → the sign-in
page with ``?next=``; signed in without a stall → a 403 page.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from payments.receipts.selectors import amount_text, cursor_now, receipts_today, today_total
from stall.access import vendor_page
from vendors.models import Vendor

# The other pages of the stall (the tools part of the issue), linked by path.
TOOL_LINKS = {
    "sale": "/stall/sale/",
    "code": "/stall/code/",
    "payments": "/stall/payments/",
    "qr": "/stall/qr.png",
    "card": "/stall/card.pdf",
}


def _strings() -> dict[str, str]:
    """What static/js/stall.js writes on the page, in the page's language."""
    return {
        "received": _("Received"),
        "test_title": _("Speaker test"),
        "speaker_on": _("Speaker on"),
        "off": _("The speaker is off: tap “Turn the speaker on” to hear each payment."),
        "muted": _("Muted: payments show on screen without sound."),
        "voice": _("Payments are read aloud by the phone's Vietnamese voice."),
        "clips": _("Payments are read aloud with Chợ 4.0's recorded voice (this phone has no Vietnamese voice)."),
        "live_stream": _("Live: new payments appear at once."),
        "live_polling": _("Live: checking for new payments every 2 seconds."),
        "live_reconnecting": _("Connection lost: reconnecting…"),
        "live_offline": _("No connection: retrying…"),
    }


@require_GET
@vendor_page
def home(request: HttpRequest, vendor: Vendor) -> HttpResponse:
    # The cursor first: a payment recorded while the list is read comes again by the
    # stream (and the page, which knows the ids it shows, keeps it once).
    cursor = cursor_now(vendor)
    today = today_total(vendor)
    context = {
        "vendor": vendor,
        "receipts": receipts_today(vendor),
        "today": today,
        "cursor": cursor,
        "events_url": reverse("stall:events"),
        "receipts_url": reverse("stall:receipts"),
        "ack_url": reverse("stall:ack", args=[0]),  # the page puts each payment's id in place of the 0
        "links": TOOL_LINKS,
        "strings": _strings(),
        "today_text": amount_text(today["value"]),
    }
    return render(request, "stall/home.html", context)


urlpatterns = [path("", home, name="home")]

"""/stall/events/, /stall/receipts.json and /stall/receipts/<id>/ack/: a
vendor sees and acknowledges only their own stall's receipts; nobody else
gets anything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import AsyncClient, Client
from django.urls import reverse

from payments.models import ReceiptAnnouncement
from payments.receipts import stream
from payments.receipts.cursor import Cursor
from tests.factories import PaymentFactory, make_vendor_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _short_streams(settings: Any) -> None:
    settings.STALL_STREAM_MAX_SECONDS = 0  # one ledger read, then the stream ends (the browser would reconnect)


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def events_of(response: Any) -> list[dict[str, Any]]:
    """The SSE events of a finished stream: [{"id", "event", "data"}]."""
    text = b"".join(response.streaming_content).decode()
    found = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if fields.get("event") == "receipt":
            found.append({"id": fields["id"], "event": "receipt", "data": json.loads(fields["data"])})
    return found


def test_the_vendor_streams_their_own_receipts_after_the_cursor(cast) -> None:
    seen = PaymentFactory(vendor=cast.vendor, amount=10_000)
    new = PaymentFactory(vendor=cast.vendor, amount=64_000)
    PaymentFactory(vendor=cast.other_vendor)

    response = signed_in(cast.vendor_user).get(reverse("stall:events"), {"cursor": f"0-{seen.pk}"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"].startswith("no-cache") or "no-cache" in response["Cache-Control"]
    assert response["X-Accel-Buffering"] == "no"
    events = events_of(response)
    assert [e["data"]["id"] for e in events] == [new.pk]
    assert events[0]["data"]["amount_text"] == "64.000 ₫"
    assert events[0]["data"]["channel_label"] == "QR tĩnh"  # Vietnamese, as the page
    assert events[0]["data"]["today"] == {"count": 2, "value": 74_000}
    assert Cursor.parse(events[0]["id"]).covers(new.pk) and Cursor.parse(events[0]["id"]).covers(seen.pk)


def test_a_reconnect_resumes_from_last_event_id_over_the_query_cursor(cast) -> None:
    first, second = PaymentFactory(vendor=cast.vendor), PaymentFactory(vendor=cast.vendor)
    client = signed_in(cast.vendor_user)

    response = client.get(reverse("stall:events"), {"cursor": "0"}, headers={"Last-Event-ID": f"0-{first.pk}"})

    assert [e["data"]["id"] for e in events_of(response)] == [second.pk]


def test_the_stream_starts_with_a_retry_hint(cast) -> None:
    response = signed_in(cast.vendor_user).get(reverse("stall:events"))

    assert b"".join(response.streaming_content).decode().startswith("retry: ")


@pytest.fixture
def _read_pool() -> Iterator[None]:
    yield
    stream.shutdown()  # the ASGI stream's read threads hold connections
    # …and so does the thread asgiref runs sync views in (thread_sensitive, outside async_to_sync).
    import asyncio

    from asgiref.sync import sync_to_async
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all)())


@pytest.mark.usefixtures("_read_pool")
@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_stream_is_the_async_one_and_reads_the_ledger(cast) -> None:
    import asyncio

    payment = PaymentFactory(vendor=cast.vendor, amount=30_000)
    client = AsyncClient()
    client.force_login(cast.vendor_user)

    async def stream() -> tuple[Any, str]:
        response = await client.get(reverse("stall:events"))
        chunks = [chunk async for chunk in response.streaming_content]
        return response, b"".join(chunks).decode()

    response, text = asyncio.run(stream())

    assert response.status_code == 200 and response.is_async
    assert f'"id": {payment.pk}' in text and "event: receipt" in text


@pytest.mark.parametrize("who", ["board", "volunteer", "officer", "outsider", "admin"])
def test_anyone_but_a_vendor_is_refused_the_stream_and_the_receipts(cast, who: str) -> None:
    PaymentFactory(vendor=cast.vendor)
    client = signed_in(getattr(cast, who))

    for url in (reverse("stall:events"), reverse("stall:receipts")):
        response = client.get(url)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_a_vendor"


def test_nobody_signed_in_is_refused_with_a_json_error(cast) -> None:
    payment = PaymentFactory(vendor=cast.vendor)
    client = Client()

    assert client.get(reverse("stall:events")).status_code == 403
    response = client.get(reverse("stall:receipts"))
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    ack = client.post(
        reverse("stall:ack", args=[payment.pk]), {"device_id": "d", "method": "speech"}, content_type="application/json"
    )
    assert ack.status_code == 401


def test_the_polling_fallback_gives_the_receipts_after_the_cursor_and_the_next_cursor(cast) -> None:
    first = PaymentFactory(vendor=cast.vendor, amount=5_000)
    client = signed_in(cast.vendor_user)

    body = client.get(reverse("stall:receipts"), {"cursor": "0"}).json()
    assert [r["id"] for r in body["receipts"]] == [first.pk]
    assert body["today"] == {"count": 1, "value": 5_000}

    second = PaymentFactory(vendor=cast.vendor, amount=7_000)
    PaymentFactory(vendor=cast.other_vendor)
    body = client.get(reverse("stall:receipts"), {"cursor": body["cursor"]}).json()
    assert [r["id"] for r in body["receipts"]] == [second.pk]
    assert body["today"] == {"count": 2, "value": 12_000}
    assert client.get(reverse("stall:receipts"), {"cursor": body["cursor"]}).json()["receipts"] == []


def test_a_vendor_never_sees_another_stalls_receipts(cast) -> None:
    theirs = PaymentFactory(vendor=cast.other_vendor)
    other_user = make_vendor_user(cast.other_vendor, "other_vendor")

    mine = signed_in(cast.vendor_user).get(reverse("stall:receipts")).json()
    assert mine["receipts"] == []
    theirs_seen = signed_in(other_user).get(reverse("stall:receipts")).json()
    assert [r["id"] for r in theirs_seen["receipts"]] == [theirs.pk]


def ack(client: Client, payment_id: int, **body: Any) -> Any:
    return client.post(
        reverse("stall:ack", args=[payment_id]),
        json.dumps({"device_id": "phone-1", "method": "speech", **body}),
        content_type="application/json",
    )


def test_the_vendor_acknowledges_an_announcement_once_per_device(cast) -> None:
    payment = PaymentFactory(vendor=cast.vendor)
    client = signed_in(cast.vendor_user)

    first, again = ack(client, payment.pk), ack(client, payment.pk, method="clips")

    assert first.status_code == again.status_code == 200
    assert first.json()["ok"] is True and first.json()["delay_ms"] == again.json()["delay_ms"] >= 0
    assert ReceiptAnnouncement.objects.get().method == "speech"


def test_an_acknowledgement_of_another_stalls_payment_is_404(cast) -> None:
    theirs = PaymentFactory(vendor=cast.other_vendor)

    response = ack(signed_in(cast.vendor_user), theirs.pk)

    assert response.status_code == 404 and response.json()["error"]["code"] == "payment_not_found"
    assert not ReceiptAnnouncement.objects.exists()


def test_a_bad_acknowledgement_is_answered_in_json(cast) -> None:
    payment = PaymentFactory(vendor=cast.vendor)
    client = signed_in(cast.vendor_user)

    pending = PaymentFactory(vendor=cast.vendor, status="pending")
    assert ack(client, pending.pk).status_code == 409
    assert ack(client, payment.pk, method="shout").json()["error"]["field"] == "method"
    bad = client.post(reverse("stall:ack", args=[payment.pk]), "not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"
    assert client.get(reverse("stall:ack", args=[payment.pk])).status_code == 405


def test_the_acknowledgement_needs_the_csrf_token(cast) -> None:
    payment = PaymentFactory(vendor=cast.vendor)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.vendor_user)

    refused = ack(client, payment.pk)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert not ReceiptAnnouncement.objects.exists()
    client.get(reverse("stall:receipts"))  # any page sets the token in practice; here ask for it
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    response = client.post(
        reverse("stall:ack", args=[payment.pk]),
        json.dumps({"device_id": "phone-1", "method": "speech"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200

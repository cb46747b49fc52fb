"""Printable stall cards: one vendor's A6 card, a market's A4 sheets, and the
background batch for large markets. The QR on the page must read back as the
vendor's payload, and the text must keep its Vietnamese diacritics."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from payments.cards import api as vietqr_api
from payments.cards import card_pdf as cards
from payments.cards import services as card_services
from payments.cards.stall_qr import vendor_static_payload
from payments.cards.tasks import render_market_cards
from payments.models import CardBatch
from tests.conftest import client_for
from tests.factories import VendorFactory
from tests.payments.qr_support import qr_codes_drawn_on, read_qr, render_pdf_page
from vendors.models import Vendor

MM_PER_PT = 25.4 / 72


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def card_url(vendor) -> str:
    return f"/api/v1/vendors/{vendor.pk}/card.pdf"


def market_url(market) -> str:
    return f"/api/v1/markets/{market.pk}/cards.pdf"


# --- one vendor's card ------------------------------------------------------------------


def test_it_prints_an_a6_card_with_the_vendors_details(cast):
    response = client_for(cast.volunteer).get(card_url(cast.vendor))
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    assert round(float(page.mediabox.width) * MM_PER_PT) == 105
    assert round(float(page.mediabox.height) * MM_PER_PT) == 148
    text = page.extract_text()
    code = cast.vendor.merchant_code
    for expected in (
        "Chợ 4.0",
        "Chợ Đồng Quang",
        "Nguyễn Thị Hoà",
        "Quầy A-12",
        "Vietcombank",
        "•" * (len(cast.vendor.account_number) - 4) + cast.vendor.account_number[-4:],
        f"{code[:4]} {code[4:]}",
        "Mã người bán",
        "không có mạng",
    ):
        assert expected in text, expected
    assert cast.vendor.account_number not in text  # only the masked number is printed


def test_it_draws_a_qr_that_reads_back_as_the_vendors_payload(cast):
    pdf = client_for(cast.vendor_user).get(card_url(cast.vendor)).content
    [(image, width_mm)] = qr_codes_drawn_on(pdf)
    assert width_mm >= 35
    assert read_qr(image) == vendor_static_payload(cast.vendor)


@pytest.mark.parametrize("dpi", [150, 96])
def test_it_scans_on_the_page_as_a_printer_renders_it(cast, dpi):
    pdf = client_for(cast.board).get(card_url(cast.vendor)).content
    assert read_qr(render_pdf_page(pdf, dpi=dpi)) == vendor_static_payload(cast.vendor)


def test_it_keeps_decomposed_diacritics_readable(cast):
    # A name typed on a keyboard that sends combining marks (NFD).
    Vendor.objects.filter(pk=cast.vendor.pk).update(full_name="Nguye\u0302\u0303n Thi\u0323 Hoa\u0300")
    text = pdf_text(client_for(cast.board).get(card_url(cast.vendor)).content)
    assert "Nguyễn Thị Hoà" in text


def test_it_fits_a_very_long_name(cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(
        full_name="Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc Trâm Anh Những Người Bạn Của Chợ Đồng Quang"
    )
    response = client_for(cast.board).get(card_url(cast.vendor))
    assert response.status_code == 200
    assert "Tôn Nữ Thị Phương Thảo" in pdf_text(response.content)


@pytest.mark.parametrize("who", ["other_board", "far_officer", "outsider"])
def test_it_hides_the_card_outside_ones_scope(cast, who):
    assert client_for(getattr(cast, who)).get(card_url(cast.vendor)).status_code == 404


def test_it_prints_no_card_for_a_suspended_vendor(cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.SUSPENDED)
    response = client_for(cast.board).get(card_url(cast.vendor))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "vendor_suspended"


# --- a market's cards, rendered in the request ----------------------------------------------


def test_it_prints_every_active_vendor_four_to_an_a4_page(cast):
    extra = [VendorFactory(market=cast.market, full_name=f"Lê Thị Bưởi {i}") for i in range(4)]
    VendorFactory(market=cast.market, full_name="Đinh Văn Chờ", status=Vendor.Status.PENDING)
    VendorFactory(market=cast.market, full_name="Phạm Văn Nghỉ", status=Vendor.Status.SUSPENDED)
    response = client_for(cast.board).get(market_url(cast.market))
    assert response.status_code == 200, response.content
    pdf = response.content
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2  # 5 active vendors
    assert round(float(reader.pages[0].mediabox.width) * MM_PER_PT) == 210
    text = pdf_text(pdf)
    for vendor in [cast.vendor, *extra]:
        assert vendor.full_name in text
    assert "Đinh Văn Chờ" not in text and "Phạm Văn Nghỉ" not in text
    assert cast.other_vendor.full_name not in text

    payloads = {vendor_static_payload(v) for v in [cast.vendor, *extra]}
    drawn = [read_qr(image) for page in range(2) for image, _ in qr_codes_drawn_on(pdf, page=page)]
    assert sorted(drawn) == sorted(payloads)


def test_it_scans_every_card_on_a_rendered_a4_page(cast):
    extra = [VendorFactory(market=cast.market) for _ in range(3)]
    pdf = client_for(cast.volunteer).get(market_url(cast.market)).content
    page = render_pdf_page(pdf, dpi=150)
    width, height = page.size
    quadrants = [page.crop((x, y, x + width // 2, y + height // 2)) for y in (0, height // 2) for x in (0, width // 2)]
    assert sorted(read_qr(q) for q in quadrants) == sorted(vendor_static_payload(v) for v in [cast.vendor, *extra])


@pytest.mark.parametrize("who", ["board", "volunteer", "officer", "admin"])
def test_it_lets_the_market_staff_print_the_cards(cast, who):
    assert client_for(getattr(cast, who)).get(market_url(cast.market)).status_code == 200


def test_it_does_not_let_a_vendor_print_the_whole_market(cast):
    response = client_for(cast.vendor_user).get(market_url(cast.market))
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["other_board", "far_officer", "outsider"])
def test_it_hides_the_market_outside_ones_scope(cast, who):
    assert client_for(getattr(cast, who)).get(market_url(cast.market)).status_code == 404


# --- a large market's cards, rendered by Celery -----------------------------------------------


@pytest.fixture
def large_market(cast, monkeypatch):
    """The cast's market with 6 active vendors, above a lowered inline limit."""
    monkeypatch.setattr(vietqr_api, "INLINE_CARDS_LIMIT", 3)
    for i in range(5):
        VendorFactory(market=cast.market, full_name=f"Hoàng Thị Mận {i}")
    return cast.market


def test_it_renders_a_large_market_in_the_background_with_progress(
    cast, large_market, django_capture_on_commit_callbacks
):
    client = client_for(cast.board)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(market_url(large_market))
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "pending"
    assert (job["progress"], job["done"], job["total"], job["download_url"]) == (0.0, 0, 6, None)
    assert response["Location"] == job["status_url"]
    assert len(callbacks) == 1  # the task is enqueued only once the batch is committed

    not_ready = client.get(f"/api/v1/markets/{large_market.pk}/cards-jobs/{job['id']}/download/")
    assert not_ready.status_code == 409
    assert not_ready.json()["error"]["code"] == "not_ready"

    callbacks[0]()  # the worker runs the task
    status = client.get(job["status_url"]).json()
    assert (status["status"], status["progress"], status["done"], status["total"]) == ("done", 1.0, 6, 6)
    pdf = client.get(status["download_url"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert page_count(streamed(pdf)) == 2


def test_it_serves_a_finished_batch_until_the_market_changes(cast, large_market, django_capture_on_commit_callbacks):
    client = client_for(cast.volunteer)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.get(market_url(large_market))
    assert first.status_code == 202
    again = client.get(market_url(large_market))
    assert again.status_code == 200  # the finished batch, served without re-rendering
    assert "Hoàng Thị Mận 4" in pdf_text(streamed(again))
    assert CardBatch.objects.count() == 1

    cast.vendor.full_name = "Nguyễn Thị Hoà Mới"
    cast.vendor.save()
    with django_capture_on_commit_callbacks(execute=True):
        changed = client.get(market_url(large_market))
    assert changed.status_code == 202
    assert CardBatch.objects.count() == 2
    assert "Nguyễn Thị Hoà Mới" in pdf_text(streamed(client.get(market_url(large_market))))


def test_it_reuses_a_batch_in_progress(cast, large_market, django_capture_on_commit_callbacks):
    client = client_for(cast.board)
    with django_capture_on_commit_callbacks(execute=False):
        first = client.get(market_url(large_market)).json()
        second = client.get(market_url(large_market)).json()
    assert first["id"] == second["id"]


def test_it_reports_progress_while_rendering(cast, large_market, monkeypatch):
    monkeypatch.setattr(card_services, "PROGRESS_EVERY", 2)
    seen: list[int] = []
    original = card_services.render_cards_pdf

    def spying(*args, on_progress, **kwargs):
        def progress(done, total):
            on_progress(done, total)
            seen.append(CardBatch.objects.get().done)

        return original(*args, on_progress=progress, **kwargs)

    monkeypatch.setattr(card_services, "render_cards_pdf", spying)
    batch = CardBatch.objects.create(market=large_market, total=6)
    render_market_cards(batch.pk)
    assert seen == [0, 2, 2, 4, 4, 4]
    batch.refresh_from_db()
    assert (batch.status, batch.done) == ("done", 6)


def test_it_marks_a_failed_batch_and_shows_why(cast, large_market, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("printer on fire")

    monkeypatch.setattr(card_services, "render_cards_pdf", broken)
    batch = CardBatch.objects.create(market=large_market, total=6)
    with pytest.raises(ValueError):
        render_market_cards(batch.pk)
    status = client_for(cast.board).get(f"/api/v1/markets/{large_market.pk}/cards-jobs/{batch.pk}/").json()
    assert status["status"] == "failed"
    assert "printer on fire" in status["error"]
    cards_dir = Path(settings.MEDIA_ROOT) / card_services.CARDS_DIR
    assert cards_dir.is_dir() and not list(cards_dir.iterdir())  # no half-written file left behind


def test_it_does_not_render_a_finished_batch_twice(cast, large_market):
    batch = CardBatch.objects.create(market=large_market, total=6)
    render_market_cards(batch.pk)
    batch.refresh_from_db()
    finished_at = batch.finished_at
    render_market_cards(batch.pk)
    batch.refresh_from_db()
    assert batch.finished_at == finished_at


def test_it_hides_another_markets_batch(cast, large_market):
    batch = CardBatch.objects.create(market=large_market, total=6)
    response = client_for(cast.other_board).get(f"/api/v1/markets/{large_market.pk}/cards-jobs/{batch.pk}/")
    assert response.status_code == 404
    theirs = client_for(cast.other_board).get(f"/api/v1/markets/{cast.other_market.pk}/cards-jobs/{batch.pk}/")
    assert theirs.status_code == 404


def test_it_renders_cards_without_a_database():
    # The renderer takes plain values: what the benchmark and the task feed it.
    card = cards.StallCard(
        market_name="Chợ Hôm",
        vendor_name="Đỗ Thị Ưng",
        stall_label="",
        bank_short_name="MBBank",
        masked_account="••••4321",
        account_name="DO THI UNG",
        merchant_code="12345674",
        payload=vendor_static_payload(Vendor(bank_id="970422", account_number="0987654321", merchant_code="12345674")),
    )
    pdf = cards.render_cards_pdf([card], title="test")
    assert pdf is not None
    assert "Đỗ Thị Ưng" in pdf_text(pdf)
    assert page_count(pdf) == 1
    [(image, _width)] = qr_codes_drawn_on(pdf)
    assert read_qr(image) == card.payload


# --- keeping MEDIA_ROOT from filling up ----------------------------------------------------


def _finished_batch(client, market, capture) -> CardBatch:
    with capture(execute=True):
        assert client.get(market_url(market)).status_code == 202
    batch = CardBatch.objects.get(status=CardBatch.Status.DONE)
    assert card_services.batch_path(batch).is_file()
    return batch


def test_it_deletes_old_pdfs_and_renders_afresh_when_asked_again(
    cast, large_market, django_capture_on_commit_callbacks, settings
):
    settings.CARD_BATCH_RETENTION_DAYS = 7
    client = client_for(cast.board)
    batch = _finished_batch(client, large_market, django_capture_on_commit_callbacks)
    path = card_services.batch_path(batch)
    assert batch.finished_at is not None

    assert card_services.card_batches_purge(now=batch.finished_at + dt.timedelta(days=6)) == 0
    assert path.is_file()  # younger than the retention: kept
    assert card_services.card_batches_purge(now=batch.finished_at + dt.timedelta(days=8)) == 1
    assert card_services.card_batches_purge(now=batch.finished_at + dt.timedelta(days=8)) == 0  # idempotent

    assert not path.exists()
    batch.refresh_from_db()
    assert (batch.status, batch.file) == (CardBatch.Status.DONE, "")  # the record of what was printed stays
    gone = client.get(f"/api/v1/markets/{large_market.pk}/cards-jobs/{batch.pk}/download/")
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "batch_file_missing"
    with django_capture_on_commit_callbacks(execute=True):
        again = client.get(market_url(large_market))
    assert again.status_code == 202 and again.json()["id"] != batch.pk  # a new job, not the purged one
    fresh = client.get(market_url(large_market))
    assert fresh.status_code == 200 and page_count(streamed(fresh)) == 2


def test_it_deletes_part_files_left_by_killed_workers_only_when_old(cast, settings, tmp_path):
    import os

    settings.MEDIA_ROOT = str(tmp_path)
    folder = tmp_path / card_services.CARDS_DIR
    folder.mkdir()
    old, recent = folder / "market-1-batch-1.pdfabc.part", folder / "market-1-batch-2.pdfdef.part"
    for part in (old, recent):
        part.write_bytes(b"%PDF-1.4 half")
    ten_days_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).timestamp()
    os.utime(old, (ten_days_ago, ten_days_ago))

    card_services.card_batches_purge(older_than=dt.timedelta(days=7))

    assert not old.exists()
    assert recent.exists()  # perhaps a worker still writing it


def test_the_purge_runs_daily_from_the_beat_schedule(cast, large_market, django_capture_on_commit_callbacks, settings):
    from payments.cards.tasks import purge_card_batches

    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "payments.purge_card_batches")
    assert entry["schedule"] == 24 * 3600.0
    batch = _finished_batch(client_for(cast.board), large_market, django_capture_on_commit_callbacks)
    CardBatch.objects.filter(pk=batch.pk).update(finished_at=batch.finished_at - dt.timedelta(days=30))

    assert purge_card_batches() == 1
    assert not card_services.batch_path(batch).exists()


def test_it_marks_the_card_of_a_trader_awaiting_approval(cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.PENDING)
    pending = pdf_text(client_for(cast.volunteer).get(card_url(cast.vendor)).content)
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.ACTIVE)
    active = pdf_text(client_for(cast.volunteer).get(card_url(cast.vendor)).content)

    assert "CHỜ DUYỆT" in pending and "Ban quản lý chợ chưa duyệt" in pending
    assert "CHỜ DUYỆT" not in active and "Chợ 4.0" in active


def test_it_prints_no_card_for_a_rejected_registration(cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.REJECTED)
    response = client_for(cast.volunteer).get(card_url(cast.vendor))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "vendor_rejected"

"""A vendor's static stall QR: what it encodes, and that a real QR reader
(OpenCV) reads it back from the PNG and the SVG the API serves."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from chopay import qr_images, vietqr
from chopay.qr import QUIET_ZONE, qr_matrix
from payments.cards.stall_qr import vendor_static_payload
from payments.sale_qr.services import sale_payload
from tests.conftest import client_for
from tests.payments.qr_support import read_qr
from vendors.models import Vendor


def png_of(response) -> Image.Image:
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


# --- the payload --------------------------------------------------------------------


def test_it_encodes_the_vendor_account_and_merchant_code(cast):
    qr = vietqr.decode(vendor_static_payload(cast.vendor))
    assert qr.initiation == "static"
    assert qr.amount is None
    assert (qr.bank_bin, qr.account_number, qr.service_code) == ("970436", cast.vendor.account_number, "QRIBFTTA")
    assert qr.purpose == f"CHO40 {cast.vendor.merchant_code}"
    assert qr.warnings == ()


def test_it_keeps_the_payload_in_the_compact_alphanumeric_mode(cast):
    matrix = qr_matrix(vendor_static_payload(cast.vendor))
    # Alphanumeric mode fits a stall payload in version 5 (37 modules) at level M;
    # byte mode would need version 7 (45 modules), i.e. smaller printed modules.
    assert matrix.version <= 5


# --- PNG ----------------------------------------------------------------------------


def test_it_serves_a_png_that_a_qr_reader_reads_back_as_the_vendor_payload(cast):
    response = client_for(cast.vendor_user).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png"
    assert read_qr(png_of(response)) == vendor_static_payload(cast.vendor)


def test_it_sizes_the_png_in_whole_pixels_per_module_with_a_quiet_zone(cast):
    response = client_for(cast.board).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png?size=300")
    image = png_of(response).convert("L")
    matrix = qr_matrix(vendor_static_payload(cast.vendor))
    modules = matrix.size + 2 * QUIET_ZONE
    scale = 300 // modules
    assert image.size == (modules * scale, modules * scale)
    pixels = np.array(image)
    margin = QUIET_ZONE * scale
    # Four light modules all round, and the finder pattern's corner just inside.
    assert pixels[:margin, :].min() == 255 and pixels[-margin:, :].min() == 255
    assert pixels[:, :margin].min() == 255 and pixels[:, -margin:].min() == 255
    assert pixels[margin, margin] == 0
    assert read_qr(image) == vendor_static_payload(cast.vendor)


@pytest.mark.parametrize("size", ["50", "5000", "big"])
def test_it_refuses_a_size_out_of_range(cast, size):
    response = client_for(cast.board).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png?size={size}")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("size")


def test_it_answers_an_image_accept_header_with_the_image(cast):
    response = client_for(cast.board).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png", HTTP_ACCEPT="image/png")
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")


def test_it_answers_304_when_the_client_has_the_same_code(cast):
    client = client_for(cast.vendor_user)
    first = client.get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png")
    again = client.get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    cast.vendor.account_number = "9999888877"
    cast.vendor.save()
    changed = client.get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert read_qr(png_of(changed)) == vendor_static_payload(cast.vendor)


def test_it_renders_a_sale_payload_too():
    vendor = Vendor(bank_id="970422", account_number="0987654321", merchant_code="12345674")
    payload = sale_payload(vendor=vendor, amount=185_000, reference="KX7MA3PT9C")
    image = Image.open(io.BytesIO(qr_images.render_png(payload, size=400)))
    assert read_qr(image) == payload


# --- SVG ----------------------------------------------------------------------------


def _rasterise_svg(svg: str, scale: int = 8) -> Image.Image:
    """Draw the SVG's rectangles (the only shapes it uses) to check what it shows."""
    view_box = re.search(r'viewBox="0 0 (\d+) \1"', svg)
    path_data = re.search(r'<path fill="#000" d="([^"]*)"', svg)
    assert view_box and path_data
    width = int(view_box.group(1))
    image = Image.new("L", (width * scale, width * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path_data.group(1)):
        x, y, w = int(x), int(y), int(w)
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + 1) * scale - 1], fill=0)
    return image


def test_it_serves_an_svg_of_the_same_code(cast):
    response = client_for(cast.volunteer).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.svg?size=256")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert 'width="256"' in svg and 'shape-rendering="crispEdges"' in svg
    assert read_qr(_rasterise_svg(svg)) == vendor_static_payload(cast.vendor)


# --- who may see it -----------------------------------------------------------------


@pytest.mark.parametrize("who", ["vendor_user", "board", "volunteer", "officer", "admin"])
def test_it_shows_the_stall_qr_to_the_vendor_and_the_market_staff(cast, who):
    response = client_for(getattr(cast, who)).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png")
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["other_board", "far_officer", "outsider"])
def test_it_hides_the_stall_qr_outside_ones_scope(cast, who):
    response = client_for(getattr(cast, who)).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_requires_authentication(cast, api):
    assert api.get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png").status_code == 401


def test_it_withdraws_a_suspended_vendors_qr(cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.SUSPENDED)
    response = client_for(cast.board).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.svg")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "vendor_suspended"


def test_it_shows_a_pending_vendors_qr_so_the_board_can_verify_it(cast):
    Vendor.objects.filter(pk=cast.vendor.pk).update(status=Vendor.Status.PENDING)
    response = client_for(cast.volunteer).get(f"/api/v1/vendors/{cast.vendor.pk}/qr.png")
    assert response.status_code == 200

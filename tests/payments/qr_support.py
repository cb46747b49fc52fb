"""Reading QR codes back in tests, with OpenCV: the PNG the API serves, the
PDF page as a printer would rasterise it."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw


def read_qr(image: Image.Image) -> str:
    """What OpenCV reads in ``image`` ("" if nothing).

    ``cv2.QRCodeDetector`` first; its finder-pattern *detection* misses a few
    percent of valid symbols (about 3 % of random stall payloads at 512 px,
    symbols that qrcode itself produces identically), so OpenCV's ArUco-based
    detector, which reads all of them, is the second try. Both decode with the
    same OpenCV QR decoder.
    """
    pixels = np.array(image.convert("L"))
    text, _points, _ = cv2.QRCodeDetector().detectAndDecode(pixels)
    if not text:
        text, _points, _ = cv2.QRCodeDetectorAruco().detectAndDecode(pixels)
    return text


def needs_pdftoppm() -> str:
    """Path of poppler's ``pdftoppm`` (Debian: poppler-utils). Skipped locally
    when missing; in CI (REQUIRE_POSTGRES=1) its absence is a failure."""
    found = shutil.which("pdftoppm")
    if found:
        return found
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail("pdftoppm is missing: install Debian's poppler-utils")
    pytest.skip("pdftoppm (poppler-utils) is not installed")


def render_pdf_page(pdf: bytes, *, page: int = 1, dpi: int = 150) -> Image.Image:
    """Rasterise one page with poppler, in greyscale, as a printer driver would."""
    tool = needs_pdftoppm()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                tool,
                "-f",
                str(page),
                "-l",
                str(page),
                "-r",
                str(dpi),
                "-gray",
                "-png",
                "-singlefile",
                str(source),
                str(Path(tmp) / "page"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        image = Image.open(Path(tmp) / "page.png")
        image.load()
        return image


def qr_codes_drawn_on(pdf: bytes, *, page: int = 0) -> list[tuple[Image.Image, float]]:
    """The QR codes drawn as vector rectangles on a PDF page, each redrawn as
    an image (8 px per module, 4-module quiet zone) with its printed width in mm.

    Reads the content stream with pypdf: each code is a ``cm`` that maps one
    unit to one module (y pointing down), then ``x y w 1 re`` per run of dark
    modules, then ``f``. Needs no PDF renderer, so it runs everywhere.
    """
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    operations = ContentStream(reader.pages[page].get_contents(), reader).operations
    found: list[tuple[Image.Image, float]] = []
    unit: float | None = None
    rects: list[tuple[int, int, int]] = []
    for operands, operator in operations:
        if operator == b"cm":
            a, b, c, d = (float(v) for v in operands[:4])
            unit = a if (a > 0 and d == -a and b == 0 and c == 0) else None
            rects = []
        elif operator == b"re" and unit is not None:
            x, y, w, _h = (int(float(v)) for v in operands)
            rects.append((x, y, w))
        elif operator == b"f" and unit is not None and rects:
            size = max(x + w for x, _y, w in rects)
            scale, border = 8, 4
            image = Image.new("L", ((size + 2 * border) * scale,) * 2, 255)
            draw = ImageDraw.Draw(image)
            for x, y, w in rects:
                draw.rectangle(
                    [
                        (x + border) * scale,
                        (y + border) * scale,
                        (x + w + border) * scale - 1,
                        (y + 1 + border) * scale - 1,
                    ],
                    fill=0,
                )
            found.append((image, unit * (size + 2 * border) / 72 * 25.4))
            unit, rects = None, []
    return found

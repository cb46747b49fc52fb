"""QR symbols for VietQR payloads: the module matrix (images: ``chopay.qr_images``).

The ``qrcode`` library's own ``QRCode.make()`` takes about 27 ms per VietQR
payload (3 ms for its bit buffer and Reed-Solomon code, the rest for trying
the eight masks in pure Python, module by module), which caps a stall-QR
endpoint near 35 images/s. This module builds the same symbol from the same
tables (``qrcode.base``, ``qrcode.util``, ``qrcode.LUT``) and the same
``QRCode.setup_*`` function patterns, but:

- the data bits are packed into Python integers, and Reed-Solomon runs as a
  byte-wise LFSR over one integer with a 256-entry table per generator;
- the whole symbol is one integer of n×n bits (row-major, module (0, 0) is
  the most significant bit), so each mask is a single XOR and each penalty
  rule a handful of shifts, ANDs and ``int.bit_count()`` over all rows and
  columns at once.

The choice of mode (numeric, alphanumeric or byte, as ``qrcode``'s
``optimal_mode``), version and mask replicates ``qrcode`` exactly, including
its quirk of scoring masks with the format and version areas left light; the
tests compare the matrices module for module. Only the per-version layout
(function patterns, placement order) is cached, never a payload's symbol.

A VietQR payload made only of digits, upper-case letters, space and
``$%*+-./:`` (every payload this project generates) is encoded in
alphanumeric mode: 5.5 bits a character instead of 8, typically version 5
(37×37) instead of 7 (45×45) at level M, hence larger modules on a printed
card.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass
from typing import Final, Literal

import qrcode
from qrcode import LUT, base, util

__all__ = ["QUIET_ZONE", "ErrorCorrection", "QRMatrix", "qr_matrix"]

ErrorCorrection = Literal["M", "Q", "H"]
_EC_LEVELS: Final[dict[str, int]] = {
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
QUIET_ZONE: Final = 4  # modules of light margin the standard requires around a symbol

_ALPHANUMERIC: Final = util.ALPHA_NUM.decode("ascii")
_IS_ALPHANUMERIC: Final = re.compile("[" + re.escape(_ALPHANUMERIC) + "]*").fullmatch
# bytes.translate table from an alphanumeric character to its value 0..44.
_ALPHA_TABLE: Final = bytes(_ALPHANUMERIC.find(chr(b)) % 256 for b in range(256))
_ALPHA_PAIR_BITS: Final = tuple(format(v, "011b") for v in range(45 * 45))
_ALPHA_LAST_BITS: Final = tuple(format(v, "06b") for v in range(45))


@dataclass(frozen=True)
class QRMatrix:
    """A finished QR symbol without its quiet zone.

    ``bits`` holds the ``size``×``size`` modules row-major, module (0, 0) in
    the most significant bit; a set bit is a dark module.
    """

    version: int
    mask: int
    size: int
    bits: int

    def rows(self) -> list[int]:
        """Each row as an int of ``size`` bits, column 0 the most significant."""
        n = self.size
        row_mask = (1 << n) - 1
        bits = self.bits
        return [(bits >> (n * (n - 1 - r))) & row_mask for r in range(n)]

    def is_dark(self, row: int, col: int) -> bool:
        n = self.size
        return bool((self.bits >> (n * n - 1 - (row * n + col))) & 1)

    def dark_runs(self) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as ``(row, first column, length)``:
        one rectangle per run draws the symbol with few vector operations."""
        runs: list[tuple[int, int, int]] = []
        n = self.size
        for r, row in enumerate(self.rows()):
            for m in _DARK_RUN.finditer(format(row, f"0{n}b")):
                runs.append((r, m.start(), m.end() - m.start()))
        return runs


_DARK_RUN: Final = re.compile("1+")


# --------------------------------------------------------------------------
# Data codewords


def _data_bits(data: bytes) -> tuple[int, int, int, int]:
    """(mode, character count, number of bits, bits) of ``data`` without header."""
    if data.isdigit():
        value = nbits = 0
        text = data.decode("ascii")
        for i in range(0, len(text), 3):
            chunk = text[i : i + 3]
            width = util.NUMBER_LENGTH[len(chunk)]
            value = (value << width) | int(chunk)
            nbits += width
        return util.MODE_NUMBER, len(data), nbits, value
    text = data.decode("latin-1")  # one character per byte; only ASCII can match below
    if _IS_ALPHANUMERIC(text):
        # Pairs of characters as 11-bit numbers (45 a + b), a lone last one in 6.
        values = data.translate(_ALPHA_TABLE)
        pairs = map(_ALPHA_PAIR_BITS.__getitem__, map(operator.add, map((45).__mul__, values[0::2]), values[1::2]))
        bits = "".join(pairs)
        if len(values) % 2:
            bits += _ALPHA_LAST_BITS[values[-1]]
        return util.MODE_ALPHA_NUM, len(data), len(bits), int(bits, 2)
    return util.MODE_8BIT_BYTE, len(data), 8 * len(data), int.from_bytes(data, "big")


def _choose_version(mode: int, count: int, nbits: int, ec: int) -> int:
    limits = util.BIT_LIMIT_TABLE[ec]
    for version in range(1, 41):
        needed = 4 + util.mode_sizes_for_version(version)[mode] + nbits
        if needed <= limits[version]:
            if count >= 1 << util.mode_sizes_for_version(version)[mode]:
                continue  # the character count would not fit its field
            return version
    raise ValueError(f"{count} characters do not fit in any QR version at this error-correction level")


@functools.cache
def _rs_table(ec_count: int) -> tuple[int, ...]:
    """For each byte f, the generator's tail multiplied by f, packed in an int:
    one XOR per data byte then performs a whole step of the division."""
    generator = LUT.rsPoly_LUT.get(ec_count)
    if generator is None:  # pragma: no cover - the LUT covers every QR block size
        poly = base.Polynomial([1], 0)
        for i in range(ec_count):
            poly = poly * base.Polynomial([1, base.gexp(i)], 0)
        generator = list(poly)
    logs = [base.glog(g) for g in generator[1:]]
    table = [0]
    for factor in range(1, 256):
        lf = base.glog(factor)
        table.append(int.from_bytes(bytes(base.gexp(lf + lg) for lg in logs), "big"))
    return tuple(table)


def _rs_remainder(block: bytes, ec_count: int) -> bytes:
    table = _rs_table(ec_count)
    top = 8 * (ec_count - 1)
    full = (1 << (8 * ec_count)) - 1
    rem = 0
    for byte in block:
        rem = ((rem << 8) & full) ^ table[(rem >> top) ^ byte]
    return rem.to_bytes(ec_count, "big")


def _codewords(data: bytes, ec: int) -> tuple[int, bytes]:
    """(version, final interleaved codewords) for ``data``."""
    mode, count, nbits, value = _data_bits(data)
    version = _choose_version(mode, count, nbits, ec)
    count_bits = util.mode_sizes_for_version(version)[mode]
    value = (((mode << count_bits) | count) << nbits) | value
    length = 4 + count_bits + nbits
    limit = util.BIT_LIMIT_TABLE[ec][version]
    # Terminator (up to four zero bits), then zero bits to a byte boundary.
    pad_bits = min(limit - length, 4)
    pad_bits += -(length + pad_bits) % 8
    value <<= pad_bits
    length += pad_bits
    stream = value.to_bytes(length // 8, "big")
    fill = (limit - length) // 8
    stream += (bytes((util.PAD0, util.PAD1)) * (fill // 2 + 1))[:fill]

    blocks = base.rs_blocks(version, ec)
    data_blocks: list[bytes] = []
    ec_blocks: list[bytes] = []
    offset = 0
    for block in blocks:
        chunk = stream[offset : offset + block.data_count]
        offset += block.data_count
        data_blocks.append(chunk)
        ec_blocks.append(_rs_remainder(chunk, block.total_count - block.data_count))
    return version, _interleave(data_blocks) + _interleave(ec_blocks)


def _interleave(blocks: list[bytes]) -> bytes:
    """Byte 0 of every block, then byte 1 of every block, and so on. Blocks
    of one symbol differ by at most one byte, the longer ones last."""
    count = len(blocks)
    if count == 1:
        return blocks[0]
    shortest = min(len(b) for b in blocks)
    out = bytearray(shortest * count)
    for i, block in enumerate(blocks):
        out[i::count] = block[:shortest]
    return bytes(out) + bytes(b[shortest] for b in blocks if len(b) > shortest)


# --------------------------------------------------------------------------
# Per-version layout


def _grid_bits(grid: list[list[bool | None]]) -> int:
    return int("".join("1" if cell else "0" for row in grid for cell in row), 2)


@dataclass(frozen=True)
class _Layout:
    size: int
    # For each module, row-major: the index in the codeword bit string that
    # lands on it, or the index of a trailing "0" for function modules and
    # remainder bits.
    pick: operator.itemgetter[str]
    data_bit_count: int
    # Per mask: (mask ∩ data area) | function modules, as qrcode scores it
    # (format and version areas light) and as it is finally drawn.
    scored: tuple[int, ...]
    final: tuple[int, ...]
    all_ones: int
    no_last_col: int  # modules with a right neighbour
    no_last_row: int  # modules with a neighbour below
    fits_h10: int  # an 11-module pattern starting here stays in the row
    fits_v10: int


def _placement_order(n: int, grid: list[list[bool | None]]) -> list[tuple[int, int]]:
    """Data module coordinates in the order bits are placed: two-column
    strips from the right, zig-zagging up and down, skipping column 6 (the
    vertical timing pattern) — the same walk as ``QRCode.map_data``."""
    order: list[tuple[int, int]] = []
    row, inc = n - 1, -1
    for col in range(n - 1, 0, -2):
        if col <= 6:
            col -= 1
        while True:
            for c in (col, col - 1):
                if grid[row][c] is None:
                    order.append((row, c))
            row += inc
            if row < 0 or row >= n:
                row -= inc
                inc = -inc
                break
    return order


@functools.cache
def _layout(version: int, ec: int) -> _Layout:
    n = version * 4 + 17
    q = qrcode.QRCode(version=version, error_correction=ec)
    q.modules_count = n
    q.modules = [[None] * n for _ in range(n)]
    q.setup_position_probe_pattern(0, 0)
    q.setup_position_probe_pattern(n - 7, 0)
    q.setup_position_probe_pattern(0, n - 7)
    q.setup_position_adjust_pattern()
    q.setup_timing_pattern()
    patterns = [row[:] for row in q.modules]

    def with_info(test: bool, mask: int) -> list[list[bool | None]]:
        q.modules = [row[:] for row in patterns]
        q.setup_type_info(test, mask)
        if version >= 7:
            q.setup_type_number(test)
        return q.modules

    reserved = with_info(True, 0)
    order = _placement_order(n, reserved)
    bit_count = 8 * sum(block.total_count for block in base.rs_blocks(version, ec))
    source = [bit_count] * (n * n)
    for index, (r, c) in enumerate(order):
        if index < bit_count:
            source[r * n + c] = index
    area = [[cell is None for cell in row] for row in reserved]

    scored_function = _grid_bits(reserved)
    scored, final = [], []
    for mask in range(8):
        condition = util.mask_func(mask)
        masked = _grid_bits([[area[r][c] and condition(r, c) for c in range(n)] for r in range(n)])
        scored.append(masked | scored_function)
        final.append(masked | _grid_bits(with_info(False, mask)))

    def columns_up_to(last: int) -> int:
        return int(("1" * (last + 1) + "0" * (n - 1 - last)) * n, 2)

    def rows_up_to(last: int) -> int:
        return int("1" * (n * (last + 1)) + "0" * (n * (n - 1 - last)), 2)

    return _Layout(
        size=n,
        pick=operator.itemgetter(*source),
        data_bit_count=bit_count,
        scored=tuple(scored),
        final=tuple(final),
        all_ones=(1 << (n * n)) - 1,
        no_last_col=columns_up_to(n - 2),
        no_last_row=rows_up_to(n - 2),
        fits_h10=columns_up_to(n - 11),
        fits_v10=rows_up_to(n - 11),
    )


# --------------------------------------------------------------------------
# Mask penalty, bit-parallel over the whole symbol


def _penalty(x: int, layout: _Layout) -> int:
    """qrcode's ``util.lost_point`` for the symbol ``x`` (see the module doc).

    Shifting left by 1 aligns each module with its right neighbour, by n with
    the one below; edge masks drop the pairs that would wrap to the next row.
    Everything stays a non-negative int (XOR with all-ones rather than ~):
    CPython is markedly slower on negative big ints.
    """
    n = layout.size
    ones = layout.all_ones
    light = x ^ ones

    # Rule 1: a run of L ≥ 5 same-colour modules in a row or column costs
    # L - 2. ``five`` marks each start of five equal modules (L - 4 per run)
    # and ``starts`` the first of them in each run (+2 each).
    points = 0
    same_right = (x ^ (x << 1) ^ ones) & layout.no_last_col
    same_below = (x ^ (x << n) ^ ones) & layout.no_last_row
    for same, step in ((same_right, 1), (same_below, n)):
        five = same & (same << step) & (same << 2 * step) & (same << 3 * step)
        starts = five ^ (five & (five >> step))
        points += five.bit_count() + 2 * starts.bit_count()

    # Rule 2: each 2×2 block of one colour costs 3.
    same_diagonal = x ^ (x << (n + 1)) ^ ones
    points += 3 * (same_right & same_below & same_diagonal).bit_count()

    # Rule 3: dark-light-dark×3-light-dark (1:1:3:1:1) with four light modules
    # after it (10111010000) or before it (00001011101), inside a row or a
    # column, costs 40 each.
    for step, fits in ((1, layout.fits_h10), (n, layout.fits_v10)):
        core = (
            x
            & (light << step)
            & (x << 2 * step)
            & (x << 3 * step)
            & (x << 4 * step)
            & (light << 5 * step)
            & (x << 6 * step)
        )
        four_light = light & (light << step) & (light << 2 * step) & (light << 3 * step)
        hits = (core & (four_light << 7 * step)) | (four_light & (core << 4 * step))
        points += 40 * (hits & fits).bit_count()

    # Rule 4: 10 points per full 5 % that the dark share departs from 50 %.
    percent = float(x.bit_count()) / (n * n)
    points += int(abs(percent * 100 - 50) / 5) * 10
    return points


def qr_matrix(payload: str | bytes, *, error_correction: ErrorCorrection = "M") -> QRMatrix:
    """The QR symbol of ``payload`` (UTF-8 if text), as qrcode would make it
    with ``add_data(payload, optimize=0)`` and ``make(fit=True)``."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    if not data:
        raise ValueError("nothing to encode")
    ec = _EC_LEVELS[error_correction]
    version, codewords = _codewords(data, ec)
    layout = _layout(version, ec)
    bit_string = format(int.from_bytes(codewords, "big"), f"0{layout.data_bit_count}b") + "0"
    data_bits = int("".join(layout.pick(bit_string)), 2)
    best_mask, best_points = 0, -1
    for mask in range(8):
        points = _penalty(data_bits ^ layout.scored[mask], layout)
        if best_points < 0 or points < best_points:
            best_mask, best_points = mask, points
    return QRMatrix(version=version, mask=best_mask, size=layout.size, bits=data_bits ^ layout.final[best_mask])

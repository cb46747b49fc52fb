"""The ``CHO40`` payment text (chopay.payment_text): what the QR codes write is
what attribution reads back, however the bank mangles it. No database."""

from __future__ import annotations

import pytest

from chopay import vietqr
from chopay.identifiers import damm_check_digit, new_reference
from chopay.payment_text import (
    merchant_code_candidates,
    normalize_content,
    reference_candidates,
    sale_payload,
    sale_purpose,
    static_payload,
    static_purpose,
)


def test_it_folds_content_to_upper_case_letters_and_digits() -> None:
    assert normalize_content("Chợ 40 – ab-12.cd 34") == "CHO40AB12CD34"


def test_it_offers_every_stretch_shaped_like_a_reference() -> None:
    candidates = reference_candidates("MBVCB.123.cho40k7rx3mwp4a.CT")

    assert "K7RX3MWP4A" in candidates
    assert all(len(c) == 10 for c in candidates)
    assert reference_candidates("CHO40 12345674") == set()  # a merchant code is never a reference


def test_it_only_offers_merchant_codes_with_a_valid_check_digit() -> None:
    body = "1234567"
    good = body + damm_check_digit(body)
    bad = body + str((int(damm_check_digit(body)) + 1) % 10)

    assert merchant_code_candidates(f"CHO40 {good} and {bad}") == [good]
    assert merchant_code_candidates(f"phone 0912345678 {bad}") == []


def test_it_writes_the_documented_purposes() -> None:
    assert static_purpose("12345674") == "CHO40 12345674"
    assert sale_purpose("K7QX3MZP2A") == "CHO40 K7QX3MZP2A"


def test_it_builds_a_stall_payload_without_amount_and_a_sale_payload_with_one() -> None:
    stall = vietqr.decode(static_payload(bank_bin="970436", account_number="0011001234567", merchant_code="12345674"))
    assert (stall.initiation, stall.service_code, stall.amount) == ("static", "QRIBFTTA", None)
    assert stall.purpose == "CHO40 12345674"

    sale = vietqr.decode(
        sale_payload(bank_bin="970422", account_number="0987654321", amount=185_000, reference="KX7MA3PT9C")
    )
    assert (sale.initiation, sale.amount, sale.bill_number) == ("dynamic", 185_000, "KX7MA3PT9C")
    assert sale.purpose == "CHO40 KX7MA3PT9C"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda text: text,
        lambda text: text.replace(" ", ""),  # spaces dropped
        lambda text: f"MBVCB.3321.{text.lower()}.CT tu 0912345678",  # wrapped and lower-cased
        lambda text: text.replace("CHO40", "Chợ 4.0-"),  # typed by hand
    ],
)
def test_it_reads_back_what_it_writes(mangle) -> None:
    body = "7654321"
    code = body + damm_check_digit(body)
    reference = new_reference()

    assert merchant_code_candidates(mangle(static_purpose(code)))[0] == code
    assert reference in reference_candidates(mangle(sale_purpose(reference)))

"""The bank directory shipped with chopay (no database)."""

from __future__ import annotations

from chopay.banks import bank_by_bin, banks


def test_it_names_a_bank_by_its_bin() -> None:
    bank = bank_by_bin("970436")
    assert bank is not None
    assert (bank.code, bank.short_name) == ("VCB", "Vietcombank")
    assert bank.name == "Ngân hàng TMCP Ngoại Thương Việt Nam"


def test_it_knows_no_bank_for_an_unlisted_bin() -> None:
    assert bank_by_bin("999999") is None
    assert bank_by_bin("") is None


def test_every_bin_is_six_digits_and_listed_once() -> None:
    bins = [bank.bin for bank in banks()]
    assert len(bins) > 40
    assert all(len(b) == 6 and b.isdigit() for b in bins)
    assert len(set(bins)) == len(bins)

"""Amounts read aloud in Vietnamese (chopay.spoken): the words a stall's phone
says, or the clips it plays, for each credit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chopay.spoken import (
    CLIP_FILES,
    MAX_AMOUNT,
    announcement_text,
    clip_names,
    vietnamese_words,
)


@pytest.mark.parametrize(
    ("amount", "spoken"),
    [
        (1, "một"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (100, "một trăm"),
        (101, "một trăm linh một"),
        (104, "một trăm linh bốn"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (115, "một trăm mười lăm"),
        (1_000, "một nghìn"),
        (10_000, "mười nghìn"),
        (35_000, "ba mươi lăm nghìn"),
        (64_000, "sáu mươi tư nghìn"),
        (105_000, "một trăm linh năm nghìn"),
        (250_500, "hai trăm năm mươi nghìn năm trăm"),
        (1_000_000, "một triệu"),
        (1_015_000, "một triệu không trăm mười lăm nghìn"),
        (1_000_005, "một triệu không trăm linh năm"),
        (2_000_500, "hai triệu năm trăm"),
        (12_345_678, "mười hai triệu ba trăm bốn mươi lăm nghìn sáu trăm bảy mươi tám"),
        (1_000_000_000, "một tỷ"),
        (5_001_000_000, "năm tỷ không trăm linh một triệu"),
        (
            MAX_AMOUNT,
            "chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu "
            "chín trăm chín mươi chín nghìn chín trăm chín mươi chín",
        ),
    ],
)
def test_it_reads_amounts_as_a_vietnamese_speaker_does(amount, spoken):
    assert " ".join(vietnamese_words(amount)) == spoken


def test_it_says_the_whole_announcement():
    assert announcement_text(64_000) == "Đã nhận sáu mươi tư nghìn đồng"
    assert clip_names(64_000) == ["da-nhan", "sau", "muoi-tens", "tu", "nghin", "dong"]
    assert clip_names(11_000) == ["da-nhan", "muoi", "mot", "nghin", "dong"]


@pytest.mark.parametrize("amount", [0, -5, MAX_AMOUNT + 1])
def test_it_refuses_an_amount_it_cannot_read(amount):
    with pytest.raises(ValueError, match="out of range"):
        vietnamese_words(amount)


@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_every_word_has_its_clip_with_an_ascii_name(amount):
    names = clip_names(amount)
    assert all(name.isascii() for name in names)
    assert len(names) == len(vietnamese_words(amount)) + 2
    assert set(vietnamese_words(amount)) <= set(CLIP_FILES)


def _scales(words: list[str]) -> list[str]:
    return [w for w in words if w in ("tỷ", "triệu", "nghìn")]


@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_each_scale_word_is_said_once_for_each_non_zero_group(amount):
    words = vietnamese_words(amount)
    expected = [scale for scale, size in (("tỷ", 10**9), ("triệu", 10**6), ("nghìn", 10**3)) if amount // size % 1000]
    assert _scales(words) == expected


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=999))
def test_a_group_after_the_first_always_says_its_hundreds(thousands, units):
    words = vietnamese_words(thousands * 1000 + units)
    after = words[words.index("nghìn") + 1 :]
    assert after[1] == "trăm"  # "không trăm …" when it has no hundreds
    assert after[0] == ("không" if units < 100 else vietnamese_words(units // 100)[0])


@given(st.integers(min_value=1, max_value=MAX_AMOUNT))
def test_the_special_forms_appear_only_where_the_rules_put_them(amount):
    words = vietnamese_words(amount)
    for i, word in enumerate(words):
        if word in ("mốt", "tư"):
            assert words[i - 1] == "mươi"
        if word == "lăm":
            assert words[i - 1] in ("mười", "mươi")
        if word == "linh":
            assert words[i - 1] == "trăm" and words[i + 1] in (
                "một",
                "hai",
                "ba",
                "bốn",
                "năm",
                "sáu",
                "bảy",
                "tám",
                "chín",
            )
        if word == "mươi":
            assert words[i - 1] in ("hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
    assert words[0] not in ("không", "linh", "mươi", "mốt", "tư", "lăm")

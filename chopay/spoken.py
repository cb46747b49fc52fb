"""An amount of đồng read aloud in Vietnamese, as a list of words.

The stall page announces each credit ("Đã nhận sáu mươi tư nghìn đồng"):
through the phone's Vietnamese voice when it has one, otherwise by playing one
short recorded clip per word (``static/audio/vi/``, ``CLIP_FILES`` names them).
``static/js/stall-words.js`` is the same function in JavaScript; a browser
test checks that both agree.

The reading rules (the standard Northern reading, as banks print amounts in words):

- groups of three digits from the left: ``tỷ`` (10⁹), ``triệu`` (10⁶),
  ``nghìn`` (10³), then the units; a group of three zeros is left out
  (1,000,000 → "một triệu"; 2,000,500 → "hai triệu năm trăm");
- inside a group: "<digit> trăm"; a group after the first one that has no
  hundreds but tens or units says "không trăm" (1,015,000 → "một triệu không
  trăm mười lăm nghìn");
- tens: 1 is "mười", 2-9 are "<digit> mươi"; no tens but units after a
  hundred is "linh" (we say "linh", not the Southern "lẻ": 105,000 → "một
  trăm linh năm nghìn");
- units: 5 after any tens is "lăm" (15 "mười lăm", 25 "hai mươi lăm"); 1 after
  "mươi" is "mốt" (21 "hai mươi mốt", but 11 "mười một" and 101 "một trăm linh
  một"); 4 after "mươi" is "tư" (64 "sáu mươi tư", but 14 "mười bốn" and 104
  "một trăm linh bốn").

Pure Python, no Django.
"""

from __future__ import annotations

from typing import Final

MAX_AMOUNT: Final = 999_999_999_999
DIGITS: Final = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
SCALES: Final = ("", "nghìn", "triệu", "tỷ")  # 10**0, 10**3, 10**6, 10**9
RECEIVED: Final = "đã nhận"
DONG: Final = "đồng"

# One clip per word (ASCII names; a few words differ only by their tone mark).
CLIP_FILES: Final[dict[str, str]] = {
    RECEIVED: "da-nhan",
    DONG: "dong",
    "không": "khong",
    "một": "mot",
    "hai": "hai",
    "ba": "ba",
    "bốn": "bon",
    "năm": "nam",
    "sáu": "sau",
    "bảy": "bay",
    "tám": "tam",
    "chín": "chin",
    "mười": "muoi",
    "mươi": "muoi-tens",
    "mốt": "mot-tens",
    "tư": "tu",
    "lăm": "lam",
    "linh": "linh",
    "trăm": "tram",
    "nghìn": "nghin",
    "triệu": "trieu",
    "tỷ": "ty",
}


def _group(number: int, *, leading: bool) -> list[str]:
    """0 < number < 1000; ``leading``: the first group read (no "không trăm")."""
    hundreds, tens, units = number // 100, number // 10 % 10, number % 10
    words: list[str] = []
    if hundreds or not leading:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units:
        if units == 5 and tens:
            words.append("lăm")
        elif units == 1 and tens > 1:
            words.append("mốt")
        elif units == 4 and tens > 1:
            words.append("tư")
        else:
            words.append(DIGITS[units])
    return words


def vietnamese_words(amount: int) -> list[str]:
    """``amount`` (1 … 999,999,999,999) as the words read aloud, without
    "đồng": 64,000 → ["sáu", "mươi", "tư", "nghìn"]."""
    if not 1 <= amount <= MAX_AMOUNT:
        raise ValueError(f"amount out of range 1…{MAX_AMOUNT}: {amount}")
    groups: list[int] = []
    while amount:
        groups.append(amount % 1000)
        amount //= 1000
    words: list[str] = []
    for scale in range(len(groups) - 1, -1, -1):
        group = groups[scale]
        if group:
            words += _group(group, leading=not words)
            if SCALES[scale]:
                words.append(SCALES[scale])
    return words


def announcement(amount: int) -> list[str]:
    """The whole announcement: ["đã nhận", …the amount…, "đồng"]."""
    return [RECEIVED, *vietnamese_words(amount), DONG]


def announcement_text(amount: int) -> str:
    """ "Đã nhận sáu mươi tư nghìn đồng": what the phone's voice is given."""
    text = " ".join(announcement(amount))
    return text[:1].upper() + text[1:]


def clip_names(amount: int) -> list[str]:
    """The clip files to play in turn for the announcement (stems, no extension)."""
    return [CLIP_FILES[word] for word in announcement(amount)]

"""Hypothesis strategies for raw provider bodies beyond the schema, and the
signing of whatever they produce (each provider's real scheme, with the test
keys of ``webhooks_support``), for the property tests of the webhook lanes."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from payments.bank_credits.providers import casso, payos, sepay
from tests.payments.bank_credits.webhooks_support import (
    CASSO_KEY,
    CASSO_URL,
    PAYOS_KEY,
    PAYOS_URL,
    SEPAY_API_KEY,
    SEPAY_SECRET,
    SEPAY_URL,
    casso_body,
    payos_body,
    sepay_body,
)

_ids = itertools.count(70_000_001)

# Text no database column can hold, or no codec can write, or that looks like something else.
ODD_TEXT = [
    "\x00",
    "CHO40 \x00 rau",
    "\ud800",
    "a\udfffb",
    "\U0001f600",
    "\u202e",
    "١٢٣",
    "²",
    "",
    " ",
    "null",
    "undefined",
    "'; DROP TABLE payments_payment; --",
    "x" * 400,
]
text = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(alphabet=st.characters(categories=["Cs", "Cc", "Lo", "Nd", "No", "Zs", "Ll", "So"]), max_size=30),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=6
)
ODD_TIMES = [
    "0001-01-01 00:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31 23:59:59",
    "9999-12-31T23:59:59-12:00",
    "10000-01-01 00:00:00",
    "0000-01-01 00:00:00",
    "2025-13-01 08:15:00",
    "2025-03-01T08:15:00+25:00",
    "1970-01-01 00:00:00",
    "2999-01-01 00:00:00",
    "yesterday",
    "",
]
times = st.one_of(
    st.sampled_from(ODD_TIMES),
    st.integers(min_value=-(10**20), max_value=10**20),  # an epoch, huge or not
    json_values,
)
MISSING = object()  # the field is left out of the body


def id_forms(n: int) -> list[Any]:
    """The same transaction id written every way a JSON sender might."""
    return [n, float(n), str(n), f" {n} ", f"0{n}", f"{n}\t", f"00{n}"]


def amount_forms(amount: int) -> list[Any]:
    return [amount, float(amount), str(amount), f" {amount}"]


@dataclass
class Signed:
    """A delivery ready to post: where, its headers and raw body, and what it carries."""

    url: str
    module: Any
    headers: dict[str, str]
    raw: bytes
    txn_id: str  # the canonical (source, provider_txn_id) it should be recorded under
    amount: int


def dumps(body: Any) -> bytes:
    # ASCII: a lone surrogate travels as its JSON escape, as it would on the wire.
    return json.dumps(body, ensure_ascii=True).encode()


def sign(module: Any, raw: bytes, *, hmac_mode: bool = False) -> dict[str, str]:
    """Headers that sign ``raw`` as ``module``'s provider does (payOS signs inside the body)."""
    if module is sepay:
        if hmac_mode:
            ts = str(int(time.time()))
            return {"X-SePay-Timestamp": ts, "X-SePay-Signature": sepay.hmac_signature(SEPAY_SECRET, ts, raw)}
        return {"Authorization": f"Apikey {SEPAY_API_KEY}"}
    if module is casso:
        ts = str(int(time.time() * 1000))
        return {"X-Casso-Signature": casso.signature_header(CASSO_KEY, ts, json.loads(raw))}
    return {}


def _apply(body: dict[str, Any], changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is MISSING:
            body.pop(name, None)
        else:
            body[name] = value


def _changes(fields: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(fields), st.one_of(values, st.just(MISSING)), max_size=len(fields))


SEPAY_OTHER = [
    "gateway",
    "accountNumber",
    "subAccount",
    "code",
    "content",
    "accumulated",
    "referenceCode",
    "description",
]
CASSO_OTHER = [
    "reference",
    "description",
    "runningBalance",
    "accountNumber",
    "bankName",
    "bankAbbreviation",
    "virtualAccountNumber",
    "virtualAccountName",
    "counterAccountName",
    "counterAccountNumber",
    "counterAccountBankId",
    "counterAccountBankName",
]
PAYOS_OTHER = [
    "description",
    "accountNumber",
    "desc",
    "counterAccountBankId",
    "counterAccountBankName",
    "counterAccountName",
    "counterAccountNumber",
    "virtualAccountName",
    "virtualAccountNumber",
]


@st.composite
def signed_credits(draw: st.DrawFn, provider: str, *, content: str = "") -> tuple[Signed, Signed]:
    """A genuine credit (positive amount, a transaction id) with every other
    field odd, missing or extra, signed; and the same transaction again with
    its id (and amount) written another way."""
    n = next(_ids)
    amount = draw(st.integers(min_value=1, max_value=10**12))
    first_id, second_id = draw(st.sampled_from(id_forms(n))), draw(st.sampled_from(id_forms(n)))
    first_amount, second_amount = (
        draw(st.sampled_from(amount_forms(amount))),
        draw(st.sampled_from(amount_forms(amount))),
    )
    others = draw(_changes({"sepay": SEPAY_OTHER, "casso": CASSO_OTHER, "payos": PAYOS_OTHER}[provider], json_values))
    when = draw(st.one_of(st.just("2025-03-01 08:15:00"), times, st.just(MISSING)))
    extra = draw(
        st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ("data", "signature")), json_values, max_size=2)
    )
    hmac_mode = draw(st.booleans())

    def build(txn: Any, paid: Any) -> Signed:
        if provider == "sepay":
            body = sepay_body(content=content, txn_id=0)
            _apply(body, {**others, "id": txn, "transferAmount": paid, "transactionDate": when})
            body.update({k: v for k, v in extra.items() if k not in body})
            raw = dumps(body)
            return Signed(SEPAY_URL, sepay, sign(sepay, raw, hmac_mode=hmac_mode), raw, str(n), amount)
        if provider == "casso":
            body = casso_body(description=content, txn_id=0)
            _apply(body["data"], {**others, "id": txn, "amount": paid, "transactionDateTime": when})
            body.update({k: v for k, v in extra.items() if k not in body})
            raw = dumps(body)
            return Signed(CASSO_URL, casso, sign(casso, raw), raw, str(n), amount)
        body = payos_body(description=content, order_code=0, reference=f"FT{n}")
        data = body["data"]
        _apply(data, {**others, "orderCode": txn, "amount": paid, "transactionDateTime": when})
        data = json.loads(dumps(data))  # as the server will read it back
        body.update({k: v for k, v in extra.items() if k not in body})
        body.update(data=data, signature=payos.signature(PAYOS_KEY, data))
        raw = dumps(body)
        return Signed(PAYOS_URL, payos, {}, raw, f"{n}:FT{n}", amount)

    return build(first_id, first_amount), build(second_id, second_amount)


@st.composite
def signed_anything(draw: st.DrawFn, provider: str) -> Signed:
    """A correctly signed body in which ANY field (id, amount, direction,
    currency, the envelope) may be odd, missing or extra."""
    first, _ = draw(signed_credits(provider))
    body = json.loads(first.raw)
    target = body if provider == "sepay" else body["data"]
    fields = [*target, "surprise"]
    _apply(target, draw(_changes(fields, json_values)))
    if provider != "sepay":
        _apply(body, draw(_changes([*body, "surprise"], json_values)))
        if not isinstance(body.get("data"), dict):
            body["data"] = target
    if provider == "payos":
        data = json.loads(dumps(body["data"]))
        body.update(data=data, signature=payos.signature(PAYOS_KEY, data))
    raw = dumps(body)
    return Signed(first.url, first.module, sign(first.module, raw), raw, first.txn_id, first.amount)


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


unsigned_bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(dumps),
    st.sampled_from(
        [_deep(15_000), _deep(50_000), b'{"a": NaN, "b": Infinity, "c": -Infinity}', b'{"id": 1, "id": 2}', b"\x00"]
    ),
    st.builds(lambda p: dumps(p), st.just(sepay_body(content="\x00 \ud800 CHO40"))),
)
forged_headers = st.sampled_from(
    [
        {},
        {"Authorization": "Apikey wrong"},
        {"Authorization": "Bearer \x00"},
        {"X-SePay-Signature": "sha256=00", "X-SePay-Timestamp": "1"},
        {"X-SePay-Signature": "sha256=00", "X-SePay-Timestamp": "99999999999999999999"},
        {"X-Casso-Signature": "t=1,v1=00"},
        {"X-Casso-Signature": "garbage"},
    ]
)

"""Which trader a bank credit belongs to, decided from what the bank tells us.

In order, the first rule that matches wins:

1. **Sale reference** — the reference of a payment request (sale QR, whose
   purpose reads ``CHO40 K7QX3MZP2A``) found anywhere in the transfer content.
   Banks prefix, truncate, upper-case and drop spaces, so the content is
   folded to ``A-Z0-9`` and every stretch shaped like a reference (10
   characters of the reference alphabet, starting with a letter) is looked up
   in one indexed query. Channel
   ``dynamic_qr``. The amount is checked: only an exact, still-pending request
   is settled; an under- or over-payment, or a request that is no longer
   pending, is recorded against that request's vendor and flagged.
2. **Merchant code** — a vendor's 8-digit merchant code in the content, as the
   stall QR writes it (``CHO40 12345674``); bare 8-digit numbers count too, but
   only when their Damm check digit is right and a vendor has that code.
   Channel ``static_qr``.
3. **Receiving account** — the account (or virtual sub-account) the money went
   to, held by an ACTIVE vendor (the bank name narrows the holders when the
   provider gives one). Channel ``phone_transfer``: nothing in the content came
   from one of our QR codes, so the payer typed the account or the phone-number
   alias by hand. One account may stand on several stalls only when they are
   the same trader (``vendors.services.account_claim_check``), so when several
   active stalls hold the same (bank, account) the credit goes to the trader's
   FIRST stall: the active holder registered first (lowest vendor id, which
   never changes). Holders at different banks that the provider's bank name
   cannot tell apart are different accounts: the credit is queued, under
   their market when they share one.
4. **Unmatched** — no vendor; a board member assigns it later. When the only
   holders of the receiving account are not active (pending or suspended), the
   credit carries the market of the first holding registration, so that
   market's board sees it; when nobody holds the account it carries no market
   (superusers only). Channel ``phone_transfer`` for the same reason.

Only ACTIVE vendors are attributed by merchant code (rule 2) or account (rule
3): a pending, rejected or suspended registration never takes money over. (A
sale reference, rule 1, exists only for a vendor that was active when it made
the sale QR: ``payment_request_create`` refuses the others.)

When rule 1 or 2 names a vendor other than the owner the receiving account
gives (rule 3), the content wins (it names the sale) but the payment is
flagged ``attribution_conflict`` for the board.

The ``CHO40`` text is read with ``chopay.payment_text``, the module that
writes it. Everything here only reads; ``payments.bank_credits.ingest`` writes. The helpers
are public so that the unmatched-queue screens can reuse them (e.g. to suggest
a vendor for a queued credit, or to re-run attribution on it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from chopay.payment_text import merchant_code_candidates, reference_candidates
from chopay.text import fold_ascii
from market.models import Bank
from payments.bank_credits import bulk_sql
from payments.models import Channel, Payment, PaymentRequest
from vendors.models import Vendor


@dataclass(frozen=True, slots=True)
class Flag:
    """Something the market board should look at; becomes a ``PaymentEvent``."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)  # slots: half the cost of making one (one per delivery)
class Attribution:
    vendor_id: int | None
    market_id: int | None
    channel: str
    attribution: str
    payment_request: PaymentRequest | None = None
    amount_check: str = ""
    # True when the credit should settle ``payment_request`` (exact amount, still pending).
    settles_request: bool = False
    flags: tuple[Flag, ...] = ()


# --- the pieces ------------------------------------------------------------------


def _any_of(column: str, values: list[str]) -> tuple[str, list[Any]]:
    """``column`` equals one of ``values``, as SQL whose text does not depend
    on how many values there are on PostgreSQL (one array parameter), so that
    the statement is not re-parsed for every credit."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [values]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def _select_each(queries: list[tuple[str, list[Any]]]) -> list[list[tuple[Any, ...]]]:
    """Run SELECTs and return the rows of each; on PostgreSQL in one round
    trip (several statements in one query, one result set each)."""
    results: list[list[tuple[Any, ...]]] = []
    # One statement (the common case: vendors only) is sent with its
    # parameters apart, so that the server prepares it once per connection
    # (bulk_sql.bound_cursor); several go as one text, which only the simple
    # protocol carries.
    with bulk_sql.bound_cursor() if len(queries) == 1 else connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(queries) > 1:
            cursor.execute("; ".join(sql for sql, _ in queries), [p for _, params in queries for p in params])
            results.append(cursor.fetchall())
            while cursor.nextset():
                results.append(cursor.fetchall())
        else:
            for sql, params in queries:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
    return results


# The lookups below run for every bank credit, so they are plain SQL: on this
# project's 2-core servers building the equivalent ORM queries costs several
# times more CPU than PostgreSQL spends answering them.
_REQUEST_COLUMNS = ("id", "vendor_id", "market_id", "reference", "amount", "status", "created_at")
# The vendor's bank code and short name come along for rule 3's tie-break.
_VENDOR_COLUMNS = (
    "id", "market_id", "merchant_code", "account_number", "bank_id", "status", "bank_code", "bank_short_name",
)  # fmt: skip


def _request_query(references: list[str]) -> tuple[str, list[Any]]:
    where, params = _any_of('"reference"', references)
    return f'SELECT {", ".join(_REQUEST_COLUMNS)} FROM "{PaymentRequest._meta.db_table}" WHERE {where}', params  # noqa: S608


def _vendor_query(codes: list[str], accounts: list[str]) -> tuple[str, list[Any]]:
    """Vendors named by a merchant code or owning a receiving account (rules 2 and 3)."""
    conditions: list[str] = []
    params: list[Any] = []
    for column, values in (('v."merchant_code"', codes), ('v."account_number"', accounts)):
        if values:
            where, more = _any_of(column, values)
            conditions.append(where)
            params += more
    vendors, banks = Vendor._meta.db_table, Bank._meta.db_table
    sql = (
        'SELECT v."id", v."market_id", v."merchant_code", v."account_number", v."bank_id", v."status", '  # noqa: S608
        'b."code", b."short_name" '
        f'FROM "{vendors}" v LEFT JOIN "{banks}" b ON b."bin" = v."bank_id" WHERE {" OR ".join(conditions)}'
    )
    return sql, params


def _best_request(rows: list[tuple[Any, ...]]) -> PaymentRequest | None:
    """A pending request first, then the longest reference, then the newest."""
    if not rows:
        return None
    matches = [PaymentRequest.from_db(connection.alias, list(_REQUEST_COLUMNS), row) for row in rows]
    pending = PaymentRequest.Status.PENDING
    return max(matches, key=lambda r: (r.status == pending, len(r.reference), r.created_at))


def find_payment_request(text: str) -> PaymentRequest | None:
    """The payment request whose reference appears in ``text``: a pending one
    first, then the longest reference, then the newest."""
    candidates = sorted(reference_candidates(text))
    if not candidates:
        return None
    return _best_request(_select_each([_request_query(candidates)])[0])


def _bank_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold_ascii(name).lower())


def vendors_for_account(vendors: Iterable[dict[str, Any]], *, bank: str = "") -> list[dict[str, Any]]:
    """Narrow vendors sharing an account number by the provider's bank name
    ("Vietcombank", "VCB", "MBBank", or a BIN), when it says one and that decides.
    Each vendor row carries ``bank_id`` (the BIN), ``bank_code`` and ``bank_short_name``."""
    found = list(vendors)
    if len(found) > 1 and bank:
        key = _bank_key(bank)

        def names(v: dict[str, Any]) -> set[str]:
            return {v["bank_id"], _bank_key(v.get("bank_code") or ""), _bank_key(v.get("bank_short_name") or "")}

        same_bank = [v for v in found if key in names(v)]
        if same_bank:
            found = same_bank
    return found


_ACTIVE = Vendor.Status.ACTIVE


def account_owner(holders: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The vendor a credit to an account goes to (rule 3), among the vendor
    rows holding it (already narrowed by bank): the trader's FIRST active
    stall — the lowest id, i.e. the registration made first, which never
    changes. Several active stalls on one (bank, account) are one trader's
    (the registration rule in ``vendors.services.account_claim_check``); active
    holders at different banks are different accounts, and nobody is chosen."""
    active = [h for h in holders if h["status"] == _ACTIVE]
    if not active or len({(h["bank_id"], h["account_number"]) for h in active}) > 1:
        return None
    return min(active, key=lambda h: h["id"])


def holding_market(holders: Iterable[dict[str, Any]]) -> int | None:
    """The market an unmatched credit to an account is queued under: the one
    market every active holder trades in; with no active holder, the market of
    the first (lowest id) pending or suspended registration, so that its board
    sees the money; ``None`` when nobody holds the account or active holders
    in several markets cannot be told apart (the payment selectors then show it
    to the boards of those markets and their officers)."""
    found = list(holders)
    active = [h for h in found if h["status"] == _ACTIVE]
    if active:
        markets = {h["market_id"] for h in active}
        return markets.pop() if len(markets) == 1 else None
    if found:
        return int(min(found, key=lambda h: h["id"])["market_id"])
    return None


def amount_check(*, paid: int, expected: int) -> str:
    if paid == expected:
        return Payment.AmountCheck.EXACT
    return Payment.AmountCheck.UNDERPAID if paid < expected else Payment.AmountCheck.OVERPAID


# --- the decision ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)  # slots: half the cost of making one (one per delivery)
class Candidates:
    """What in a credit could name a trader: the lookups rules 1-3 need."""

    references: tuple[str, ...]  # sale references, sorted
    codes: tuple[str, ...]  # valid merchant codes, prefixed ones first
    accounts: tuple[str, ...]  # receiving account, then sub-account


def candidates(*, content: str, extra_text: str = "", account_number: str = "", sub_account: str = "") -> Candidates:
    text = f"{content} {extra_text}" if extra_text else content
    return Candidates(
        references=tuple(sorted(reference_candidates(text))),
        codes=tuple(merchant_code_candidates(text)),
        accounts=tuple(a for a in dict.fromkeys((account_number, sub_account)) if a),
    )


@dataclass
class Found:
    """What :func:`lookup` read, indexed so that each credit of a batch picks
    its own rows by key instead of scanning everyone's."""

    requests: list[tuple[Any, ...]]
    vendors: list[dict[str, Any]]

    def __post_init__(self) -> None:
        reference_index = _REQUEST_COLUMNS.index("reference")
        self._by_reference: dict[str, list[tuple[Any, ...]]] = {}
        for row in self.requests:
            self._by_reference.setdefault(row[reference_index], []).append(row)
        self._by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for vendor in self.vendors:
            self._by_key.setdefault(("code", vendor["merchant_code"]), []).append(vendor)
            self._by_key.setdefault(("account", vendor["account_number"]), []).append(vendor)

    def named_by(self, wanted: Candidates) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
        """(request rows, vendor rows) that ``wanted`` names, each row once."""
        requests = [row for reference in wanted.references for row in self._by_reference.get(reference, ())]
        keys = [("code", code) for code in wanted.codes] + [("account", account) for account in wanted.accounts]
        vendors = {v["id"]: v for key in keys for v in self._by_key.get(key, ())}
        return requests, list(vendors.values())


def lookup(wanted: Iterable[Candidates]) -> Found:
    """The payment requests and vendors that any of ``wanted`` could name, in
    at most one round trip on PostgreSQL however many credits ask, for
    :func:`decide` to pick from (``Found.named_by``)."""
    references: dict[str, None] = {}
    codes: dict[str, None] = {}
    accounts: dict[str, None] = {}
    for c in wanted:
        references.update(dict.fromkeys(c.references))
        codes.update(dict.fromkeys(c.codes))
        accounts.update(dict.fromkeys(c.accounts))
    queries = []
    if references:
        queries.append(_request_query(list(references)))
    if codes or accounts:
        queries.append(_vendor_query(list(codes), list(accounts)))
    results = _select_each(queries) if queries else []
    requests = results.pop(0) if references else []
    vendors = [dict(zip(_VENDOR_COLUMNS, row, strict=True)) for row in (results[0] if results else [])]
    return Found(requests, vendors)


def decide(
    wanted: Candidates,
    *,
    amount: int,
    bank: str = "",
    request_rows: Iterable[tuple[Any, ...]],
    vendor_rows: Iterable[dict[str, Any]],
) -> Attribution:
    """Apply rules 1-4 to one credit, given the rows :func:`lookup` found for
    it (``Found.named_by``; rows that ``wanted`` does not name are ignored)."""
    reference_index = _REQUEST_COLUMNS.index("reference")
    request = _best_request([r for r in request_rows if r[reference_index] in wanted.references])
    rows = [r for r in vendor_rows if r["merchant_code"] in wanted.codes or r["account_number"] in wanted.accounts]
    holders = vendors_for_account((r for r in rows if r["account_number"] in wanted.accounts), bank=bank)
    sole_owner = account_owner(holders)

    # The stalls of the trader the account belongs to (they share it by right).
    key = (sole_owner["bank_id"], sole_owner["account_number"]) if sole_owner is not None else None
    owners = {h["id"] for h in holders if (h["bank_id"], h["account_number"]) == key}

    def conflict(vendor_id: int) -> tuple[Flag, ...]:
        if sole_owner is not None and vendor_id not in owners:
            return (Flag("attribution_conflict", {"content_vendor": vendor_id, "account_vendor": sole_owner["id"]}),)
        return ()

    # 1. a sale reference
    if request is not None:
        check = amount_check(paid=amount, expected=request.amount)
        flags: list[Flag] = []
        pending = request.status == PaymentRequest.Status.PENDING
        if not pending:
            kind = (
                "request_already_paid" if request.status == PaymentRequest.Status.PAID else f"request_{request.status}"
            )
            flags.append(Flag(kind, {"reference": request.reference, "status": request.status}))
        if check != Payment.AmountCheck.EXACT:
            flags.append(
                Flag(f"amount_{check}", {"reference": request.reference, "expected": request.amount, "paid": amount})
            )
        return Attribution(
            vendor_id=request.vendor_id,
            market_id=request.market_id,
            channel=Channel.DYNAMIC_QR,
            attribution=Payment.Attribution.REQUEST,
            payment_request=request,
            amount_check=check,
            settles_request=pending and check == Payment.AmountCheck.EXACT,
            flags=(*flags, *conflict(request.vendor_id)),
        )

    # 2. a merchant code
    by_code = {r["merchant_code"]: r for r in rows if r["status"] == _ACTIVE}
    for code in wanted.codes:
        if code in by_code:
            vendor = by_code[code]
            return Attribution(
                vendor_id=vendor["id"],
                market_id=vendor["market_id"],
                channel=Channel.STATIC_QR,
                attribution=Payment.Attribution.MERCHANT_CODE,
                flags=conflict(vendor["id"]),
            )

    # 3. the receiving account
    if sole_owner is not None:
        return Attribution(
            vendor_id=sole_owner["id"],
            market_id=sole_owner["market_id"],
            channel=Channel.PHONE_TRANSFER,
            attribution=Payment.Attribution.ACCOUNT,
        )
    # 4. unmatched, with the market of whoever holds the account (see holding_market)
    return Attribution(
        vendor_id=None,
        market_id=holding_market(holders),
        channel=Channel.PHONE_TRANSFER,
        attribution=Payment.Attribution.UNMATCHED,
    )


def attribute(
    *, content: str, amount: int, account_number: str = "", sub_account: str = "", bank: str = "", extra_text: str = ""
) -> Attribution:
    """Decide vendor, market, channel and attribution for a credit of
    ``amount`` đồng with transfer ``content`` received on ``account_number``."""
    wanted = candidates(content=content, extra_text=extra_text, account_number=account_number, sub_account=sub_account)
    request_rows, vendor_rows = lookup([wanted]).named_by(wanted)
    return decide(wanted, amount=amount, bank=bank, request_rows=request_rows, vendor_rows=vendor_rows)

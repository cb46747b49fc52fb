"""Checking the rows of an import by the registration form's rules, all rows
at once.

``vendors.services.vendor_create`` checks one trader with a few queries; ten
thousand of them that way take minutes. Here the same rules run in Python over
every row, against what the database holds fetched in one query per kind
(the market's phones and accounts; the accounts held in other markets):

- the phone, account number and account name are cleaned by the very
  functions the form uses (``clean_phone``, ``clean_account``);
- the bank is found by its name, short name, code or BIN, without diacritics
  or case ("vietcom" is not enough here: a file must name one bank);
- a phone or an account already registered in the market is refused naming
  the trader who holds it (``check_duplicates``: the board and the province
  may see them), and so is one repeated within the file;
- an account held by a stall of another market is allowed only when the
  uploader manages that market too (``account_claim_check``); otherwise the
  trader is registered with the form, which asks for the trader's confirmation;
- every field within the model's limits (``Vendor.full_clean``).

Each refusal is a :class:`RowError`: the spreadsheet's row number, the
column's key and a message for people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from chopay.text import fold_ascii
from market.models import Bank, Market
from market.selectors import markets_managed_by
from onboarding.imports.spreadsheet import YES
from vendors.models import Vendor
from vendors.services import clean_account, clean_account_number, clean_phone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

_IN_CHUNK = 900  # parameters per IN (...): SQLite's older builds allow 999


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CleanRow:
    """One trader, cleaned exactly as ``vendor_create`` would store them."""

    row: int
    market_id: int
    full_name: str
    phone: str
    stall_label: str
    goods_category: str
    bank_id: str
    account_number: str
    account_name: str


def _key(text: str) -> str:
    return " ".join(fold_ascii(text).lower().split())


class BankIndex:
    """Banks by folded name, short name, code and BIN. A word naming two
    banks (none in the VietQR list today) names neither."""

    def __init__(self, banks: Iterable[Bank]) -> None:
        found: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, str] = {}
        for bank in banks:
            self.names[bank.bin] = bank.short_name
            for text in (bank.bin, bank.code, bank.short_name, bank.name):
                if text:
                    found[_key(text)].add(bank.bin)
                    found[_key(text).replace(" ", "")].add(bank.bin)
        self._by_key = {key: next(iter(bins)) for key, bins in found.items() if len(bins) == 1}

    def find(self, text: str) -> str | None:
        key = _key(text)
        return self._by_key.get(key) or self._by_key.get(key.replace(" ", ""))


def _goods_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for value, label in Vendor.GoodsCategory.choices:
        index[_key(value)] = value
        index[_key(value.replace("_", " "))] = value
        for language in ("vi", "en"):
            with translation.override(language):
                index[_key(str(label))] = value
    return index


class RowChecker:
    """The checks of one import, for one market (a board's import) or the
    markets of one province (an officer's; each row names its market)."""

    def __init__(self, *, actor: User, market: Market | None = None, markets: Sequence[Market] = ()) -> None:
        self.actor = actor
        self.market = market
        self.markets: dict[str, Market] = {}
        for each in markets:
            self.markets[str(each.pk)] = each
            self.markets[each.code.upper()] = each
        self.by_id = {m.pk: m for m in ([market] if market else markets)}
        self.banks = BankIndex(Bank.objects.all())
        self.goods = _goods_index()

    # --- one row, on its own -------------------------------------------------------------

    def check_row(self, row: dict[str, str]) -> tuple[CleanRow | None, list[RowError]]:
        number = int(row["_row"])
        errors: list[RowError] = []

        def fail(column: str, message: str) -> None:
            errors.append(RowError(number, column, message))

        market = self.market
        if market is None:
            raw_market = row.get("market", "").strip()
            market = self.markets.get(raw_market.upper()) if raw_market else None
            if not raw_market:
                fail("market", _("Write the market's code or number."))
            elif market is None:
                fail("market", _("No market “%(market)s” in your province.") % {"market": raw_market})

        full_name = " ".join(row.get("full_name", "").split())
        if not full_name:
            fail("full_name", _("Write the trader's full name."))
        elif len(full_name) > 128:
            fail("full_name", _("The name is longer than 128 characters."))

        phone = ""
        raw_phone = row.get("phone", "").strip()
        if raw_phone.isdigit() and len(raw_phone) == 9:
            raw_phone = "0" + raw_phone  # a spreadsheet that read 0912… as a number dropped the 0
        if not raw_phone:
            fail("phone", _("Write the trader's mobile number."))
        else:
            try:
                phone = clean_phone(raw_phone)
            except ValidationError:
                fail("phone", _("“%(phone)s” is not a Vietnamese mobile number.") % {"phone": raw_phone})

        stall_label = row.get("stall_label", "").strip()
        if len(stall_label) > 32:
            fail("stall_label", _("The stall is longer than 32 characters."))

        raw_goods = row.get("goods_category", "").strip()
        goods_category = self.goods.get(_key(raw_goods)) if raw_goods else Vendor.GoodsCategory.OTHER
        if goods_category is None:
            fail(
                "goods_category",
                _("Unknown goods category “%(goods)s”; use one of the template's.") % {"goods": raw_goods},
            )

        raw_bank = row.get("bank", "").strip()
        bank_id = self.banks.find(raw_bank) if raw_bank else None
        if not raw_bank:
            fail("bank", _("Write the bank: its name, short name or BIN."))
        elif bank_id is None:
            fail(
                "bank",
                _("No bank is called “%(bank)s”. Write its name, short name or BIN, e.g. VCB.") % {"bank": raw_bank},
            )

        account_number = account_name = ""
        raw_number = row.get("account_number", "").strip()
        raw_name = row.get("account_name", "").strip() or full_name
        if not raw_number:
            fail("account_number", _("Write the account number."))
        elif not raw_name:  # no name to take it from: that is the name column's error
            try:
                account_number = clean_account_number(raw_number)
            except ValidationError:
                fail("account_number", _("The account number must be 6 to 19 letters or digits."))
        else:
            try:
                account_number, account_name = clean_account(account_number=raw_number, account_name=raw_name)
            except ValidationError as exc:
                fields = exc.message_dict
                if "account_number" in fields:
                    fail("account_number", _("The account number must be 6 to 19 letters or digits."))
                else:
                    fail("account_name", _("The account name must be the holder's name as the bank shows it."))

        if _key(row.get("consent", "")) not in YES:
            fail("consent", _("Write “có” only for a trader who signed their consent on paper."))

        if errors or market is None or bank_id is None or goods_category is None:
            return None, errors
        return (
            CleanRow(
                row=number,
                market_id=market.pk,
                full_name=full_name,
                phone=phone,
                stall_label=stall_label,
                goods_category=goods_category,
                bank_id=bank_id,
                account_number=account_number,
                account_name=account_name,
            ),
            [],
        )

    def check_rows(
        self, rows: Sequence[dict[str, str]], *, progress: Callable[[int], None] | None = None, every: int = 500
    ) -> tuple[list[CleanRow], list[RowError]]:
        """Each row on its own, then the file's own duplicates."""
        clean: list[CleanRow] = []
        errors: list[RowError] = []
        for index, row in enumerate(rows, start=1):
            good, bad = self.check_row(row)
            if good is not None:
                clean.append(good)
            errors.extend(bad)
            if progress is not None and index % every == 0:
                progress(index)
        errors.extend(self.file_duplicates(clean))
        return clean, errors

    def file_duplicates(self, rows: Sequence[CleanRow]) -> list[RowError]:
        errors: list[RowError] = []
        phones: dict[tuple[int, str], int] = {}
        accounts: dict[tuple[int, str, str], int] = {}
        for row in rows:
            first = phones.setdefault((row.market_id, row.phone), row.row)
            if first != row.row:
                errors.append(
                    RowError(row.row, "phone", _("The same phone as row %(row)s of this file.") % {"row": first})
                )
            first = accounts.setdefault((row.market_id, row.bank_id, row.account_number), row.row)
            if first != row.row:
                errors.append(
                    RowError(
                        row.row, "account_number", _("The same account as row %(row)s of this file.") % {"row": first}
                    )
                )
        return errors

    # --- against the database --------------------------------------------------------------

    def database_conflicts(self, rows: Sequence[CleanRow]) -> list[RowError]:
        """Phones and accounts already registered in the row's market, and
        accounts held in markets the uploader does not manage. Two queries
        for the markets' own vendors and one per 900 account numbers."""
        errors: list[RowError] = []
        if not rows:
            return errors
        market_ids = {row.market_id for row in rows}
        by_phone: dict[tuple[int, str], tuple[str, str]] = {}
        by_account: dict[tuple[int, str, str], tuple[str, str]] = {}
        existing = Vendor.objects.filter(market_id__in=market_ids).values_list(
            "market_id", "phone", "bank_id", "account_number", "full_name", "merchant_code"
        )
        for market_id, phone, bank_id, number, name, code in existing.iterator(chunk_size=5000):
            by_phone[(market_id, phone)] = (name, code)
            by_account[(market_id, bank_id, number)] = (name, code)
        holders: dict[tuple[str, str], set[int]] = defaultdict(set)
        numbers = sorted({row.account_number for row in rows})
        for start in range(0, len(numbers), _IN_CHUNK):
            chunk = numbers[start : start + _IN_CHUNK]
            for bank_id, number, market_id in Vendor.objects.filter(account_number__in=chunk).values_list(
                "bank_id", "account_number", "market_id"
            ):
                holders[(bank_id, number)].add(market_id)
        managed = set(market_ids)
        others_held = {m for held in holders.values() for m in held}
        if others_held:
            managed |= set(markets_managed_by(user=self.actor).filter(pk__in=others_held).values_list("pk", flat=True))
        for row in rows:
            market = self.by_id[row.market_id]
            found = by_phone.get((row.market_id, row.phone))
            if found:
                errors.append(
                    RowError(
                        row.row,
                        "phone",
                        _("This phone is already registered in %(market)s to %(name)s (merchant code %(code)s).")
                        % {"market": market.name, "name": found[0], "code": found[1]},
                    )
                )
            found = by_account.get((row.market_id, row.bank_id, row.account_number))
            if found:
                errors.append(
                    RowError(
                        row.row,
                        "account_number",
                        _("This account is already registered in %(market)s to %(name)s (merchant code %(code)s).")
                        % {"market": market.name, "name": found[0], "code": found[1]},
                    )
                )
                continue
            held_by = holders.get((row.bank_id, row.account_number), set()) - {row.market_id}
            if held_by - managed:
                errors.append(
                    RowError(
                        row.row,
                        "account_number",
                        _(
                            "This account is already registered to a stall in another market. Register this "
                            "trader with the form: it asks the trader to confirm by an SMS code."
                        ),
                    )
                )
        return errors

"""Load data for benchmarks: markets across several provinces (some in the
former Bắc Kạn), their vendors and millions of payments written with COPY.

Nothing here is demo data a person signs in to; it exists so that the
statistics can be measured at national scale (``seed_load``, ``make bench``).
Load markets are recognised by their code prefix ``LOAD-`` and their payments
by the provider transaction id prefix ``LOAD-``.

What is realistic about it (the shapes the statistics must cope with):
- stalls outnumber registered vendors; about 8 in 10 registered vendors hold a
  verified QR (status ``active``), the rest wait or are suspended, so coverage
  is well below 100 %;
- only 45–85 % of the QR holders (by market) ever receive a payment, and a
  fifth of those stop at some point: activation lags coverage, as in Thái Nguyên;
- activity is skewed (log-normal weight per vendor): a few busy traders, many
  quiet ones; vendors are onboarded over the period and the programme grows,
  so recent days carry more payments;
- amounts are log-normal around 45,000 đồng (about 92 % between 10,000 and
  200,000), with a long tail of wholesale payments; mostly round thousands;
- mornings are busy, a few payments fall just before local midnight;
- channel mix: static QR 55 %, phone-number transfer 22 %, sale QR 15 %,
  code entry 8 %; 1.5 % refunded, 0.5 % disputed, 0.7 % failed, 0.3 % pending;
  0.3 % of bank credits unmatched (no vendor, market known).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from chopay.identifiers import damm_check_digit
from market.models import Market, VolunteerAssignment, Ward
from payments.models import Payment
from vendors.models import Vendor

CODE_PREFIX = "LOAD-"
TXN_PREFIX = "LOAD-"

# (province code, markets) for 50 markets; Thái Nguyên's first 7 in former Bắc Kạn wards.
PROVINCES = [("19", 14), ("01", 8), ("79", 8), ("04", 4), ("20", 4), ("48", 4), ("92", 4), ("40", 4)]
BAC_KAN_MARKETS = 7
BAC_KAN_WARDS = ("01834", "02210")  # ward codes of the former Bắc Kạn province, now in Thái Nguyên

CHANNELS = [("static_qr", 55), ("phone_transfer", 22), ("dynamic_qr", 15), ("code_entry", 8)]
ATTRIBUTION = {
    "static_qr": "merchant_code",
    "phone_transfer": "account",
    "dynamic_qr": "request",
    "code_entry": "code_entry",
}
BANK_SOURCES = ["sepay", "sepay", "casso", "payos"]
# Share of payments per local hour 0..23: markets open early and are busiest before noon.
HOURS = [1, 0, 0, 0, 2, 10, 18, 20, 16, 12, 9, 7, 5, 4, 4, 5, 6, 6, 4, 3, 2, 1, 1, 1]
BANKS = ["970436", "970415", "970405", "970418", "970422", "970407", "970416", "970432", "970423"]
COLUMNS = (
    "vendor_id, market_id, amount, channel, source, provider_txn_id, provider_reference, status, attribution, "
    "amount_check, payer_masked, receiving_account, content, occurred_at, local_date, recorded_at, updated_at"
)


class LoadError(Exception):
    """The database cannot take load data (not PostgreSQL, or load markets already there)."""


@dataclass(frozen=True)
class PayingVendor:
    """A vendor who receives payments: from ``first`` to ``last`` (ordinals of local dates)."""

    vendor_id: int
    market_id: int
    merchant_code: str
    first: int
    last: int
    weight: float


@dataclass
class LoadSummary:
    markets: int = 0
    vendors: int = 0
    vendors_with_qr: int = 0
    paying_vendors: int = 0
    payments: int = 0


def require_postgres() -> None:
    if connection.vendor != "postgresql":
        raise LoadError("seed_load needs PostgreSQL (COPY); set DATABASE_URL to a PostgreSQL database")


def holds_real_payments() -> bool:
    """Whether any market that is not load data has payments: a real ledger,
    whose national and provincial figures load markets would join."""
    return Payment.objects.filter(market__in=Market.objects.exclude(code__startswith=CODE_PREFIX)).exists()


def load_market_ids() -> list[int]:
    return list(Market.objects.filter(code__startswith=CODE_PREFIX).values_list("id", flat=True))


def today_local() -> dt.date:
    return dt.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()


def _choose_wards(rng: random.Random, markets: int) -> list[tuple[Ward, bool]]:
    """``markets`` distinct real wards spread as PROVINCES says (scaled down when fewer)."""
    plan = [(code, max(1, round(count * markets / 50))) for code, count in PROVINCES]
    chosen: list[tuple[Ward, bool]] = []
    for code, count in plan:
        wards = list(Ward.objects.filter(province_id=code).order_by("code"))
        if code == "19":
            bac_kan = [w for w in wards if BAC_KAN_WARDS[0] <= w.code <= BAC_KAN_WARDS[1]]
            rest = [w for w in wards if w not in bac_kan]
            n_bk = min(len(bac_kan), max(1, count * BAC_KAN_MARKETS // 14))
            chosen += [(w, True) for w in rng.sample(bac_kan, n_bk)]
            chosen += [(w, False) for w in rng.sample(rest, count - n_bk)]
        else:
            chosen += [(w, False) for w in rng.sample(wards, count)]
    return chosen[:markets]


def _merchant_codes(rng: random.Random, count: int) -> list[str]:
    taken = set(Vendor.objects.values_list("merchant_code", flat=True))
    codes: list[str] = []
    while len(codes) < count:
        body = str(rng.randrange(1_000_000, 10_000_000))
        code = body + damm_check_digit(body)
        if code not in taken:
            taken.add(code)
            codes.append(code)
    return codes


@transaction.atomic
def create_markets_and_vendors(
    *, rng: random.Random, markets: int, vendors_per_market: int, days: int, summary: LoadSummary
) -> list[PayingVendor]:
    """The load markets, two volunteers each and their vendors; returns who gets paid."""
    if Market.objects.filter(code__startswith=CODE_PREFIX).exists():
        raise LoadError("load markets (code LOAD-…) already exist; use --reset to replace them")
    today = today_local()
    window_start = today - dt.timedelta(days=days - 1)
    tz = ZoneInfo(settings.TIME_ZONE)
    paying: list[PayingVendor] = []
    wards = _choose_wards(rng, markets)
    sizes = [max(20, int(rng.gauss(vendors_per_market, vendors_per_market / 4))) for _ in wards]
    codes = iter(_merchant_codes(rng, sum(sizes)))
    for index, ((ward, bac_kan), size) in enumerate(zip(wards, sizes, strict=True)):
        since = dt.date(2022, 12, 15) if bac_kan else window_start - dt.timedelta(days=rng.randrange(0, 120))
        market = Market.objects.create(
            name=f"Chợ {ward.short_name}",
            code=f"{CODE_PREFIX}{ward.province_id}-{index + 1:02d}",
            ward=ward,
            province_id=ward.province_id,
            legacy_province_id="06" if bac_kan else None,
            address=ward.name,
            stall_count=int(size / rng.uniform(0.6, 0.95)),
            cashless_since=since,
        )
        volunteers = []
        for n in (1, 2):
            user = User(username=f"load.{market.code.lower()}.{n}", first_name="Đoàn viên", last_name=market.name)
            user.set_unusable_password()
            user.save()
            VolunteerAssignment.objects.create(user=user, market=market)
            volunteers.append(user)
        busy = rng.uniform(0.5, 1.8)  # some markets are busier than others
        activation = rng.uniform(0.45, 0.85)
        rows = []
        for n in range(size):
            roll = rng.random()
            status = "active" if roll < 0.78 else ("pending" if roll < 0.92 else "suspended")
            # Pilot markets onboarded most of their traders before the window; others through it.
            lead = rng.random() < (0.6 if bac_kan else 0.25)
            offset = -rng.randrange(1, 400) if lead else int(days * rng.random() ** 1.5)
            onboarded = window_start + dt.timedelta(days=min(offset, days - 1))
            rows.append(
                Vendor(
                    market=market,
                    full_name=f"Tiểu thương {index + 1}-{n + 1}",
                    phone=f"+849{index:02d}{n:06d}",
                    stall_label=f"{chr(65 + n % 8)}-{n + 1}",
                    bank_id=rng.choice(BANKS),
                    account_number=f"8{index:03d}{n:06d}",
                    account_name="TIEU THUONG",
                    merchant_code=next(codes),
                    status=status,
                    onboarded_by=volunteers[n % 2],
                    onboarded_at=dt.datetime.combine(onboarded, dt.time(9), tz),
                )
            )
        created = Vendor.objects.bulk_create(rows, batch_size=1000)
        summary.markets += 1
        summary.vendors += len(created)
        for vendor in created:
            if vendor.status != "active":
                continue
            summary.vendors_with_qr += 1
            if rng.random() >= activation:
                continue  # holds a QR, never paid: the activation gap
            first = max(vendor.onboarded_at.astimezone(tz).date(), window_start).toordinal()
            last = today.toordinal()
            if rng.random() < 0.2:  # stopped using it at some point
                last = first + int((last - first) * rng.random())
            weight = busy * rng.lognormvariate(0, 1.2) * (last - first + 1)
            paying.append(PayingVendor(vendor.pk, market.pk, vendor.merchant_code, first, last, weight))
    summary.paying_vendors = len(paying)
    return paying


def paying_vendors_from_db(*, rng: random.Random, days: int) -> list[PayingVendor]:
    """Who gets paid among the load vendors already there: those that have been paid
    (for a bench that adds payments to a loaded database)."""
    today = today_local().toordinal()
    paid = Payment.objects.filter(vendor=OuterRef("pk"))
    rows = Vendor.objects.filter(Exists(paid), market__code__startswith=CODE_PREFIX, status="active")
    return [
        PayingVendor(pk, market_id, code, today - days + 1, today, rng.lognormvariate(0, 1.2))
        for pk, market_id, code in rows.values_list("pk", "market_id", "merchant_code")
    ]


def _amount(rng: random.Random) -> int:
    if rng.random() < 0.01:  # wholesale: a long tail up to tens of millions
        return max(100_000, int(round(rng.lognormvariate(math.log(800_000), 1.0), -4)))
    value = rng.lognormvariate(math.log(45_000), 0.85)
    step = 500 if value < 20_000 else 1_000
    return max(2_000, round(value / step) * step)


def _daily_counts(vendors: list[PayingVendor], count: int, today: int, today_share: float) -> dict[int, int]:
    """``count`` payments spread over the days: each vendor's weight with a
    density growing linearly over their active span (the programme grows);
    whole numbers by largest remainder, so they add up to ``count`` exactly."""
    totals: dict[int, float] = {}
    for v in vendors:
        span = v.last - v.first + 1
        for day in range(v.first, v.last + 1):
            totals[day] = totals.get(day, 0.0) + v.weight * 2 * (day - v.first + 0.5) / (span * span)
    if today in totals:  # only the part of today that has passed
        totals[today] *= today_share
    whole = sum(totals.values()) or 1.0
    exact = {day: count * t / whole for day, t in totals.items()}
    counts = {day: int(x) for day, x in exact.items()}
    short = count - sum(counts.values())
    for day in sorted(exact, key=lambda d: counts[d] - exact[d])[:short]:
        counts[day] += 1
    return counts


def payment_lines(
    *, rng: random.Random, vendors: list[PayingVendor], count: int, run: str, start: int = 0
) -> Iterator[str]:
    """``count`` COPY text lines (``COLUMNS``), provider ids ``LOAD-<run>-<n>``,
    day by day in time order: ids grow with time as in production, and each
    index takes its new entries near its recent end (a random order makes
    the COPY several times slower once the indexes outgrow the cache)."""
    cum_hours = list(accumulate(HOURS))
    cum_channels = list(accumulate(w for _, w in CHANNELS))
    channel_names = [c for c, _ in CHANNELS]
    now = dt.datetime.now(ZoneInfo(settings.TIME_ZONE))
    today, now_seconds = now.date().toordinal(), now.hour * 3600 + now.minute * 60 + now.second
    hour, part = divmod(now_seconds, 3600)
    today_share = (sum(HOURS[:hour]) + HOURS[hour] * part / 3600) / sum(HOURS)
    n = start
    for day, day_count in sorted(_daily_counts(vendors, count, today, today_share).items()):
        if not day_count:
            continue
        open_ = [v for v in vendors if v.first <= day <= v.last]
        weights = [v.weight * (day - v.first + 0.5) / (v.last - v.first + 1) ** 2 for v in open_]
        payers = rng.choices(open_, weights=weights, k=day_count)
        limit = now_seconds if day == today else 86_400
        times = []
        for _ in range(day_count):
            seconds = bisect.bisect(cum_hours, rng.random() * cum_hours[-1]) * 3600 + rng.randrange(3600)
            times.append(seconds if seconds < limit else rng.randrange(max(limit, 1)))
        times.sort()
        date = dt.date.fromordinal(day).isoformat()
        for vendor, seconds in zip(payers, times, strict=True):
            stamp = f"{date} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}+07"
            channel = channel_names[bisect.bisect(cum_channels, rng.random() * cum_channels[-1])]
            source = "ussd" if channel == "code_entry" else BANK_SOURCES[n % 4]
            roll = rng.random()
            status = (
                "succeeded"
                if roll < 0.97
                else "refunded"
                if roll < 0.985
                else "disputed"
                if roll < 0.99
                else "failed"
                if roll < 0.997
                else "pending"
            )
            vendor_id, attribution = str(vendor.vendor_id), ATTRIBUTION[channel]
            if source != "ussd" and rng.random() < 0.003:
                vendor_id, attribution = "\\N", "unmatched"
            content = f"CHO40 {vendor.merchant_code}" if channel == "static_qr" else ""
            yield (
                f"{vendor_id}\t{vendor.market_id}\t{_amount(rng)}\t{channel}\t{source}\t{TXN_PREFIX}{run}-{n}\t\t"
                f"{status}\t{attribution}\t\t\t\t{content}\t{stamp}\t{date}\t{stamp}\t{stamp}\n"
            )
            n += 1


def copy_payments(lines: Iterator[str], *, skip_triggers: bool, chunk: int = 20_000) -> int:
    """COPY ``lines`` into payments_payment in one transaction.

    ``skip_triggers``: ``SET LOCAL session_replication_role = replica``, which
    silences every trigger (the stats change log, and the foreign-key checks,
    which generated data does not need) for this transaction only; other
    sessions keep writing change rows as usual. PostgreSQL lets a superuser (or
    a role granted SET on that parameter) do it. The caller must then rebuild
    the rollups of the markets written to."""
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        raw: Any = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        raw.execute("SET LOCAL statement_timeout = 0")  # DB_STATEMENT_TIMEOUT_MS is for requests, not loads
        if skip_triggers:
            raw.execute("SET LOCAL session_replication_role = replica")
        with raw.copy(f"COPY payments_payment ({COLUMNS}) FROM STDIN") as copy:
            buffer: list[str] = []
            for line in lines:
                buffer.append(line)
                if len(buffer) >= chunk:
                    copy.write("".join(buffer))
                    written += len(buffer)
                    buffer.clear()
            if buffer:
                copy.write("".join(buffer))
                written += len(buffer)
        if skip_triggers:  # LOCAL lasts to the outermost commit: end it here for a caller's transaction
            raw.execute("SET LOCAL session_replication_role = DEFAULT")
    return written


def delete_load_data() -> tuple[int, list[int]]:
    """Remove the load markets, their vendors, volunteers and payments (and the
    change-log rows about them); returns (payments deleted, market ids). The caller
    rebuilds the rollups of those market ids, which then come out empty."""
    ids = load_market_ids()
    if not ids:
        return 0, []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute(
                "DELETE FROM payments_paymentevent WHERE payment_id IN "
                "(SELECT id FROM payments_payment WHERE market_id = ANY(%s))",
                [ids],
            )
            cursor.execute("DELETE FROM payments_payment WHERE market_id = ANY(%s)", [ids])
            deleted = cursor.rowcount
            cursor.execute("DELETE FROM stats_paymentchange WHERE market_id = ANY(%s)", [ids])
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        Vendor.objects.filter(market_id__in=ids).delete()
        User.objects.filter(username__startswith="load.", volunteer_roles__market_id__in=ids).delete()
        Market.objects.filter(id__in=ids).delete()
    return deleted, ids

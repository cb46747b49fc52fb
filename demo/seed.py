"""Demo data: Thái Nguyên markets, including the former Bắc Kạn pilot markets
(plan 820/KH-UBND, December 2022), with boards, volunteers, an officer and
vendors with Vietnamese names, and their cashless receipts: the last 90 days
for every market, and the 2023–2024 pilot history of the former Bắc Kạn
markets, with a few refunds and disputes, so the dashboards have trends,
cohorts and a pilot group to show.

Deterministic, and safe to run on a database someone has been using: it creates
only its own objects, recognised by fixed identifiers (the market codes of
``MARKETS``, the demo usernames, the merchant codes ``9MMNNNNc`` it derives for
vendor ``NNNN`` of market ``MM``), and only those that are missing. It never
changes a row that exists, never grants a role to a user it did not create in
the same run, and gives payments only to the vendors it creates in the same run
(dated over the days before that run), so a later run, even on a later day,
adds none to anybody."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from chopay.identifiers import damm_check_digit
from chopay.text import fold_ascii
from market.models import BoardMember, Market, ProvinceOfficer, VolunteerAssignment, Ward
from payments.models import Channel, Payment, Source, local_date
from stats.models import Target
from vendors.models import Vendor

# (code, name, ward short name, stalls, legacy province, cashless since)
MARKETS = [
    ("TN-THAI", "Chợ Thái", "Phan Đình Phùng", 620, None, dt.date(2023, 3, 1)),
    ("TN-DONGQUANG", "Chợ Đồng Quang", "Phan Đình Phùng", 240, None, dt.date(2023, 3, 15)),
    ("TN-TUCDUYEN", "Chợ Túc Duyên", "Gia Sàng", 180, None, dt.date(2023, 5, 1)),
    ("TN-BAHANG", "Chợ Ba Hàng", "Phổ Yên", 300, None, dt.date(2023, 6, 1)),
    ("BK-TRUNGTAM", "Chợ Trung tâm Bắc Kạn", "Đức Xuân", 350, "06", dt.date(2022, 12, 15)),
    ("BK-PHUNGCHIKIEN", "Chợ Phùng Chí Kiên", "Bắc Kạn", 160, "06", dt.date(2022, 12, 15)),
    ("BK-CHORA", "Chợ Chợ Rã", "Chợ Rã", 120, "06", dt.date(2023, 1, 10)),
    ("BK-BANGLUNG", "Chợ Bằng Lũng", "Chợ Đồn", 140, "06", dt.date(2023, 1, 10)),
    ("BK-NAPHAC", "Chợ Nà Phặc", "Nà Phặc", 90, "06", dt.date(2023, 1, 20)),
    ("BK-PHUTHONG", "Chợ Phủ Thông", "Phủ Thông", 80, "06", dt.date(2023, 1, 20)),
    ("BK-CHOMOI", "Chợ Chợ Mới", "Chợ Mới", 110, "06", dt.date(2023, 1, 20)),
    ("BK-YENLAC", "Chợ Yến Lạc", "Na Rì", 95, "06", dt.date(2023, 2, 1)),
]

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hà", "Nông", "Lường", "Ma", "Triệu"]
MIDDLE_F = ["Thị", "Thị Thu", "Thị Hồng", "Thị Minh", "Thị Thanh"]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu"]
GIVEN_F = ["Hoà", "Lan", "Hương", "Mai", "Ngọc", "Thảo", "Duyên", "Nhung", "Yến", "Hằng", "Liên", "Phượng"]
GIVEN_M = ["Bình", "Dũng", "Hùng", "Tuấn", "Thắng", "Cường", "Long", "Sơn", "Khánh", "Đạt"]
BANKS = ["970436", "970415", "970405", "970418", "970422", "970407", "970416", "970432", "970423", "970441"]
PREFIXES = ["091", "094", "088", "098", "097", "096", "086", "033", "035", "039", "081", "083", "090", "093", "070"]
CATEGORIES = [c for c, _ in Vendor.GoodsCategory.choices]

DEMO_PASSWORD_NOTE = "Demo logins share one password, printed by seed_demo and listed in README.md."


@dataclass
class DemoSummary:
    """What one run created (a second run creates nothing) and the logins."""

    markets: int = 0
    vendors: int = 0
    payments: int = 0
    users: list[str] = field(default_factory=list)


def _new_user(username: str, password: str, first: str, last: str, **extra: object) -> User | None:
    """The demo login, created if missing; ``None`` when it already exists, so
    that a user someone made (or kept) under that name is left as it is and
    given no role."""
    if User.objects.filter(username=username).exists():
        return None
    user = User(username=username, first_name=first, last_name=last, **extra)
    user.set_password(password)
    user.save()
    return user


def _vendor_name(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"


def demo_merchant_code(*, market_index: int, n: int) -> str:
    """The fixed merchant code of demo vendor ``n`` of the ``market_index``-th demo market."""
    body = f"9{(market_index + 1):02d}{n:04d}"
    return body + damm_check_digit(body)


@transaction.atomic
def _onboarded_at(*, since: dt.date, n: int, vendors_per_market: int, today: dt.date) -> dt.datetime:
    """Two thirds of a market's demo traders joined in its first weeks; the
    rest joined over the last months, one a week, so the onboarding cohorts
    and the volunteers' recent work have something to show."""
    early = (vendors_per_market * 2) // 3
    recent = max(since, today - dt.timedelta(weeks=vendors_per_market - n))
    day = since + dt.timedelta(days=n) if n < early else recent
    return timezone.make_aware(dt.datetime.combine(day, dt.time(8)))


def seed_demo(*, password: str, vendors_per_market: int = 30, payment_days: int = 90) -> DemoSummary:
    summary = DemoSummary(users=["admin", "sct.thainguyen"])
    _new_user("admin", password, "Quản trị", "", is_superuser=True, is_staff=True)
    officer = _new_user("sct.thainguyen", password, "Hà Thị", "Thu", is_staff=True)
    if officer is not None:
        ProvinceOfficer.objects.create(user=officer, province_id="19")
    wards = {w.short_name: w for w in Ward.objects.filter(province_id="19")}
    today = local_date(timezone.now())
    created_vendors: list[Vendor] = []

    for index, (code, name, ward_name, stalls, legacy, since) in enumerate(MARKETS):
        market, market_created = Market.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "ward": wards[ward_name],
                "province_id": "19",
                "legacy_province_id": legacy,
                "address": f"{wards[ward_name].name}, Tỉnh Thái Nguyên",
                "stall_count": stalls,
                "cashless_since": since,
            },
        )
        summary.markets += market_created
        slug = code.lower().replace("-", ".")
        board = _new_user(f"bql.{slug}", password, "Ban quản lý", name, is_staff=True)
        if board is not None:
            BoardMember.objects.create(user=board, market=market, title="Trưởng ban")
        volunteer = _new_user(f"tn.{slug}", password, "Đoàn viên", name)
        if volunteer is not None:
            VolunteerAssignment.objects.create(user=volunteer, market=market)
        summary.users += [f"bql.{slug}", f"tn.{slug}"]

        # Demo vendors are onboarded by the market's demo volunteer, made now or by an earlier run.
        onboarder = volunteer or User.objects.filter(username=f"tn.{slug}", volunteer_roles__market=market).first()
        codes = [demo_merchant_code(market_index=index, n=n) for n in range(vendors_per_market)]
        # Taken anywhere (merchant codes are unique across markets), or a phone
        # or an account already used in this market: leave it to whoever has it.
        taken_codes = set(Vendor.objects.filter(merchant_code__in=codes).values_list("merchant_code", flat=True))
        taken_phones = set(market.vendors.values_list("phone", flat=True))
        taken_accounts = set(market.vendors.values_list("bank_id", "account_number"))
        for n, merchant_code in enumerate(codes):
            if merchant_code in taken_codes:
                continue
            # One generator per vendor, so that a later run adding vendors (or
            # refilling a deleted one) draws fresh values instead of replaying
            # the first vendors' phones and accounts.
            rng = random.Random(f"cho40-demo-{code}-{n}")
            full_name = _vendor_name(rng)
            vendor = Vendor(
                market=market,
                full_name=full_name,
                phone=f"+84{rng.choice(PREFIXES)[1:]}{rng.randrange(10**7):07d}",
                stall_label=f"{'ABCDEF'[n % 6]}-{n + 1:02d}",
                goods_category=rng.choice(CATEGORIES),
                bank_id=rng.choice(BANKS),
                account_number=f"{rng.randrange(10**9, 10**10)}{n:03d}",
                account_name=" ".join(fold_ascii(full_name).upper().split()),
                merchant_code=merchant_code,
                status=Vendor.Status.ACTIVE if rng.random() < 0.8 else Vendor.Status.PENDING,
                onboarded_by=onboarder,
                onboarded_at=_onboarded_at(since=since, n=n, vendors_per_market=vendors_per_market, today=today),
            )
            if vendor.phone in taken_phones or (vendor.bank_id, vendor.account_number) in taken_accounts:
                continue
            if index == 0 and n == 0:
                # The demo trader's login: the first stall of the first market.
                vendor.user = _new_user("tt.demo", password, full_name, "")
            vendor.save()
            taken_phones.add(vendor.phone)
            taken_accounts.add((vendor.bank_id, vendor.account_number))
            created_vendors.append(vendor)
            summary.vendors += 1
        if index == 0:
            summary.users.append("tt.demo")

    summary.payments = _seed_payments(created_vendors, days=payment_days)
    _seed_targets(officer=officer)
    return summary


# The province's programme target (as in the issue: every stall with a QR and
# 60 % of them active by mid-2027), and the city markets' boards' own.
PROVINCE_TARGET = ("19", Decimal("1"), Decimal("0.6"), dt.date(2027, 6, 30))
BOARD_TARGETS = {"TN-THAI": (Decimal("0.9"), Decimal("0.7"), dt.date(2027, 3, 31))}


def _seed_targets(*, officer: User | None) -> None:
    """Targets for the demo province and markets that have none yet (an
    existing target, set by someone, is left as it is)."""
    province, coverage, active, deadline = PROVINCE_TARGET
    Target.objects.get_or_create(
        province_id=province,
        defaults={"coverage": coverage, "active": active, "deadline": deadline, "set_by": officer},
    )
    for market in Market.objects.filter(code__in=BOARD_TARGETS):
        coverage, active, deadline = BOARD_TARGETS[market.code]
        board = User.objects.filter(board_roles__market=market).order_by("pk").first()
        Target.objects.get_or_create(
            market=market, defaults={"coverage": coverage, "active": active, "deadline": deadline, "set_by": board}
        )


# Channel mix and ticket sizes of a traditional market (đồng, multiples of 1,000).
_CHANNELS = [
    (Channel.STATIC_QR, Source.SEPAY, 0.55),
    (Channel.DYNAMIC_QR, Source.SEPAY, 0.2),
    (Channel.PHONE_TRANSFER, Source.CASSO, 0.15),
    (Channel.CODE_ENTRY, Source.USSD, 0.1),
]
_TICKETS = [(10, 40), (40, 120), (120, 400), (400, 1500)]


# The former Bắc Kạn pilot (plan 820/KH-UBND) ran until the end of 2024.
PILOT_LEGACY_PROVINCE = "06"
PILOT_END = dt.date(2024, 12, 31)


def _payment(vendor: Vendor, rng: random.Random, day: dt.date, n: int, now: dt.datetime) -> Payment | None:
    channel, source, _ = rng.choices(_CHANNELS, weights=[c[2] for c in _CHANNELS])[0]
    low, high = rng.choices(_TICKETS, weights=[50, 35, 12, 3])[0]
    occurred = timezone.make_aware(dt.datetime.combine(day, dt.time(5 + rng.randrange(12), rng.randrange(60))))
    if occurred > now:
        return None
    return Payment(
        vendor=vendor,
        market=vendor.market,
        amount=rng.randint(low, high) * 1000,
        channel=channel,
        source=source,
        provider_txn_id=f"demo-{vendor.merchant_code}-{day:%Y%m%d}-{n}",
        status=Payment.Status.SUCCEEDED,
        attribution=(
            Payment.Attribution.CODE_ENTRY
            if channel == Channel.CODE_ENTRY
            else Payment.Attribution.ACCOUNT
            if channel == Channel.PHONE_TRANSFER
            else Payment.Attribution.MERCHANT_CODE
        ),
        receiving_account=vendor.account_number,
        occurred_at=occurred,
        local_date=day,
    )


def _seed_payments(vendors: list[Vendor], *, days: int) -> int:
    """Cashless receipts for the active ones of ``vendors`` (those this run
    created): over the last ``days`` Vietnam calendar days before now, from the
    day each trader joined, and for the former Bắc Kạn pilot markets a sparser
    weekly history from joining to the end of the pilot (2024). About one in
    200 receipts is then refunded and one in 300 disputed, through the
    payments' own state machine (each leaves its event). Ids are deterministic
    per vendor and day (``demo-<merchant code>-<day>-<n>``)."""
    if days <= 0 or not vendors:
        return 0
    now = timezone.now()
    today = local_date(now)
    rows: list[Payment] = []
    for vendor in (v for v in vendors if v.status == Vendor.Status.ACTIVE):
        rng = random.Random(f"cho40-demo-payments-{vendor.merchant_code}")
        activity = rng.choice([0, 1, 1, 2, 3, 5, 8])  # some traders barely use it yet
        joined = local_date(vendor.onboarded_at)
        if vendor.market.legacy_province_id == PILOT_LEGACY_PROVINCE and activity:
            day = joined
            while day <= min(PILOT_END, today - dt.timedelta(days=days + 1)):
                for n in range(rng.randint(0, 2)):
                    if (payment := _payment(vendor, rng, day, n, now)) is not None:
                        rows.append(payment)
                day += dt.timedelta(days=rng.randint(5, 9))
        for offset in range(days, -1, -1):
            day = today - dt.timedelta(days=offset)
            if day < joined:
                continue
            for n in range(rng.randint(0, activity)):
                if (payment := _payment(vendor, rng, day, n, now)) is not None:
                    rows.append(payment)
    Payment.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    created = Payment.objects.filter(vendor__in=[v.pk for v in vendors])
    with transaction.atomic():
        for payment in created.filter(status=Payment.Status.SUCCEEDED).order_by("pk"):
            pick = random.Random(payment.provider_txn_id).random()
            if pick < 1 / 200:
                payment.transition(Payment.Status.REFUNDED, data={"note": "demo"})
            elif pick < 1 / 200 + 1 / 300:
                payment.transition(Payment.Status.DISPUTED, data={"note": "demo"})
    return created.count()

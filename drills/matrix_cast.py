"""The cast the role matrix (``drills.matrix``) is played by: three markets,
one login of each role inside the first market's scope and one outsider of
each role, and one object of every kind an URL is about, all in the first
market (``home``) — so every outsider must be refused each of them.

Built with the ORM only (no factories): the pytest test builds it in the test
database, the drill in its scratch PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

# Who plays, inside the home market's scope, then the outsiders.
INSIDERS = ("superuser", "officer", "board", "volunteer", "vendor", "anonymous")
OUTSIDERS = ("other_board", "other_volunteer", "other_vendor", "far_officer", "no_role")
ROLES = INSIDERS + OUTSIDERS
ROLE_TEXT = {
    "superuser": "superuser",
    "officer": "province officer of the home market's province (Thái Nguyên)",
    "board": "board member of the home market",
    "volunteer": "volunteer assigned to the home market",
    "vendor": "trader of the home market's stall",
    "anonymous": "not signed in",
    "other_board": "board member of another market of the same province",
    "other_volunteer": "volunteer assigned to another market only",
    "other_vendor": "trader of a stall in another market",
    "far_officer": "province officer of another province (Hà Nội)",
    "no_role": "signed in, holding no role",
}
PASSWORD = "matrix-drill-pass-7"  # the cast's logins (the drill signs in with it; not a secret)


@dataclass
class Cast:
    users: dict[str, Any] = field(default_factory=dict)  # role → User (no anonymous)
    ids: dict[str, str] = field(default_factory=dict)  # object name → value put in URLs
    home_account: str = ""

    def secrets(self) -> list[str]:
        """What no outsider may ever be shown: the home stall's merchant code,
        its bank account and its payment's bank reference."""
        return [self.ids["merchant_code"], self.home_account, "MX-TXN-1-REF"]


def build_cast() -> Cast:
    """Create the cast in the current database and return it."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.invitations import token_hash
    from accounts.models import Invitation
    from chopay.identifiers import generate_merchant_code
    from market.models import BoardMember, Market, ProvinceOfficer, VolunteerAssignment, Ward
    from onboarding.imports.models import ImportJob
    from payments.models import CardBatch, Payment, PaymentRequest, local_date
    from vendors.models import PayoutAccountChange, SharedAccountClaim, Vendor

    user_model = get_user_model()
    now = timezone.now()
    cast = Cast()

    def user(name: str, **extra: Any) -> Any:
        made = user_model(username=f"m.{name}", **extra)
        made.set_password(PASSWORD)
        made.save()
        return made

    tn_ward = Ward.objects.filter(province_id="19").order_by("code").first()
    hn_ward = Ward.objects.filter(province_id="01").order_by("code").first()
    assert tn_ward is not None and hn_ward is not None, "reference data (wards) missing"

    def market(code: str, ward: Any) -> Market:
        return Market.objects.create(
            name=f"Chợ {code}", code=code, ward=ward, province=ward.province, stall_count=50, status="active"
        )

    home, other = market("MX-HOME", tn_ward), market("MX-OTHER", tn_ward)
    market("MX-FAR", hn_ward)  # the far officer's province has a market of its own

    seq = iter(range(1, 100))

    def vendor(in_market: Market, status: str = "active", **extra: Any) -> Vendor:
        n = next(seq)
        return Vendor.objects.create(
            market=in_market,
            full_name=f"Người Bán {n}",
            phone=f"+849120000{n:02d}",
            stall_label=f"MX-{n}",
            bank_id="970436",
            account_number=f"55500000{n:04d}",
            account_name="NGUOI BAN",
            merchant_code=generate_merchant_code(),
            status=status,
            **extra,
        )

    u = cast.users
    u["superuser"] = user("superuser", is_superuser=True, is_staff=True)
    u["officer"], u["far_officer"] = user("officer"), user("far_officer")
    ProvinceOfficer.objects.create(user=u["officer"], province_id="19")
    ProvinceOfficer.objects.create(user=u["far_officer"], province_id="01")
    u["board"], u["other_board"] = user("board"), user("other_board")
    BoardMember.objects.create(user=u["board"], market=home)
    BoardMember.objects.create(user=u["other_board"], market=other)
    u["volunteer"], u["other_volunteer"] = user("volunteer"), user("other_volunteer")
    VolunteerAssignment.objects.create(user=u["volunteer"], market=home)
    VolunteerAssignment.objects.create(user=u["other_volunteer"], market=other)
    spare = user("spare_volunteer")  # the one the people pages may remove
    VolunteerAssignment.objects.create(user=spare, market=home)
    u["no_role"] = user("no_role")

    stall = vendor(home, user=None)
    u["vendor"] = user("vendor")
    stall.user = u["vendor"]
    stall.save(update_fields=["user"])
    other_stall = vendor(other)
    u["other_vendor"] = user("other_vendor")
    other_stall.user = u["other_vendor"]
    other_stall.save(update_fields=["user"])
    pending = vendor(home, status="pending", onboarded_by=u["volunteer"])
    rejected = vendor(home, status="rejected", onboarded_by=u["volunteer"])

    def payment(to: Vendor | None, txn: str) -> Payment:
        return Payment.objects.create(
            vendor=to,
            market=home,
            amount=64_000,
            channel="static_qr",
            source="sepay",
            provider_txn_id=txn,
            provider_reference=f"{txn}-REF",
            status="succeeded",
            attribution="account" if to else "unmatched",
            receiving_account=to.account_number if to else "999900001111",
            occurred_at=now,
            local_date=local_date(now),
        )

    paid = payment(stall, "MX-TXN-1")
    unmatched = payment(None, "MX-TXN-2")
    change = PayoutAccountChange.objects.create(
        vendor=stall,
        old_bank_id="970436",
        old_account_number=stall.account_number,
        old_account_name=stall.account_name,
        new_bank_id="970436",
        new_account_number="555099990000",
        new_account_name="NGUOI BAN",
        requested_by=u["vendor"],
        reason="matrix",
    )
    claim = SharedAccountClaim.objects.create(
        market=home,
        bank_id="970436",
        account_number=other_stall.account_number,
        holder=other_stall,
        method="board",
        expires_at=now + dt.timedelta(days=1),
        requested_by=u["volunteer"],
    )
    sale = PaymentRequest.objects.create(
        vendor=stall,
        market=home,
        reference="MX1234",
        amount=50_000,
        payload="000201",
        expires_at=now + dt.timedelta(hours=1),
        created_by=u["vendor"],
    )
    batch = CardBatch.objects.create(market=home, requested_by=u["board"], status="done", total=1, done=1)
    job = ImportJob.objects.create(uploaded_by=u["board"], market=home, file_name="x.csv", status="done")
    token = secrets.token_urlsafe(24)
    Invitation.objects.create(
        user=spare,
        phone="+84912999999",
        kind="volunteer",
        place=home.name,
        token_hash=token_hash(token),
        code_hash="x",
        expires_at=now + dt.timedelta(days=1),
    )
    cast.home_account = stall.account_number
    cast.ids.update(
        market=str(home.pk),
        province="19",
        ward=home.ward_id,
        vendor=str(stall.pk),
        merchant_code=stall.merchant_code,
        pending_vendor=str(pending.pk),
        rejected_vendor=str(rejected.pk),
        payment=str(paid.pk),
        unmatched_payment=str(unmatched.pk),
        change=str(change.pk),
        claim=str(claim.pk),
        sale=str(sale.pk),
        batch=str(batch.pk),
        job=str(job.pk),
        invitation_token=token,
        spare_user=str(spare.pk),
        volunteer_role="volunteer",
        target_market="market",
        fmt="csv",
    )
    return cast

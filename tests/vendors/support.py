"""What the vendor tests share: a registration payload, phones as a volunteer
types them, the ids a vendor list answers with, and the payout-account change
requests with what the stall's printed QR pays."""

from __future__ import annotations

from typing import Any

from chopay import vietqr
from payments.cards.stall_qr import vendor_static_payload
from payments.models import OutboundSms
from tests.conftest import client_for
from vendors.models import Vendor


def new_vendor(market_obj, **overrides):
    data = {
        "market": market_obj.pk,
        "full_name": "Lê Văn Tám",
        "phone": "0987 654 321",
        "stall_label": "B-03",
        "goods_category": "vegetables",
        "bank_bin": "970422",
        "account_number": "0987654321",
        "account_name": "Lê Văn Tám",
    }
    data.update(overrides)
    return data


def local(e164: str) -> str:
    """``+84912345678`` → ``0912 345 678``, as a volunteer would type it."""
    n = "0" + e164[3:]
    return f"{n[:4]} {n[4:7]} {n[7:]}"


def vendor_ids(r):
    assert r.status_code == 200, r.content
    return {v["id"] for v in r.json()["results"]}


# --- payout-account changes ---------------------------------------------------------

OLD_BANK = "970436"  # the cast vendor's (VendorFactory)
NEW_BANK = "970422"
NEW_ACCOUNT = "0999888777"


def changes_url(vendor: Vendor) -> str:
    return f"/api/v1/vendors/{vendor.pk}/payout-changes/"


def decision_url(change_id: int, vendor: Vendor, action: str) -> str:
    return f"{changes_url(vendor)}{change_id}/{action}/"


def new_account(**overrides: Any) -> dict[str, Any]:
    data = {
        "bank_bin": NEW_BANK,
        "account_number": NEW_ACCOUNT,
        "account_name": "Nguyễn Thị Hoà",
        "reason": "Đổi sang tài khoản MB mới mở",
    }
    data.update(overrides)
    return data


def request_change(user: object, vendor: Vendor, **overrides: Any) -> Any:
    return client_for(user).post(changes_url(vendor), new_account(**overrides), format="json")


def qr_account(vendor: Vendor) -> tuple[str, str]:
    """The bank and account the stall's printed QR pays, read as the QR endpoints read it."""
    qr = vietqr.decode(vendor_static_payload(Vendor.objects.get(pk=vendor.pk)))
    return qr.bank_bin, qr.account_number


def sms_to(phone: str) -> list[str]:
    return list(OutboundSms.objects.filter(to=phone).order_by("id").values_list("body", flat=True))

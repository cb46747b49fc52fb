"""The trader's consent to the processing of their personal data (Decree
13/2023/NĐ-CP on personal data protection), as shown at registration.

The text is Vietnamese whatever language the volunteer's page is in: the
trader is the one who reads and agrees to it. A registration stores the exact
text shown, its version, who collected it and when (``vendors.models.Consent``,
written by ``vendors.services.vendor_create`` in the registration's
transaction). A new wording gets a new version and is added to ``VERSIONS``;
old versions stay, so that a form filled offline with an older text is stored
with the text the trader actually saw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from common.errors import Invalid


@dataclass(frozen=True)
class ConsentGiven:
    """What the trader agreed to: ``text`` exactly as shown, its ``version``,
    how it was collected (a ``Consent.Method`` value) and, when known, when
    (a form sent after a lost connection: when the box was ticked)."""

    text: str
    version: str
    method: str = "form"
    language: str = "vi"
    collected_at: dt.datetime | None = None


VERSION_2026_12 = "nd13-2026-12-v1"

TEXT_2026_12 = (
    "ĐỒNG Ý XỬ LÝ DỮ LIỆU CÁ NHÂN (theo Nghị định 13/2023/NĐ-CP)\n"
    "\n"
    "Tôi đồng ý để Ban quản lý chợ và chương trình Chợ 4.0 của tỉnh thu thập và xử lý các dữ liệu "
    "cá nhân sau của tôi: họ và tên, số điện thoại, số sạp, ngành hàng, tên ngân hàng, số tài khoản "
    "và tên chủ tài khoản, cùng các khoản tiền khách chuyển vào tài khoản này qua mã QR của sạp.\n"
    "\n"
    "Mục đích: in mã QR và thẻ sạp để khách thanh toán không dùng tiền mặt; báo cho tôi khi có tiền "
    "vào; gửi tin nhắn SMS về tài khoản và hướng dẫn; thống kê số tiểu thương dùng thanh toán không "
    "dùng tiền mặt (số liệu tổng hợp, không nêu tên).\n"
    "\n"
    "Ai được xem: Ban quản lý chợ, tình nguyện viên đăng ký cho tôi, cán bộ Sở Công Thương của tỉnh. "
    "Dữ liệu không bán và không chuyển cho người khác, trừ khi pháp luật yêu cầu.\n"
    "\n"
    "Quyền của tôi: được biết, xem, sửa dữ liệu của mình; rút lại sự đồng ý, yêu cầu ngừng xử lý "
    "hoặc xoá dữ liệu bất cứ lúc nào bằng cách báo Ban quản lý chợ (khi đó sạp không còn nhận thanh "
    "toán qua mã QR của chương trình); khiếu nại nếu dữ liệu bị dùng sai mục đích.\n"
    "\n"
    "Tôi đã được đọc hoặc nghe đọc nội dung này và tự nguyện đồng ý."
)

# Every version ever shown, by version string; CURRENT is the one a new form shows.
VERSIONS: dict[str, str] = {VERSION_2026_12: TEXT_2026_12}

CURRENT = ConsentGiven(text=TEXT_2026_12, version=VERSION_2026_12)


def consent_for_version(version: str, *, method: str = "form", collected_at: dt.datetime | None = None) -> ConsentGiven:
    """The consent of a known ``version`` (the one a form showed), or
    ``Invalid`` ``unknown_consent_version``."""
    text = VERSIONS.get(version)
    if text is None:
        raise Invalid(
            "unknown_consent_version",
            _("This consent text is out of date: show the trader the current text and ask again."),
            field="consent",
        )
    return ConsentGiven(text=text, version=version, method=method, collected_at=collected_at)

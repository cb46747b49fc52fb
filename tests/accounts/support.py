"""Helpers the invitation tests share: the SMS a phone received, the link and code in it."""

from __future__ import annotations

import re

from payments.models import OutboundSms

LINK = re.compile(r"https?://\S+/invite/([A-Za-z0-9_-]+)/")
CODE = re.compile(r"nhap ma (\d{6})")


def sms_to(phone: str) -> list[str]:
    """The bodies of the SMS queued for ``phone``, oldest first."""
    return list(OutboundSms.objects.filter(to=phone).order_by("pk").values_list("body", flat=True))


def last_link_and_code(phone: str) -> tuple[str, str]:
    """The token of the link and the code of the latest invitation SMS to ``phone``."""
    body = sms_to(phone)[-1]
    link, code = LINK.search(body), CODE.search(body)
    assert link and code, body
    return link.group(1), code.group(1)

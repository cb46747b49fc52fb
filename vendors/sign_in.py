"""Signing in with one's phone number.

People remember their phone number better than a username, so every sign-in
(the web page, the admin, ``POST /api/v1/auth/token/``) also accepts it, in
any usual spelling (``0912 345 678``, ``+84912345678``). ``accounts.sign_in``
(which may not import this app) asks this function, named by the setting
``SIGN_IN_PHONE_LOOKUP``, whose login the number is, then throttles and
checks the password of that login exactly as if its username had been typed:
one account, one count of failures, whichever way its name is written.

A number is looked up among the stalls (``Vendor.phone``) and the phone numbers
of people invited by SMS (``accounts.UserPhone``: board members, volunteers,
traders). A number that leads to two different logins (the same phone may be
registered for stalls in two markets) identifies nobody: those people sign in
with their username.
"""

from __future__ import annotations

from accounts.models import UserPhone
from vendors.models import Vendor


def username_for_phone(phone: str) -> str | None:
    """The username of the one login whose stall or person is registered under ``phone`` (E.164), else None."""
    usernames = set(Vendor.objects.filter(phone=phone, user__isnull=False).values_list("user__username", flat=True)[:2])
    usernames.update(UserPhone.objects.filter(phone=phone).values_list("user__username", flat=True))
    return usernames.pop() if len(usernames) == 1 else None

"""The sign-in throttle: one for every way of signing in.

The admin's login form, ``POST /api/v1/auth/token/`` and any sign-in page to
come call ``sign_in(request, username=..., password=...)`` instead of
``django.contrib.auth.authenticate``. It counts attempts in fixed windows of
``LOGIN_WINDOW_SECONDS`` (15 minutes):

- per account: the username as typed, case-insensitive, whether or not such
  a user exists (so guessing costs the same for every name, and the answer
  does not tell which names exist); at most ``LOGIN_MAX_FAILURES_PER_ACCOUNT``
  (5) failures, then every attempt is refused until the window ends, even
  with the right password;
- per client address (``common.client_address``, through the trusted proxy
  chain): at most ``LOGIN_MAX_FAILURES_PER_ADDRESS`` (20) failures over all
  names, then the same.

An attempt is counted before the password is checked, so parallel guesses
cannot slip past the limit between a check and a count; a success then takes
its own count back off the address (it was not a failure) and clears the
account's count (the owner proved the password; a reset per success gives a
guesser nothing, as only the owner can succeed). A success never clears the
address's count: one's own account must not buy more guesses at others'.

A name that is a Vietnamese mobile number (``0912 345 678``, ``+84912345678``)
stands for the login of the stall registered under it (``account_name``):
the attempt is counted and checked under that login's username, so writing
one's name another way buys no more guesses. A number that belongs to no
single login is counted under its E.164 form and checked as typed.

The counters live in the default cache, which every process shares (Redis,
else the database; settings ``CACHES``). While Redis cannot be reached they
are kept in the database cache instead (the ``sign_in_fallback`` alias, the
``cho40_cache`` table), so that people can still sign in during a Redis
outage, still throttled: the limits then apply per store, so a guesser gets
at most twice the limit in the window of an outage, never an unlimited
number. If no store can be reached the sign-in is refused
(``SignInUnavailable``, 503 + Retry-After on the API) — failing closed;
nobody is signed out, and tokens and sessions already issued keep working.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import BaseCache, cache, caches
from django.utils.module_loading import import_string

from chopay.identifiers import normalize_vn_mobile
from common.client_address import client_address

logger = logging.getLogger(__name__)

# How long to ask a client to wait when the cache is unreachable (seconds).
UNAVAILABLE_RETRY_AFTER = 30


class TooManyAttempts(Exception):
    """Too many failed sign-ins for this account or address in this window."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many sign-in attempts; retry after {retry_after} s")
        self.retry_after = retry_after


class SignInUnavailable(Exception):
    """The throttle's cache cannot be reached: sign-in is refused, not unthrottled."""

    def __init__(self, retry_after: int = UNAVAILABLE_RETRY_AFTER) -> None:
        super().__init__("the sign-in throttle's cache is unavailable")
        self.retry_after = retry_after


FALLBACK_ALIAS = "sign_in_fallback"  # settings.CACHES: the database cache, beside Redis


@dataclass(frozen=True)
class _Window:
    account_key: str
    address_key: str
    seconds_left: int
    timeout: int
    store: BaseCache  # where this attempt was counted (the fallback during a Redis outage)
    # The window before this one and how much of it still lies within the last
    # LOGIN_WINDOW_SECONDS (1 at its end, 0 a whole window later): attempts
    # there still count in that share, so that a burst across the boundary of
    # two windows meets the same limit as one inside a window.
    previous_account_key: str = ""
    previous_address_key: str = ""
    previous_share: float = 0.0


def _window(*, username: str, address: str, now: float) -> _Window:
    length = max(1, settings.LOGIN_WINDOW_SECONDS)
    index = int(now // length)
    # Hashed: any text a client sends makes a valid cache key of fixed length.
    account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:40]
    place = hashlib.sha256(address.encode()).hexdigest()[:40]
    return _Window(
        account_key=f"sign-in:account:{account}:{index}",
        address_key=f"sign-in:address:{place}:{index}",
        seconds_left=max(1, int((index + 1) * length - now)),
        timeout=2 * length + 60,  # read again as the previous window during the next one
        store=cache,
        previous_account_key=f"sign-in:account:{account}:{index - 1}",
        previous_address_key=f"sign-in:address:{place}:{index - 1}",
        previous_share=1.0 - (now - index * length) / length,
    )


def _count(store: BaseCache, key: str, timeout: int) -> int:
    store.add(key, 0, timeout=timeout)
    try:
        return int(store.incr(key))
    except ValueError:  # expired between add and incr
        store.set(key, 1, timeout=timeout)
        return 1


def _over(window: _Window, key: str, previous_key: str, limit: int) -> bool:
    """Count the attempt under ``key``; whether the attempts of the last
    LOGIN_WINDOW_SECONDS (this window's, and the previous one's in the share
    still inside them) are now more than ``limit``."""
    current = _count(window.store, key, window.timeout)
    if current > limit:
        return True
    previous = int(window.store.get(previous_key) or 0) if window.previous_share > 0 else 0
    return current + previous * window.previous_share > limit


def _begin(window: _Window) -> None:
    """Count the attempt; refuse it if it is one too many."""
    if _over(window, window.address_key, window.previous_address_key, settings.LOGIN_MAX_FAILURES_PER_ADDRESS):
        raise TooManyAttempts(window.seconds_left)
    if _over(window, window.account_key, window.previous_account_key, settings.LOGIN_MAX_FAILURES_PER_ACCOUNT):
        raise TooManyAttempts(window.seconds_left)


def _succeeded(window: _Window) -> None:
    window.store.delete_many([window.account_key, window.previous_account_key])
    with contextlib.suppress(ValueError):  # the window ended meanwhile
        window.store.decr(window.address_key)


def _stores() -> list[BaseCache]:
    """Where attempts may be counted, in order: the default cache, then the fallback."""
    return [cache, caches[FALLBACK_ALIAS]] if FALLBACK_ALIAS in settings.CACHES else [cache]


def account_name(username: str) -> tuple[str, str]:
    """``(counted_as, checked_as)``: the name an attempt is counted under and
    the username whose password it checks."""
    phone = normalize_vn_mobile(username)
    if phone is None:
        return username, username
    owner = import_string(settings.SIGN_IN_PHONE_LOOKUP)(phone)
    return (owner, owner) if owner else (phone, username)


def attempt_begin(request: Any, *, counted_as: str) -> _Window:
    """Count one attempt of anything guarded like a password (a sign-in; an
    invitation code, ``accounts.invitations``) under the name ``counted_as``
    and the client's address. Raises ``TooManyAttempts`` when either is over
    its limit and ``SignInUnavailable`` when the counters cannot be reached."""
    address = client_address(request.META) or "unknown"
    first = _window(username=counted_as, address=address, now=time.time())
    error: Exception | None = None
    for store in _stores():
        window = replace(first, store=store)
        try:
            _begin(window)
        except TooManyAttempts:
            logger.warning("sign-in refused by the throttle: address %s", address)
            raise
        except Exception as exc:  # Redis (or the cache table) unreachable: the next store
            logger.warning("sign-in throttle: a store is unavailable: %s: %s", exc.__class__.__name__, exc)
            error = exc
            continue
        return window
    logger.error("sign-in refused, no store of its throttle is available: %s", error)
    raise SignInUnavailable() from error


def attempt_succeeded(window: _Window) -> None:
    """The attempt counted by ``attempt_begin`` succeeded: clear the name's count."""
    try:
        _succeeded(window)
    except Exception as exc:  # the user is signed in all the same; the counts simply stay
        logger.error("sign-in throttle: could not record a success: %s: %s", exc.__class__.__name__, exc)


def sign_in(request: Any, *, username: str, password: str) -> Any | None:
    """``authenticate()`` behind the throttle: the user, or None for a wrong
    username or password (or an inactive user). Raises ``TooManyAttempts``
    when this account or address is over its limit (the password is then not
    checked at all) and ``SignInUnavailable`` when the counters cannot be reached."""
    counted_as, checked_as = account_name(username)
    window = attempt_begin(request, counted_as=counted_as)
    user = authenticate(request, username=checked_as, password=password)
    if user is not None:
        attempt_succeeded(window)
    return user

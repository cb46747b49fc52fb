"""Who holds which role over which market: every role rule, in one module.

The roles (``market.models``):
- superuser: everything;
- province officer (``ProvinceOfficer``): every market in their province(s);
- market board member (``BoardMember``): their market(s);
- volunteer (``VolunteerAssignment``): onboards traders in the markets they
  are assigned to, prints their stall cards, and does not see money;
- vendor (``Vendor.user``): their own stall.

Derived rules:
- *manages* a market: officer of its province or board member (superusers all
  markets); they change its data and oversee its money;
- *onboards* in a market: manages it, or volunteers in it;
- *sees* a market: onboards in it, or trades in it;
- *sees money*: superusers, managers and vendors; volunteers do not;
- *checks* (maker-checker, ``checker_refusal``): whoever decides a trader's
  registration or a change of their payout account manages the market and
  neither submitted the record nor is the trader;
- *oversees* a province: its officers (superusers every province): they see
  its statistics, its wards' and markets', and set its target; a market's
  statistics are seen by those who manage it (``stats.scopes``);
- *invites* (accounts by invitation, ``market.invitations``, ``vendors.accounts``):
  board members of a market by the officers of its province (superusers any);
  volunteers of a market by whoever manages it; a trader's login by whoever
  onboards in the trader's market. Whoever may invite a role in a market may
  also take it away (and so deactivate a person left without any role);
- the admin opens to active staff who hold at least one role;
- the web pages greet a user as their highest role (``main_role``: superuser,
  officer, board, volunteer, vendor) and ``/`` sends them to its page.

This module holds the predicates (``Q`` builders and yes/no answers for one
user and one market); the querysets built on them (``markets_managed_by``,
``markets_onboardable_by``, ``market_scope_q`` …) stay in
``market.selectors``, ``vendors.selectors`` and
``payments.ledger.selectors``, which every API, admin and service uses for
lists. A resource outside one's scope is reported as not found.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from market.models import Market, Province

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


def is_anonymous(user: AnyUser) -> bool:
    return not getattr(user, "is_authenticated", False)


def is_superuser(user: AnyUser) -> bool:
    return bool(getattr(user, "is_superuser", False))


def _uid(user: AnyUser) -> int:
    return user.pk or 0


# --- role membership as filters on markets (``prefix`` reaches the market: "market__") ---


def officer_q(user: AnyUser, *, prefix: str = "") -> Q:
    """Markets in a province ``user`` is an officer of."""
    return Q(**{f"{prefix}province__officers__user_id": _uid(user)})


def board_q(user: AnyUser, *, prefix: str = "") -> Q:
    """Markets ``user`` is a board member of."""
    return Q(**{f"{prefix}board_members__user_id": _uid(user)})


def volunteer_q(user: AnyUser, *, prefix: str = "") -> Q:
    """Markets ``user`` is assigned to as a volunteer."""
    return Q(**{f"{prefix}volunteer_assignments__user_id": _uid(user)})


def vendor_q(user: AnyUser, *, prefix: str = "") -> Q:
    """The market of ``user``'s own stall."""
    return Q(**{f"{prefix}vendors__user_id": _uid(user)})


def manages_q(user: AnyUser, *, prefix: str = "") -> Q:
    """Markets ``user`` manages (not counting superuser rights)."""
    return officer_q(user, prefix=prefix) | board_q(user, prefix=prefix)


def onboards_q(user: AnyUser, *, prefix: str = "") -> Q:
    """Markets where ``user`` registers vendors (not counting superuser rights)."""
    return manages_q(user, prefix=prefix) | volunteer_q(user, prefix=prefix)


# --- yes/no for one user ------------------------------------------------------------------


def manages_market(user: AnyUser, market_id: int) -> bool:
    """Whether ``user`` may change the market's data and act on its money."""
    if is_anonymous(user):
        return False
    markets = Market.objects.filter(pk=market_id)
    return markets.exists() if is_superuser(user) else markets.filter(manages_q(user)).exists()


def manages_any_market(user: AnyUser) -> bool:
    """Whether ``user`` manages at least one market (superusers always)."""
    if is_anonymous(user):
        return False
    return is_superuser(user) or Market.objects.filter(manages_q(user)).exists()


def onboards_in_market(user: AnyUser, market_id: int) -> bool:
    """Whether ``user`` may register vendors in the market (and print its cards)."""
    if is_anonymous(user):
        return False
    markets = Market.objects.filter(pk=market_id)
    return markets.exists() if is_superuser(user) else markets.filter(onboards_q(user)).exists()


def volunteers_anywhere(user: AnyUser) -> bool:
    """Whether ``user`` is assigned to at least one market as a volunteer."""
    if is_anonymous(user):
        return False
    return Market.objects.filter(volunteer_q(user)).exists()


def oversees_province(user: AnyUser, province_code: str) -> bool:
    """Whether ``user`` follows every market of the province (its officers;
    superusers every province): its statistics and its target."""
    if is_anonymous(user):
        return False
    provinces = Province.objects.filter(pk=province_code)
    if is_superuser(user):
        return provinces.exists()
    return provinces.filter(officers__user_id=_uid(user)).exists()


def invites_board_members(user: AnyUser, market: Market) -> bool:
    """Whether ``user`` may invite (and remove) board members of ``market``:
    the officers of its province, superusers."""
    return oversees_province(user, market.province_id)


def invites_volunteers(user: AnyUser, market: Market) -> bool:
    """Whether ``user`` may invite (and remove) volunteers of ``market``: its
    board, the officers of its province, superusers."""
    return manages_market(user, market.pk)


def invites_vendor_accounts(user: AnyUser, market_id: int) -> bool:
    """Whether ``user`` may send a trader of the market their login: whoever onboards there."""
    return onboards_in_market(user, market_id)


def holds_any_role(user: Any) -> bool:
    """Whether ``user`` still has something to sign in for: superuser, officer,
    board member, volunteer or trader (staff or not)."""
    return bool(
        user.is_superuser
        or user.province_roles.exists()
        or user.board_roles.exists()
        or user.volunteer_roles.exists()
        or hasattr(user, "vendor")
    )


def is_vendor_user(user: AnyUser, vendor: Any) -> bool:
    """Whether ``user`` is the trader of the stall ``vendor``."""
    return vendor.user_id is not None and vendor.user_id == user.pk


# --- maker-checker: who decides what lets a trader be paid -------------------------------

# Why ``checker_refusal`` refuses; None when the user may decide.
NOT_MANAGER = "not_manager"
OWN_SUBMISSION = "own_submission"
OWN_STALL = "own_stall"


def checker_refusal(user: AnyUser, *, market_id: int, maker_ids: Iterable[int | None], vendor: Any) -> str | None:
    """Maker-checker, the one rule for every decision that lets a trader be
    paid or changes where their money goes: approving (or rejecting) a
    registration at review (``vendors.reviews``) and deciding a payout-account
    change (``vendors.payout_changes``).

    The checker manages the vendor's market (its board, the province's
    officer, a superuser), is none of the makers (``maker_ids``: whoever
    submitted the registration or requested the change) and is not the
    trader of the stall. Returns None when ``user`` may decide, else why not:
    ``NOT_MANAGER``, ``OWN_SUBMISSION`` or ``OWN_STALL``."""
    if not manages_market(user, market_id):
        return NOT_MANAGER
    if user.pk is not None and user.pk in {maker for maker in maker_ids if maker is not None}:
        return OWN_SUBMISSION
    if is_vendor_user(user, vendor):
        return OWN_STALL
    return None


def has_any_role(user: Any) -> bool:
    """The admin's gate: an active staff account holding at least one role."""
    if not user.is_active or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    return bool(
        user.province_roles.exists()
        or user.board_roles.exists()
        or user.volunteer_roles.exists()
        or hasattr(user, "vendor")
    )


def sees_money(user: Any) -> bool:
    """Staff whose role shows them payments in the admin: superusers, board
    members, officers and vendors. Volunteers onboard traders but do not see money."""
    if not has_any_role(user):
        return False
    return bool(user.is_superuser or manages_any_market(user) or hasattr(user, "vendor"))


# --- the role a page greets a user as ----------------------------------------------------

# One label per role, highest first: a user holding several roles is shown (and sent
# home) as the highest one.
ROLE_LABELS = {
    "superuser": _("Administrator"),
    "officer": _("Province officer"),
    "board": _("Market board"),
    "volunteer": _("Volunteer"),
    "vendor": _("Trader"),
}


def main_role(user: AnyUser) -> str | None:
    """The highest role ``user`` holds (a key of ``ROLE_LABELS``), None without any."""
    if is_anonymous(user):
        return None
    if is_superuser(user):
        return "superuser"
    if user.province_roles.exists():  # type: ignore[union-attr]
        return "officer"
    if user.board_roles.exists():  # type: ignore[union-attr]
        return "board"
    if user.volunteer_roles.exists():  # type: ignore[union-attr]
        return "volunteer"
    if hasattr(user, "vendor"):
        return "vendor"
    return None

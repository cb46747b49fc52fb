"""Board members and volunteers get their login by invitation (no admin, no superuser).

- :func:`invite_board_member`: the officers of the market's province (superusers);
- :func:`invite_volunteer`: the market's board, the province's officers (superusers);
- :func:`board_member_remove`, :func:`volunteer_remove`: the same people take
  the role away; a person left without any role is deactivated (sessions and
  API token ended, ``accounts.services.user_deactivate``).

Inviting creates the person's login (inactive, no password) and their role
row at once, or gives the role to the login already on record for that phone
number; then the SMS with a one-time link and a code goes out
(``accounts.invitations``). A second invitation of the same person replaces
the first. The rules are the predicates of ``market.roles``; an actor who
cannot see the market at all gets ``NotFound``, one who sees it without the
right ``Forbidden``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.invitations import clean_full_name, clean_phone, invitation_send, person_for_phone
from accounts.models import AccountEvent, Invitation
from accounts.services import user_deactivate
from common.errors import Forbidden, NotFound
from market import roles
from market.models import BoardMember, Market, VolunteerAssignment

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _refuse(actor: User, market: Market) -> None:
    if roles.onboards_in_market(actor, market.pk):
        raise Forbidden("not_allowed", _("You may not invite or remove people in this role for this market."))
    raise NotFound("market_not_found", _("No such market."))


def invite_board_member(*, actor: User, market: Market, full_name: str, phone: str, title: str = "") -> Invitation:
    """Make the person with ``phone`` a board member of ``market`` and send them an invitation."""
    if not roles.invites_board_members(actor, market):
        _refuse(actor, market)
    name, number = clean_full_name(full_name), clean_phone(phone)
    with transaction.atomic():
        user, _created = person_for_phone(full_name=name, phone=number)
        BoardMember.objects.get_or_create(user=user, market=market, defaults={"title": title[:64]})
        return invitation_send(actor=actor, user=user, phone=number, kind=Invitation.Kind.BOARD, place=market.name)


def invite_volunteer(*, actor: User, market: Market, full_name: str, phone: str) -> Invitation:
    """Assign the person with ``phone`` to ``market`` as a volunteer and send them an invitation."""
    if not roles.invites_volunteers(actor, market):
        _refuse(actor, market)
    name, number = clean_full_name(full_name), clean_phone(phone)
    with transaction.atomic():
        user, _created = person_for_phone(full_name=name, phone=number)
        VolunteerAssignment.objects.get_or_create(user=user, market=market)
        return invitation_send(actor=actor, user=user, phone=number, kind=Invitation.Kind.VOLUNTEER, place=market.name)


def _remove(*, actor: User, market: Market, user: Any, rows: Any, label: str) -> bool:
    with transaction.atomic():
        deleted, _detail = rows.filter(user_id=user.pk, market=market).delete()
        if not deleted:
            raise NotFound("person_not_found", _("This person holds no such role in this market."))
        detail = f"{label} @ {market.name}"
        AccountEvent.objects.create(user=user, actor=actor, kind=AccountEvent.Kind.ROLE_REMOVED, detail=detail)
        user.refresh_from_db()
        if roles.holds_any_role(user):
            return False
        user_deactivate(actor=actor, user=user, detail=detail)
        return True


def board_member_remove(*, actor: User, market: Market, user: Any) -> bool:
    """Take ``user`` off the board of ``market``; True when that left them without
    any role and so deactivated them (sessions and token ended)."""
    if not roles.invites_board_members(actor, market):
        _refuse(actor, market)
    return _remove(actor=actor, market=market, user=user, rows=BoardMember.objects, label="board")


def volunteer_remove(*, actor: User, market: Market, user: Any) -> bool:
    """End ``user``'s volunteering in ``market``; True when that deactivated them."""
    if not roles.invites_volunteers(actor, market):
        _refuse(actor, market)
    return _remove(actor=actor, market=market, user=user, rows=VolunteerAssignment.objects, label="volunteer")

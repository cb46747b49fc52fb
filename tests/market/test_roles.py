"""The role predicates the statistics ask (market/roles.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from market import roles

pytestmark = pytest.mark.django_db


def test_a_province_is_overseen_by_its_officers_and_superusers(cast) -> None:
    assert roles.oversees_province(cast.officer, "19")
    assert not roles.oversees_province(cast.officer, "01")
    assert roles.oversees_province(cast.far_officer, "01")
    assert roles.oversees_province(cast.admin, "01")
    assert not roles.oversees_province(cast.admin, "99")  # no such province
    for who in (cast.board, cast.volunteer, cast.vendor_user, cast.outsider, AnonymousUser()):
        assert not roles.oversees_province(who, "19")


def test_volunteers_anywhere_only_for_assigned_volunteers(cast) -> None:
    assert roles.volunteers_anywhere(cast.volunteer)
    for who in (cast.board, cast.officer, cast.vendor_user, cast.outsider, AnonymousUser()):
        assert not roles.volunteers_anywhere(who)

"""The market admin, in Vietnamese, scoped like the API."""

from __future__ import annotations

import pytest
from django.test import Client

from market.models import Market

pytestmark = pytest.mark.django_db


def staff_client(user) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def test_it_shows_the_login_page_in_vietnamese():
    r = Client().get("/admin/login/")

    assert r.status_code == 200
    page = r.content.decode()
    assert "Đăng nhập" in page
    assert "Quản trị Chợ 4.0" in page


def test_it_shows_the_index_in_vietnamese(cast):
    page = staff_client(cast.board).get("/admin/").content.decode()

    assert "Chợ không dùng tiền mặt" in page  # index title
    assert "Chợ" in page
    assert "Tiểu thương" in page or "tiểu thương" in page


VISIBLE = {
    "admin": {"market", "other_market", "far_market"},
    "officer": {"market", "other_market"},
    "far_officer": {"far_market"},
    "board": {"market"},
    "other_board": {"other_market"},
    "volunteer": {"market"},
    "vendor_user": {"market"},
}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_it_lists_only_the_markets_in_scope(cast, role):
    r = staff_client(getattr(cast, role)).get("/admin/market/market/")

    assert r.status_code == 200
    page = r.content.decode()
    for name in ("market", "other_market", "far_market"):
        assert (getattr(cast, name).code in page) == (name in VISIBLE[role]), name


def test_it_hides_another_market_from_a_board_member(cast):
    client = staff_client(cast.board)

    r = client.get(f"/admin/market/market/{cast.other_market.pk}/change/")

    assert r.status_code in (302, 403, 404)


def test_it_lets_a_board_member_edit_their_market(cast):
    client = staff_client(cast.board)
    url = f"/admin/market/market/{cast.market.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(
        {
            "stall_count": 345,
            "board_members-TOTAL_FORMS": 1,
            "board_members-INITIAL_FORMS": 1,
            "board_members-0-id": cast.market.board_members.get().pk,
            "board_members-0-market": cast.market.pk,
            "board_members-0-user": cast.board.pk,
            "volunteer_assignments-TOTAL_FORMS": 1,
            "volunteer_assignments-INITIAL_FORMS": 1,
            "volunteer_assignments-0-id": cast.market.volunteer_assignments.get().pk,
            "volunteer_assignments-0-market": cast.market.pk,
            "volunteer_assignments-0-user": cast.volunteer.pk,
        }
    )
    data.pop("legacy_province", None)
    data.pop("cashless_since", None)

    r = client.post(url, data)

    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r.content[:500]
    cast.market.refresh_from_db()
    assert cast.market.stall_count == 345


def test_it_does_not_let_a_volunteer_edit_a_market(cast):
    client = staff_client(cast.volunteer)

    r = client.post(f"/admin/market/market/{cast.market.pk}/change/", {"stall_count": 1, "name": "X"})

    assert r.status_code == 403  # may look, not change
    cast.market.refresh_from_db()
    assert cast.market.stall_count == 100


def test_it_shows_reference_data_read_only(cast):
    client = staff_client(cast.officer)

    listing = client.get("/admin/market/ward/", {"q": "Chợ Đồn"})
    add = client.get("/admin/market/ward/add/")

    assert listing.status_code == 200
    assert "Xã Chợ Đồn" in listing.content.decode()
    assert add.status_code == 403


def test_it_lets_only_a_superuser_add_a_market(cast):
    assert staff_client(cast.officer).get("/admin/market/market/add/").status_code == 403
    assert staff_client(cast.admin).get("/admin/market/market/add/").status_code == 200
    assert Market.objects.count() == 3

"""Market races on PostgreSQL (threads released together by a barrier, in a
transactional test): two officers creating a market with one code at the same
moment make one market, the other is told the code is taken. Several rounds,
so the requests overlap differently each time."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from market.models import Market
from tests.conftest import client_for, needs_postgres
from tests.factories import make_officer

pytestmark = pytest.mark.django_db(transaction=True)

CHO_DON = "02020"  # Xã Chợ Đồn, Thái Nguyên (19), formerly Bắc Kạn


def test_it_creates_one_market_when_two_officers_race_for_a_code(cast):
    needs_postgres()
    officers = [cast.officer, make_officer("19", "officer2")]
    for round_ in range(5):
        code = f"TN-RACE-{round_}"
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def create(index, code=code, barrier=barrier, results=results):
            try:
                client = client_for(officers[index])
                barrier.wait()
                results[index] = client.post(
                    "/api/v1/markets/", {"name": f"Chợ {index}", "code": code, "ward": CHO_DON}, format="json"
                )
            finally:
                connection.close()

        threads = [threading.Thread(target=create, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        assert sorted(r.status_code for r in results) == [201, 400], [r.content for r in results]
        refused = next(r for r in results if r.status_code == 400)
        assert refused.json()["error"]["code"] == "duplicate_market_code"
        assert Market.objects.filter(code=code).count() == 1

"""Fixtures shared by the payments tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import needs_postgres


@pytest.fixture
def lane_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A client for the webhook lane named by the test's ``lane`` parameter:
    ``view`` (Django's test client), ``wsgi`` (``WebhookLane``) or ``intake``
    (``WebhookIntake``, which writes from its own thread: PostgreSQL only)."""
    from django.test import Client

    from tests.payments.bank_credits.intake_support import IntakeClient
    from tests.payments.bank_credits.test_wsgi_lane import LaneClient

    lane = request.node.callspec.params["lane"]
    if lane == "intake":
        needs_postgres()
    client = {"view": Client, "wsgi": LaneClient, "intake": IntakeClient}[lane]()
    yield client
    if isinstance(client, IntakeClient):
        client.close()  # the writer thread's database connection

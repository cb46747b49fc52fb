"""What the tests of the trader's tools (sale QR, code check, my stall) share:
a signed-in test client per member of the cast."""

from __future__ import annotations

from typing import Any

from django.test import Client


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client

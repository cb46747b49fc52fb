"""The client address through the trusted proxy chain (config/client_address.py)."""

from __future__ import annotations

import ipaddress

import pytest

from common.client_address import client_address_from


@pytest.fixture
def proxies(settings):
    # nginx on the compose network, a TLS terminator on the province's LAN.
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("172.18.0.0/16"), ipaddress.ip_network("10.1.2.3/32")]


@pytest.mark.usefixtures("proxies")
@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "client"),
    [
        # A client straight to the app: its header is its own invention.
        ("198.51.100.7", "1.2.3.4", "198.51.100.7"),
        ("198.51.100.7", None, "198.51.100.7"),
        # Through nginx only.
        ("172.18.0.5", "198.51.100.7", "198.51.100.7"),
        # Through the terminator and nginx; what the client sent stays on the left.
        ("172.18.0.5", "198.51.100.7, 10.1.2.3", "198.51.100.7"),
        ("172.18.0.5", "6.6.6.6, 198.51.100.7, 10.1.2.3", "198.51.100.7"),
        # Two headers joined by the server, spaces and ports as some proxies write them.
        ("172.18.0.5", "6.6.6.6,198.51.100.7:4711,10.1.2.3", "198.51.100.7"),
        ("172.18.0.5", "[2001:db8::7]:443, 10.1.2.3", "2001:db8::7"),
        # Only proxies in the chain: the leftmost is as far as we can see.
        ("172.18.0.5", "10.1.2.3", "10.1.2.3"),
        # Garbage where an address should be: stop at the last proxy that wrote it.
        ("172.18.0.5", "198.51.100.7, not-an-ip", "172.18.0.5"),
        # A proxy with no header: the proxy itself.
        ("172.18.0.5", None, "172.18.0.5"),
        # IPv4 seen as IPv6 by a dual-stack socket.
        ("::ffff:172.18.0.5", "198.51.100.7", "198.51.100.7"),
        (None, "198.51.100.7", None),
    ],
)
def test_it_finds_the_client_behind_the_trusted_proxies(remote_addr, forwarded_for, client):
    assert client_address_from(remote_addr, forwarded_for) == client


def test_it_trusts_no_header_when_no_proxy_is_configured(settings):
    settings.TRUSTED_PROXIES = []

    assert client_address_from("172.18.0.5", "198.51.100.7") == "172.18.0.5"


def test_a_change_of_the_trusted_proxies_changes_the_answer(settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("172.18.0.0/16")]
    assert client_address_from("172.18.0.5", "198.51.100.7") == "198.51.100.7"

    settings.TRUSTED_PROXIES = []  # the same request, asked again: no longer a trusted proxy
    assert client_address_from("172.18.0.5", "198.51.100.7") == "172.18.0.5"


@pytest.mark.usefixtures("proxies")
def test_random_headers_do_not_grow_what_it_remembers():
    from common import client_address

    for n in range(5_000):
        assert client_address_from("172.18.0.5", f"198.51.{n // 256}.{n % 256}") == f"198.51.{n // 256}.{n % 256}"
    assert len(client_address._answers) <= client_address._ANSWERS_KEPT


def test_it_refuses_a_bad_trusted_proxies_setting(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import _trusted_proxies

    monkeypatch.setenv("TRUSTED_PROXIES", "172.18.0.0/16, 10.1.2.3")
    assert [str(n) for n in _trusted_proxies()] == ["172.18.0.0/16", "10.1.2.3/32"]
    monkeypatch.setenv("TRUSTED_PROXIES", "172.18.0.0/16,nginx")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        _trusted_proxies()


# --- the webhook lanes record the same address -------------------------------------------------


@pytest.mark.django_db
def test_the_webhook_lanes_record_the_client_behind_the_proxy(cast, settings):
    from django.test import Client

    from payments.models import WebhookDelivery
    from tests.payments.bank_credits.test_wsgi_lane import LaneClient
    from tests.payments.bank_credits.webhooks_support import SEPAY_API_KEY, SEPAY_URL, encode, sepay_body

    settings.SEPAY_API_KEY = SEPAY_API_KEY
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("203.0.113.9/32")]  # the peer of both test clients

    def post(client, txn_id: int, forwarded_for: str):
        body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=txn_id))
        headers = {"Authorization": f"Apikey {SEPAY_API_KEY}", "X-Forwarded-For": forwarded_for}
        return client.post(SEPAY_URL, data=body, content_type="application/json", headers=headers)

    lane = post(LaneClient(), 4_400_001, "6.6.6.6, 198.51.100.20")
    view = post(Client(REMOTE_ADDR="203.0.113.9"), 4_400_002, "6.6.6.6, 198.51.100.21")

    assert (lane.status_code, view.status_code) == (200, 200)
    assert sorted(WebhookDelivery.objects.values_list("remote_addr", flat=True)) == [
        "198.51.100.20",
        "198.51.100.21",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_batching_intake_records_the_client_behind_the_proxy(cast, settings):
    from payments.models import WebhookDelivery
    from tests.conftest import needs_postgres
    from tests.payments.bank_credits.intake_support import IntakeClient
    from tests.payments.bank_credits.webhooks_support import SEPAY_API_KEY, SEPAY_URL, encode, sepay_body

    needs_postgres()
    settings.SEPAY_API_KEY = SEPAY_API_KEY
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("203.0.113.9/32")]  # the intake client's peer
    intake = IntakeClient()
    try:
        body = encode(sepay_body(content=f"CHO40 {cast.vendor.merchant_code}", txn_id=4_400_003))
        headers = {"Authorization": f"Apikey {SEPAY_API_KEY}", "X-Forwarded-For": "6.6.6.6, 198.51.100.22"}
        answer = intake.post(SEPAY_URL, body, headers=headers)
    finally:
        intake.close()

    assert answer.status_code == 200
    assert [str(a) for a in WebhookDelivery.objects.values_list("remote_addr", flat=True)] == ["198.51.100.22"]

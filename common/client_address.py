"""The client's address, read through the configured chain of proxies.

Every place that needs to know who is calling (the sign-in throttle, the
webhook delivery rows, code-entry attempts) asks ``client_address`` and
nothing else reads ``REMOTE_ADDR`` or ``X-Forwarded-For`` by hand.

``X-Forwarded-For`` is a list anyone can start: each proxy appends the
address that connected to it, so only the entries written by proxies we
trust can be believed. The rule (as nginx's ``real_ip_recursive`` and
uvicorn's ``--forwarded-allow-ips`` read it):

- if the TCP peer (``REMOTE_ADDR``) is not in ``settings.TRUSTED_PROXIES``,
  it is the client, and ``X-Forwarded-For`` is ignored (a client cannot
  choose its own address by sending the header);
- otherwise walk ``X-Forwarded-For`` from the right, skipping addresses of
  trusted proxies; the first one that is not trusted is the client. If every
  entry is a trusted proxy, the leftmost is the client; an entry that is not
  an address stops the walk at the last proxy that wrote it.

A TLS terminator in front of nginx is one more trusted proxy: list its
address (or its network) too, or every client shares the terminator's address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.9:50000"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


# Answers already worked out, by (peer, X-Forwarded-For): a province's
# webhooks come from a handful of addresses through the same proxies, and
# parsing addresses costs the intake more than anything else it does per
# request before the batch. Bounded (emptied when full: random headers cannot
# grow it), and forgotten when TRUSTED_PROXIES changes (tests; a server never does).
_answers: dict[tuple[str | None, str | None], str | None] = {}
_ANSWERS_KEPT = 1024


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    if setting == "TRUSTED_PROXIES":
        _answers.clear()


def client_address_from(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    """The client's address given the TCP peer and the ``X-Forwarded-For`` header."""
    key = (remote_addr, forwarded_for)
    try:
        return _answers[key]
    except KeyError:
        pass
    address = _worked_out(remote_addr, forwarded_for)
    if len(_answers) >= _ANSWERS_KEPT:
        _answers.clear()
    _answers[key] = address
    return address


def _worked_out(remote_addr: str | None, forwarded_for: str | None) -> str | None:
    peer = _parse(remote_addr or "")
    if peer is None:
        return None
    proxies: list[Network] = settings.TRUSTED_PROXIES
    if not _trusted(peer, proxies) or not forwarded_for:
        return str(peer)
    client = peer
    for entry in reversed(forwarded_for.split(",")):
        hop = _parse(entry)
        if hop is None:
            break
        client = hop
        if not _trusted(hop, proxies):
            break
    return str(client)


def client_address(meta: Mapping[str, Any]) -> str | None:
    """The client's address for a request's ``META`` (Django's WSGI/ASGI
    request, or the webhook lanes' own environ/headers in the same shape)."""
    return client_address_from(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"))

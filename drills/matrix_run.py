"""Playing the role matrix (``drills.matrix``): every URL of the resolver
checked against its entry, every cell sent as its role, each answer
classified, and the mismatches collected in one readable list. The same code
runs in the pytest test (Django's test client) and in the drill (HTTP to a
real gunicorn); only ``send`` differs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from drills.matrix import ENTRIES, Entry
from drills.matrix_cast import OUTSIDERS, ROLES, Cast


@dataclass
class Answer:
    status: int
    location: str = ""  # the Location header
    code: str = ""  # the JSON error's code
    text: str = ""  # the body (its first 200 kB), searched for the home market's secrets


# (role, method, path, JSON body or None) → the answer
Send = Callable[[str, str, str, "dict[str, Any] | None"], Answer]
PASSED_GATE = {400, 409, 410, 422}  # the input refused after the role was let in


def url_patterns() -> Iterator[tuple[str, str, Any]]:
    """(name, route, pattern) of every URL of config.urls but the admin site's."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> Iterator[tuple[str, str, Any]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.app_name == "admin":
                    continue  # the admin's own gate (market.roles.has_any_role), tested in tests/*/test_*_admin.py
                yield from walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or f"<unnamed {prefix}{p.pattern}>")
                yield name, prefix + str(p.pattern), p

    yield from walk(get_resolver().url_patterns, "", None)


def coverage_problems() -> list[str]:
    """URLs without an entry, entries without a URL, entries that miss a URL
    parameter, and API views serving a method their entry does not list."""
    problems = []
    seen = set()
    for name, route, pattern in url_patterns():
        seen.add(name)
        entry = ENTRIES.get(name)
        if entry is None:
            problems.append(f"/{route} ({name}) has no entry in drills/matrix.py: say who may do what there")
            continue
        params = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
        if params != set(entry.kwargs):
            problems.append(f"{name}: URL parameters {sorted(params)}, matrix kwargs {sorted(entry.kwargs)}")
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is not None:  # a DRF view: the methods it serves are known
            served = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)} - {"OPTIONS", "HEAD"}
            if served - set(entry.methods):
                problems.append(f"{name}: serves {sorted(served - set(entry.methods))} with no row in the matrix")
    problems += [f"{name}: in drills/matrix.py but no such URL" for name in ENTRIES if name not in seen]
    return problems


def path_of(route: str, entry: Entry, cast: Cast) -> str:
    path = "/" + route
    for param, obj in entry.kwargs.items():
        path = re.sub(rf"<(?:\w+:)?{param}>", cast.ids[obj], path)
    return path + (f"?{entry.query}" if entry.query else "")


def _body(template: dict[str, Any] | None, cast: Cast) -> dict[str, Any] | None:
    if template is None:
        return None
    out: dict[str, Any] = {}
    for key, value in template.items():
        if isinstance(value, str) and value.startswith("@"):
            value = cast.ids[value[1:]]
            value = int(value) if value.isdigit() and not value.startswith("0") and key != "merchant_code" else value
        out[key] = value
    return out


def error_code(content: bytes) -> str:
    """The code of an API error answer (``{"error": {"code", "message"}}``), else ""."""
    try:
        data = json.loads(content)
    except ValueError:
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def classify(status: int, location: str, code: str = "") -> str:
    """An answer's outcome. A market named in a body and outside one's scope
    is refused like one that does not exist (400 ``does_not_exist``, the same
    message): hidden, so counted as 404."""
    if status == 400 and code == "does_not_exist":
        return "404"
    if status == 401 or (status in (301, 302, 303) and "/login/" in location):
        return "login"
    if status in (403, 404):
        return str(status)
    if status < 400 or status in PASSED_GATE:
        return "ok"
    return str(status)


@dataclass
class Played:
    requests: int = 0
    mismatches: list[str] = field(default_factory=list)
    errors_5xx: list[str] = field(default_factory=list)
    cells: int = 0


def play(cast: Cast, send: Send, *, roles: tuple[str, ...] = ROLES) -> Played:
    """Send every cell of the matrix; the mismatches say what was expected and what came."""
    played = Played()
    markers = cast.secrets()
    routes = {name: route for name, route, _ in url_patterns()}
    for name, entry in ENTRIES.items():
        if name not in routes:
            continue
        path = path_of(routes[name], entry, cast)
        for method, expected in entry.methods.items():
            body = _body(entry.bodies.get(method), cast)
            for role in roles:
                answer = send(role, method, path, body)
                status, location, code = answer.status, answer.location, answer.code
                played.requests += 1
                played.cells += 1
                got = classify(status, location, code)
                if status >= 500:
                    played.errors_5xx.append(f"{status} {method} {path} as {role}")
                if got == "ok" and method == "GET" and role in OUTSIDERS:
                    leaked = [m for m in markers if m in answer.text]
                    if leaked:
                        played.mismatches.append(f"GET {path} ({name}) as {role}: shows the home stall's {leaked}")
                if got != expected[role]:
                    where = (f" → {location}" if location else "") + (f" ({code})" if code else "")
                    played.mismatches.append(
                        f"{method} {path} ({name}) as {role}: expected {expected[role]}, got {status}{where}"
                    )
    return played

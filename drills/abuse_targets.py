"""What the abuse drill sweeps: every URL of the URL configuration with the
HTTP methods its view answers, the write operations of the OpenAPI schema
with their text fields, and the web pages that hold a form.

Imported with Django set up (the drill's own process or a pytest run).
Path parameters are filled with placeholders (``1``, ``x``, a UUID) unless
the caller passes real values by parameter name.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")

# Django path converters → a placeholder value of the right shape.
_PLACEHOLDER = {"int": "1", "str": "x", "slug": "x", "uuid": str(uuid.UUID(int=1)), "path": "x"}
_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass
class Route:
    pattern: str  # "/api/v1/vendors/<int:pk>/"
    name: str  # "vendors:vendor-detail" or "" when unnamed
    methods: tuple[str, ...]  # write methods the view answers ("POST", …); all four when unknown
    params: dict[str, str] = field(default_factory=dict)  # parameter name → converter

    def path(self, values: dict[str, Any] | None = None) -> str:
        values = values or {}

        def fill(match: re.Match[str]) -> str:
            name, conv = match["name"], match["conv"] or "str"
            return str(values.get(name, _PLACEHOLDER.get(conv, "1")))

        return _PARAM.sub(fill, self.pattern)


def _regex_to_path(regex: str) -> str:
    text = regex.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\.", ".")
    text = _REGEX_PARAM.sub(lambda m: f"<str:{m['name']}>", text)
    return re.sub(r"\(\?P<format>[^)]*\)", "", text).replace("/?", "/")


def _view_methods(callback: Any) -> tuple[str, ...]:
    actions = getattr(callback, "actions", None)  # a DRF viewset's route
    if actions:
        return tuple(m.upper() for m in actions if m.upper() in WRITE_METHODS)
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        return tuple(m for m in WRITE_METHODS if hasattr(cls, m.lower()))
    return WRITE_METHODS  # a function view: it may answer any method


def routes() -> list[Route]:
    """Every URL of the URL configuration (admin included), depth first."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: list[Route] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for entry in patterns:
            text = str(entry.pattern)
            if getattr(entry.pattern, "regex", None) is not None and text.startswith("^"):
                text = _regex_to_path(text)
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + text, ns)
            elif isinstance(entry, URLPattern):
                pattern = "/" + prefix + text
                if "<format>" in pattern or "(?P" in pattern:
                    continue
                params = {m["name"]: m["conv"] or "str" for m in _PARAM.finditer(pattern)}
                name = f"{namespace}{entry.name}" if entry.name else ""
                found.append(Route(pattern, name, _view_methods(entry.callback), params))

    walk(get_resolver().url_patterns, "", "")
    unique: dict[str, Route] = {}
    for route in found:
        unique.setdefault(route.pattern, route)
    return list(unique.values())


def write_routes() -> list[Route]:
    return [r for r in routes() if r.methods]


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI template: /api/v1/vendors/{id}/
    text_fields: list[str]  # dotted names of the string properties of the JSON body
    body: dict[str, Any]  # a body of the right shape: every property with a plain value

    def url(self, values: dict[str, Any]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m[1], 1)), self.path)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = schema["components"]["schemas"][name]
    if "allOf" in node:
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            merged.update(_resolve(schema, part))
        return merged
    if "oneOf" in node:
        return _resolve(schema, node["oneOf"][0])
    return node


def _sample(schema: dict[str, Any], node: dict[str, Any], prefix: str, texts: list[str], depth: int = 0) -> Any:
    node = _resolve(schema, node)
    kind = node.get("type")
    if "enum" in node:
        return next((v for v in node["enum"] if v not in (None, "")), None)
    if kind == "object" or "properties" in node:
        out = {}
        for name, sub in node.get("properties", {}).items():
            sub_node = _resolve(schema, sub)
            if sub_node.get("readOnly"):
                continue
            out[name] = _sample(schema, sub_node, f"{prefix}{name}", texts, depth + 1)
        return out
    if kind == "array":
        if depth > 3:
            return []
        return [_sample(schema, node.get("items", {}), f"{prefix}.0.", texts, depth + 1)]
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "string":
        fmt = node.get("format")
        if fmt == "uuid":
            return str(uuid.uuid4())
        if fmt == "date":
            return "2025-03-01"
        if fmt == "date-time":
            return "2025-03-01T08:00:00+07:00"
        if fmt in ("binary", "uri", "byte"):
            return "x"
        texts.append(prefix.rstrip("."))
        return "x"
    return "x"


def operations(schema: dict[str, Any]) -> Iterator[Operation]:
    """The write operations of an OpenAPI 3 document that take a JSON body."""
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method.upper() not in WRITE_METHODS:
                continue
            content = (op.get("requestBody") or {}).get("content", {})
            node = content.get("application/json", {}).get("schema")
            texts: list[str] = []
            body = _sample(schema, node, "", texts) if node else {}
            yield Operation(method.upper(), path, texts, body if isinstance(body, dict) else {})


def with_hints(value: Any, hints: dict[str, Any]) -> Any:
    """``value`` (a sample body) with every property named in ``hints`` set to its
    hint, at any depth: a real bank, ward or phone gets a body past the checks
    that come before the text fields'."""
    if isinstance(value, dict):
        return {k: hints[k] if k in hints else with_hints(v, hints) for k, v in value.items()}
    if isinstance(value, list):
        return [with_hints(v, hints) for v in value]
    return value


def set_field(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``body`` with the field at ``dotted`` ("a.0.b") set to ``value``."""
    import copy

    out = copy.deepcopy(body)
    node: Any = out
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
    return out


def main() -> None:
    """``python -m drills.abuse_targets``: the routes as JSON, for a drill's own process."""
    import json
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    print(json.dumps([[r.pattern, r.name, list(r.methods)] for r in routes()]))


if __name__ == "__main__":
    main()

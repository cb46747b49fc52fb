"""What the abuse sweeps enumerate (drills/abuse_targets.py): the URL
configuration's routes with their write methods, and the OpenAPI schema's
write operations with a body of the right shape and its text fields."""

from __future__ import annotations

from drills.abuse_targets import Route, operations, routes, set_field

SCHEMA = {
    "paths": {
        "/api/v1/things/{id}/": {
            "get": {},
            "patch": {
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}
            },
        },
        "/api/v1/things/{id}/archive/": {"post": {}},
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "readOnly": True},
                    "name": {"type": "string"},
                    "kind": {"enum": ["", "rau", "cá"]},
                    "day": {"type": "string", "format": "date"},
                    "lines": {"type": "array", "items": {"type": "object", "properties": {"note": {"type": "string"}}}},
                },
            }
        }
    },
}


def test_it_lists_every_route_with_the_write_methods_its_view_answers() -> None:
    found = {r.pattern: r for r in routes()}

    assert found["/api/v1/auth/token/"].methods == ("POST",)
    assert found["/api/v1/provinces/"].methods == ()  # read-only
    assert "PATCH" in found["/api/v1/markets/<int:pk>/"].methods
    assert found["/login/"].methods == ("POST", "PUT")  # a Django form view answers PUT like POST
    assert any(p.startswith("/admin/vendors/vendor/") for p in found)


def test_it_fills_path_parameters_with_given_values_or_placeholders() -> None:
    route = Route("/onboard/markets/<int:market_id>/review/<int:vendor_id>/approve/", "", ("POST",))

    assert route.path({"market_id": 7}) == "/onboard/markets/7/review/1/approve/"


def test_it_makes_a_body_of_the_schemas_shape_and_names_its_text_fields() -> None:
    ops = list(operations(SCHEMA))

    assert [(op.method, op.path) for op in ops] == [
        ("PATCH", "/api/v1/things/{id}/"),
        ("POST", "/api/v1/things/{id}/archive/"),
    ]
    patch = ops[0]
    assert patch.body == {"name": "x", "kind": "rau", "day": "2025-03-01", "lines": [{"note": "x"}]}
    assert patch.text_fields == ["name", "lines.0.note"]
    assert patch.url({"id": 5}) == "/api/v1/things/5/"
    assert set_field(patch.body, "lines.0.note", "\u202e")["lines"] == [{"note": "\u202e"}]
    assert patch.body["lines"] == [{"note": "x"}]  # the original is untouched

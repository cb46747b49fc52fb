"""The API's JSON parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

DRF's, refusing a body with NUL, a lone surrogate (JSON can spell both,
``"\\u0000"``, ``"\\ud800"``) or a bidirectional override, embedding or
isolate (U+202A–U+202E, U+2066–U+2069) anywhere, in a key or a value: 400
``{"error": {"code": "invalid_characters", …}}``. A bidi control in a note or a
name turns what the trader, the board or the customer reads around
("Trả 50.000" shown with its digits reversed); no Vietnamese text needs one. Text fields check their own
text, but not every field is text: a related object's key (a ward code, a
bank) went to the database as is, and PostgreSQL's "text fields cannot
contain NUL" became a 500 (found by the abuse drill's odd-text sweep,
tests/drills/test_odd_text_sweep.py). The bank webhooks read their raw
bodies and keep such text (docs/security.md, rule 3).

Its own module: ``common.api`` imports DRF's views, which read this setting.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

# NUL: PostgreSQL cannot store it; a lone surrogate has no UTF-8 form; bidi controls reorder text.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def unstorable(value: Any) -> bool:
    """Whether any string in ``value`` (nested dicts and lists, keys too) holds a character above."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(unstorable(k) or unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable(v) for v in value)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if unstorable(data):
            raise exceptions.ParseError(
                _("The request holds a character no text may contain (NUL, a lone surrogate or a bidi control)."),
                code="invalid_characters",
            )
        return data

"""Services raise domain errors; the one exception handler gives each its status and body."""

from __future__ import annotations

import pytest

from common.api import exception_handler
from common.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooManyAttempts


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Invalid("note_too_long", "Too long.", field="note"), 400),
        (Forbidden("not_board", "Only the board."), 403),
        (NotFound("vendor_not_found", "Unknown vendor 7.", field="vendor"), 404),
        (Conflict("already_assigned", "Already attributed."), 409),
        (TooManyAttempts("too_many_codes", "Too many codes."), 429),
    ],
)
def test_it_answers_each_domain_error_with_its_status_code_and_field(error: DomainError, status: int):
    response = exception_handler(error, {})

    assert response is not None
    assert response.status_code == status
    expected = {"code": error.code, "message": error.message}
    if error.field:
        expected["field"] = error.field
    assert response.data == {"error": expected}
    assert "Retry-After" not in response


def test_it_tells_how_long_to_wait_when_the_wait_is_known():
    response = exception_handler(TooManyAttempts("too_many_attempts", "Wait.", retry_after=899), {})

    assert response is not None
    assert response.status_code == 429
    assert response["Retry-After"] == "899"

"""Domain errors: what services, model methods and selectors raise.

The convention, one for every app:

- a service refuses with a subclass of :class:`DomainError`, chosen by
  meaning (``NotFound``, ``Forbidden``, ``Conflict``, ``Invalid``,
  ``TooManyAttempts``), with a stable machine-readable
  ``code``, a translated ``message`` and, when one input is at fault, its
  ``field``;
- field validation of a model or form may still raise Django's
  ``ValidationError`` (the API answers 400 with ``fields``), and an actor
  outside their rights Django's ``PermissionDenied`` (403);
- nothing below the API modules imports ``rest_framework`` or knows HTTP:
  the one exception handler (``common.api.exception_handler``) maps each
  class to its status and the body ``{"error": {"code", "message", "field"?}}``;
  the admin shows ``message`` next to the input.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A refusal with a stable ``code`` and a message for people."""

    status: ClassVar[int] = 400

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def headers(self) -> dict[str, str]:
        return {}

    def __str__(self) -> str:
        return self.message


class Invalid(DomainError):
    """The input is wrong (400)."""

    status = 400


class Forbidden(DomainError):
    """The actor may not do this (403)."""

    status = 403


class NotFound(DomainError):
    """What was named does not exist, or not within the actor's scope (404)."""

    status = 404


class Conflict(DomainError):
    """The thing is not in a state that allows this (409)."""

    status = 409


class TooManyAttempts(DomainError):
    """Refused for a while (429); ``retry_after`` seconds, when known, become ``Retry-After``."""

    status = 429

    def __init__(self, code: str, message: str, *, field: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(code, message, field=field)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        # As DRF does for its own throttles: no header for an unknown or zero wait.
        return {"Retry-After": str(int(self.retry_after))} if self.retry_after else {}

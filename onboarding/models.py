"""The onboarding app's models live in their feature packages; Django finds them here."""

from onboarding.imports.models import ImportJob

__all__ = ["ImportJob"]

"""Errors of the segments package: each problem names where it is in the criteria tree."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a criteria tree. `path` locates it, e.g. `children.1.params.tags`
    (the second child of the root group, its `tags` parameter); empty for the whole tree."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class CriteriaError(ValidationError):
    """The criteria tree is invalid: every problem found, each with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__([str(p) for p in problems], code="invalid_criteria")


class ForbiddenCriterionError(CriteriaError):
    """A criterion French law forbids (place of birth, nationality, sound of names)."""


class ParamError(ValueError):
    """Raised by a parameter's `clean()`; the validator adds the path."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

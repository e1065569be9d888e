"""Coded domain errors: every refusal the domain makes has a stable code and a locale key."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal by a domain rule; `code` doubles as the locale key under `errors.`."""

    code = "error"

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        self.code = code or self.code
        self.params = params
        super().__init__(f"{self.code} {params}" if params else self.code)


class NotFound(DomainError):
    """The thing asked for does not exist."""

    code = "not_found"


class Forbidden(DomainError):
    """The actor may not do this."""

    code = "forbidden"


class Conflict(DomainError):
    """The state changed under the actor (stale button, someone else was faster)."""

    code = "conflict"


class Invalid(DomainError):
    """The input is malformed."""

    code = "invalid"

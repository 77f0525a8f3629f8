"""What a route answers: a status and a JSON body, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """A refusal with its status, code and (when it is about one) field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.http_status, self.code, self.field = status, code, field

    def body(self) -> dict[str, Any]:
        """The JSON answer."""
        return {"error": {"code": self.code, "field": self.field, "message": str(self)}}


@dataclass(frozen=True)
class Answer:
    """A status and a JSON body."""

    http_status: int
    body: dict[str, Any]

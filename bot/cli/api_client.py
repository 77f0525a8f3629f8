"""The `sis-maint window` commands' side of the HTTP API: one call, its answer, and the exit
code a script can rely on (docs/api.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

EXIT_OK = 0
EXIT_FAILED = 1  # an answer the command did not expect
EXIT_USAGE = 2  # the command line, or a field the bot found unusable (400, 422)
EXIT_REFUSED = 3  # the bot refused: no such window, the window has moved on (404, 409, 502)
EXIT_AUTH = 4  # no token, an unknown one, or one without the role (401, 403)
EXIT_UNREACHABLE = 5  # the bot did not answer, or not as its API does

_EXIT_OF = {400: EXIT_USAGE, 422: EXIT_USAGE, 401: EXIT_AUTH, 403: EXIT_AUTH}
_EXIT_OF |= {404: EXIT_REFUSED, 409: EXIT_REFUSED, 502: EXIT_REFUSED}


class CommandFailed(Exception):
    """The call did not succeed; ``code`` is the exit code, ``body`` the JSON to print."""

    def __init__(self, code: int, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.body = body or {"error": {"code": "client", "field": None, "message": message}}


@dataclass
class ApiClient:
    """Calls one bot's /api/v1 with one token."""

    url: str
    token: str
    timeout: float = 30.0

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET and return the JSON answer."""
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any], key: str | None = None) -> Any:
        """POST a JSON body (with an Idempotency-Key when ``key``) and return the answer."""
        headers = {"Idempotency-Key": key} if key else {}
        return self._call("POST", path, json=body, headers=headers)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        target = self.url.rstrip("/") + "/api/v1" + path
        try:
            response = httpx.request(
                method, target, headers=headers, timeout=self.timeout, **kwargs
            )
        except httpx.HTTPError as exc:
            raise CommandFailed(
                EXIT_UNREACHABLE, f"the bot at {self.url} did not answer ({type(exc).__name__})"
            ) from None
        try:
            body = response.json()
        except ValueError:
            raise CommandFailed(
                EXIT_UNREACHABLE,
                f"{self.url} answered {response.status_code} without JSON; is "
                "SIS_MAINT_API_URL the bot's address?",
            ) from None
        if response.is_success:
            return body
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            raise CommandFailed(
                EXIT_UNREACHABLE, f"{self.url} answered {response.status_code}, not as sis-maint"
            )
        message = str(error.get("message", ""))
        if error.get("field"):
            message = f"{message} (field {error['field']})"
        raise CommandFailed(_EXIT_OF.get(response.status_code, EXIT_FAILED), message, body)

"""A caller of the bot's /api/v1 that checks every answer against the OpenAPI document the
bot serves: the status is one the document lists for the route, the body fits its schema."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from bot.api.tokens import hash_token
from bot.config import parse_settings
from tests.harness import Bot, running_bot, settings_document

# One token per role mix; their hashes go in the variables the configuration names.
TOKENS = {
    "reader": ("reader-token-0123456789abcdef", ["read"]),
    "snow": ("snow-token-0123456789abcdef", ["read", "request"]),
    "cab": ("cab-token-0123456789abcdef", ["read", "approve-for-tickets"]),
    "other": ("other-token-0123456789abcdef", ["read", "request"]),
}


def token(name: str) -> str:
    """The secret of a test token."""
    return TOKENS[name][0]


class Api:
    """Calls /api/v1 on a running bot, checking each answer against the served document."""

    def __init__(self, bot: Bot, document: dict[str, Any]) -> None:
        self.bot = bot
        self.base = bot.url.removesuffix("/slack/events") + "/api/v1"
        self.document = document
        assert document["openapi"].startswith("3.1")
        for schema in document["components"]["schemas"].values():
            Draft202012Validator.check_schema(schema)

    def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = "snow",
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Any = None,
    ) -> httpx.Response:
        """One call, its answer checked against the document."""
        sent = dict(headers or {})
        if as_ is not None:
            sent.setdefault("Authorization", f"Bearer {token(as_)}")
        response = self.bot.http.request(
            method,
            self.base + path,
            json=json,
            content=content,
            headers=sent,
            params=params,
        )
        self.check(method, path, response)
        return response

    def check(self, method: str, path: str, response: httpx.Response) -> None:
        """The answer's status is listed for the route and its body fits the schema."""
        route = self.route(path)
        if route is None:  # no route of the document: 404, as an error
            assert response.status_code == 404, (method, path, response.text)
            self.validate({"$ref": "#/components/schemas/Error"}, response.json())
            return
        operations = self.document["paths"][route]
        listed = operations.get(method.lower())
        status = str(response.status_code)
        if listed is None:  # a method the route does not take: 405, as any route's errors
            assert status == "405", (method, path, status, response.text)
            listed = next(iter(operations.values()))
        assert status in listed["responses"], (method, route, status, response.text)
        assert response.headers["content-type"] == "application/json"
        schema = listed["responses"][status]["content"]["application/json"]["schema"]
        self.validate(schema, response.json())

    def validate(self, schema: dict[str, Any], body: Any) -> None:
        """``body`` fits ``schema``, whose references point into the document."""
        Draft202012Validator({**self.document, **schema}).validate(body)

    def route(self, path: str) -> str | None:
        """The document's path template for ``path``."""
        bare = path.split("?", maxsplit=1)[0]
        for template in self.document["paths"]:
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, bare):
                return template
        return None


def api_settings_document(base_url: str) -> dict[str, Any]:
    """The tests' configuration with the API's tokens."""
    tokens = [
        {"name": name, "hash_env": f"TEST_API_{name.upper()}_HASH", "roles": roles}
        for name, (_secret, roles) in TOKENS.items()
    ]
    return settings_document(base_url, api={"tokens": tokens})


@contextmanager
def api_bot(database_url: str, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Iterator[Api]:
    """The bot running with the tokens configured, and a caller of its API."""
    for name, (secret, _roles) in TOKENS.items():
        monkeypatch.setenv(f"TEST_API_{name.upper()}_HASH", hash_token(secret))
    factory = kwargs.pop("settings_factory", lambda url: parse_settings(api_settings_document(url)))
    with running_bot(database_url, settings_factory=factory, **kwargs) as bot:
        document = bot.http.get(bot.url.removesuffix("/slack/events") + "/api/v1/openapi.json")
        assert document.status_code == 200
        yield Api(bot, document.json())

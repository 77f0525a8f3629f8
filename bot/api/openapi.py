"""The OpenAPI 3.1 document served at /api/v1/openapi.json; the tests check every answer the
API gives them against it (tests/bot/api/)."""

from __future__ import annotations

from typing import Any

from bot.api.bodies import MAX_TICKET
from bot.domain.grammar import LIST_KINDS, MAX_REASON
from bot.domain.states import RowStatus, WindowState

_NULLABLE_STRING = {"type": ["string", "null"]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    said = {
        400: "The body is not a JSON object, or a header is malformed.",
        401: "No token, or one this bot does not know.",
        403: "The token lacks the role, or may not manage this window.",
        404: "No such window.",
        405: "The route does not take this method.",
        409: "The window has moved on, or a request with the same Idempotency-Key is still "
        "at work.",
        413: "The body is over 64 KiB.",
        422: "A field cannot be used; `field` names it.",
        502: "Slack refused the approval card; the request was withdrawn.",
    }
    return {str(status): _json("Error", said[status]) for status in statuses}


_WINDOW_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The window's number (12 for MW-12).",
    "schema": {"type": "integer", "minimum": 1},
}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A key of the caller's choosing: a repeat of the request with the same key "
    "(within 24 hours) changes nothing and gets the first request's answer again, with the "
    "header `Idempotent-Replayed: true`; the same key with a different request is answered "
    "422 `idempotency_key_reused`.",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,200}$"},
}
_COMMON = (400, 401, 403, 405, 413)


def _change(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_WINDOW_ID, _IDEMPOTENCY],
        "responses": {
            "200": _json("Window", "The window as it is now."),
            **_errors(*_COMMON, 404, 409, 422),
        },
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": body}}
    return operation


def _schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "field", "message"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {
                            "enum": [
                                "bad_request",
                                "unauthorized",
                                "forbidden",
                                "not_found",
                                "method_not_allowed",
                                "conflict",
                                "in_progress",
                                "idempotency_key_reused",
                                "too_large",
                                "invalid",
                                "card_not_posted",
                            ]
                        },
                        "field": _NULLABLE_STRING,
                        "message": {"type": "string", "minLength": 1},
                    },
                }
            },
        },
        "Window": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "id",
                "number",
                "state",
                "environments",
                "reason",
                "ticket",
                "requested_by",
                "requested_at",
                "starts_at",
                "ends_at",
                "duration_seconds",
                "time_zone",
                "decided_by",
                "decided_at",
                "ended_by",
                "ended_at",
                "failure_reason",
                "card_posted",
            ],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "number": {"type": "string", "pattern": "^MW-[0-9]+$"},
                "state": {"enum": [s.value for s in WindowState]},
                "environments": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["name", "status"],
                        "properties": {
                            "name": {"type": "string"},
                            "status": {"enum": [s.value for s in RowStatus]},
                        },
                    },
                },
                "reason": {"type": "string"},
                "ticket": _NULLABLE_STRING,
                "requested_by": {
                    "type": "string",
                    "description": "A Slack member id, or api:<token name> for an API caller.",
                },
                "requested_at": {"type": "string", "format": "date-time"},
                "starts_at": _NULLABLE_TIME,
                "ends_at": _NULLABLE_TIME,
                "duration_seconds": {"type": "integer", "minimum": 1},
                "time_zone": {"type": "string"},
                "decided_by": _NULLABLE_STRING,
                "decided_at": _NULLABLE_TIME,
                "ended_by": _NULLABLE_STRING,
                "ended_at": _NULLABLE_TIME,
                "failure_reason": _NULLABLE_STRING,
                "card_posted": {"type": "boolean"},
            },
        },
        "WindowList": {
            "type": "object",
            "additionalProperties": False,
            "required": ["windows"],
            "properties": {"windows": {"type": "array", "items": _ref("Window")}},
        },
        "Environments": {
            "type": "object",
            "additionalProperties": False,
            "required": ["environments", "groups"],
            "properties": {
                "environments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": [
                            "name",
                            "label",
                            "aliases",
                            "time_zone",
                            "max_duration_seconds",
                        ],
                        "properties": {
                            "name": {"type": "string"},
                            "label": {"type": "string"},
                            "aliases": {"type": "array", "items": {"type": "string"}},
                            "time_zone": {"type": "string"},
                            "max_duration_seconds": {"type": "integer", "minimum": 1},
                        },
                    },
                },
                "groups": {
                    "type": "object",
                    "description": "Group name -> the environments it stands for; a window "
                    "may name a group as it names an environment.",
                    "additionalProperties": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string"},
                    },
                },
            },
        },
        "CreateWindow": {
            "type": "object",
            "additionalProperties": False,
            "required": ["environments"],
            "description": "From approval for `duration` (no `start`), or at a set time: "
            "`start` with `end` or `duration`.",
            "properties": {
                "environments": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 20,
                    "items": {"type": "string"},
                    "description": "Names, aliases or groups, as GET /environments lists them.",
                },
                "duration": {"type": "string", "examples": ["2h", "45m", "1h30m", "1d"]},
                "start": {"type": "string", "format": "date-time"},
                "end": {"type": "string", "format": "date-time"},
                "reason": {"type": "string", "maxLength": MAX_REASON},
                "ticket": {"type": "string", "minLength": 1, "maxLength": MAX_TICKET},
                "approval": {
                    "enum": ["slack", "ticket"],
                    "default": "slack",
                    "description": "`slack`: an approver approves on the card. `ticket`: "
                    "approved by the change ticket (needs the role approve-for-tickets).",
                },
            },
        },
        "Extend": {
            "type": "object",
            "additionalProperties": False,
            "required": ["by"],
            "properties": {"by": {"type": "string", "examples": ["1h", "30m"]}},
        },
    }


def document() -> dict[str, Any]:
    """The whole document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sis-maint",
            "version": "1",
            "description": "Maintenance windows for scripts. Every route but this document "
            "needs `Authorization: Bearer <token>`; docs/api.md says how tokens are set up.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "security": [{"bearer": []}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(405),
                    },
                }
            },
            "/environments": {
                "get": {
                    "summary": "The environments windows may name (role read).",
                    "responses": {
                        "200": _json("Environments", "Every environment."),
                        **_errors(*_COMMON),
                    },
                }
            },
            "/windows": {
                "get": {
                    "summary": "Windows active, upcoming or recently closed (role read).",
                    "parameters": [
                        {
                            "name": "state",
                            "in": "query",
                            "description": "Repeat for several; default active and upcoming.",
                            "schema": {"enum": list(LIST_KINDS)},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "description": "At most this many of each state.",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                    ],
                    "responses": {
                        "200": _json("WindowList", "The windows, by state."),
                        **_errors(*_COMMON, 422),
                    },
                },
                "post": {
                    "summary": "Request a window (role request), or create one approved by a "
                    "change ticket (role approve-for-tickets); its card is posted in Slack.",
                    "parameters": [_IDEMPOTENCY],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("CreateWindow")}},
                    },
                    "responses": {
                        "201": _json("Window", "Recorded, and its card posted."),
                        **_errors(*_COMMON, 409, 422, 502),
                    },
                },
            },
            "/windows/{id}": {
                "get": {
                    "summary": "One window (role read).",
                    "parameters": [_WINDOW_ID],
                    "responses": {
                        "200": _json("Window", "The window."),
                        **_errors(*_COMMON, 404),
                    },
                }
            },
            "/windows/{id}/extend": {
                "post": _change(
                    "Move the end later (role request; the token's own windows).",
                    {"schema": _ref("Extend")},
                )
            },
            "/windows/{id}/end": {
                "post": _change("End a window now (role request; the token's own windows).")
            },
            "/windows/{id}/cancel": {
                "post": _change(
                    "Withdraw a window that has not started (role request; its own windows)."
                )
            },
        },
    }

"""The HAR 1.2 format, as far as learning needs it, read leniently (standard library only).

Browsers add fields of their own (``_initiator``, ``_priority``, ``timings``, ``pages``,
...) and leave some out; only what learning uses is read, and a missing optional part gets
its empty value. A part that is required and missing, or of the wrong type, is a
``HarError`` naming where it is (``log.entries.3.request.method``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class HarError(ValueError):
    """The file is not a HAR recording this code can read; the message says why."""


@dataclass(frozen=True)
class NameValue:
    """A header, cookie, query parameter or form field."""

    name: str
    value: str


@dataclass(frozen=True)
class Request:
    """What the page sent."""

    method: str
    url: str
    headers: tuple[NameValue, ...]
    cookies: tuple[NameValue, ...]
    query: tuple[NameValue, ...]
    body: str | None  # postData.text
    form: tuple[NameValue, ...]  # postData.params


@dataclass(frozen=True)
class Response:
    """What came back."""

    status: int
    headers: tuple[NameValue, ...]
    cookies: tuple[NameValue, ...]
    text: str | None  # content.text: None when the recording did not keep it
    encoding: str | None


@dataclass(frozen=True)
class Entry:
    """One request and its answer."""

    started: str
    request: Request
    response: Response


@dataclass(frozen=True)
class Har:
    """A whole recording."""

    creator: str
    entries: tuple[Entry, ...]


def read_document(doc: Any, name: str) -> Har:
    """Read a parsed HAR document; HarError naming the first part that is wrong."""
    try:
        log = _object(_field(doc, "log", ""), "log")
        creator = _object(log.get("creator") or {}, "log.creator")
        entries = _field(log, "entries", "log")
        if not isinstance(entries, list):
            raise HarError("log.entries: must be a list")
        return Har(
            creator=f"{_text(creator, 'name')} {_text(creator, 'version')}".strip(),
            entries=tuple(_entry(e, f"log.entries.{i}") for i, e in enumerate(entries)),
        )
    except HarError as exc:
        raise HarError(f"{name} is not a HAR file: {exc}") from None


def _entry(raw: Any, where: str) -> Entry:
    entry = _object(raw, where)
    req = _object(_field(entry, "request", where), f"{where}.request")
    res = _object(_field(entry, "response", where), f"{where}.response")
    post = _object(req.get("postData") or {}, f"{where}.request.postData")
    content = _object(res.get("content") or {}, f"{where}.response.content")
    status = _field(res, "status", f"{where}.response")
    if isinstance(status, bool) or not isinstance(status, int):
        raise HarError(f"{where}.response.status: must be a number")
    return Entry(
        started=_text(entry, "startedDateTime"),
        request=Request(
            method=_required_text(req, "method", f"{where}.request"),
            url=_required_text(req, "url", f"{where}.request"),
            headers=_pairs(req, "headers", f"{where}.request"),
            cookies=_pairs(req, "cookies", f"{where}.request"),
            query=_pairs(req, "queryString", f"{where}.request"),
            body=_optional_text(post, "text", f"{where}.request.postData"),
            form=_pairs(post, "params", f"{where}.request.postData"),
        ),
        response=Response(
            status=status,
            headers=_pairs(res, "headers", f"{where}.response"),
            cookies=_pairs(res, "cookies", f"{where}.response"),
            text=_optional_text(content, "text", f"{where}.response.content"),
            encoding=_optional_text(content, "encoding", f"{where}.response.content"),
        ),
    )


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HarError(f"{where or 'the document'}: must be an object")
    return value


def _field(obj: Any, key: str, where: str) -> Any:
    obj = _object(obj, where)
    if key not in obj:
        raise HarError(f"{where + '.' if where else ''}{key}: missing")
    return obj[key]


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _required_text(obj: dict[str, Any], key: str, where: str) -> str:
    value = _field(obj, key, where)
    if not isinstance(value, str) or not value:
        raise HarError(f"{where}.{key}: must be a non-empty string")
    return value


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise HarError(f"{where}.{key}: must be a string")
    return value


def _pairs(obj: dict[str, Any], key: str, where: str) -> tuple[NameValue, ...]:
    items = obj.get(key) or []
    if not isinstance(items, list):
        raise HarError(f"{where}.{key}: must be a list")
    out = []
    for i, item in enumerate(items):
        pair = _object(item, f"{where}.{key}.{i}")
        name = pair.get("name")
        if not isinstance(name, str):
            raise HarError(f"{where}.{key}.{i}.name: must be a string")
        value = pair.get("value")
        out.append(NameValue(name, value if isinstance(value, str) else ""))
    return tuple(out)

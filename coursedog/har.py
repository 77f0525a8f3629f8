"""Reading a browser's recording of a page (HAR 1.2) with every secret dropped on the way in.

Chrome, Edge and Firefox save what a page sent and received as a HAR file. Such a file also
holds the session: cookies, the bearer token, the login with its password. None of that is
needed to learn how the page writes, so it is dropped here, before any other code sees an
entry: every header and cookie, query parameters and body fields named like secrets, login
bodies and answers, the user part of URLs; and any other string that carries a value one of
those held is cut out where it appears. What is left is a list of ``Exchange`` values.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from coursedog.har_format import Entry, HarError, NameValue, Response, read_document
from coursedog.wire import DEFAULT_WIRE, PASSWORD_FIELDS

# Names of headers, query parameters and body fields whose values are treated as secrets.
SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?$|passw|pwd|token|secret|cookie|session|api[-_]?key|credential"
    r"|csrf|xsrf|signature|jwt|bearer|authori[sz]ation|^auth$|^otp$|^code$|^key$",
    re.IGNORECASE,
)
# A JSON web token anywhere in a string, whatever it is called.
JWT = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
# Values this short are not looked for inside other strings (they would cut out ordinary words).
MIN_SECRET = 6
CUT = "[secret dropped]"
LOGIN_PATH = DEFAULT_WIRE.login_path


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, with nothing secret left in them.

    ``body`` and ``answer`` are the parsed JSON (None when there was none, it was not JSON,
    or it was dropped); ``body_kind`` / ``answer_kind`` say which: "json", "none", "other",
    "dropped" (a login), "missing" (the recording did not keep the answer's content).
    """

    number: int  # the entry's place in the file, from 1
    at: str
    method: str
    host: str
    path: str
    query: tuple[tuple[str, str], ...]
    status: int
    body: Any = None
    body_kind: str = "none"
    answer: Any = None
    answer_kind: str = "none"

    @property
    def ok(self) -> bool:
        """Whether the answer was a success (2xx)."""
        return 200 <= self.status < 300

    def describe(self) -> str:
        """E.g. "PUT /api/v1/x/general/integrationSchedule (entry 14, answered 200)"."""
        return f"{self.method} {self.path} (entry {self.number}, answered {self.status})"


@dataclass
class Dropped:
    """What was dropped as secret, counted for the report."""

    cookies: int = 0
    authorization: int = 0
    other_headers: int = 0
    query: int = 0
    body_fields: int = 0
    logins: int = 0
    cut: int = 0

    def describe(self) -> str:
        """One line for people: what was dropped."""
        counts = [
            (self.cookies, "cookie or cookie header", "cookies and cookie headers"),
            (self.authorization, "Authorization header", "Authorization headers"),
            (self.other_headers, "other secret header", "other secret headers"),
            (self.query, "secret query parameter", "secret query parameters"),
            (self.logins, "login", "logins"),
            (self.body_fields, "secret field in bodies", "secret fields in bodies"),
            (self.cut, "secret cut out of other text", "secrets cut out of other text"),
        ]
        shown = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
        return ", ".join(shown) if shown else "nothing (the recording held no secrets)"


@dataclass(frozen=True)
class Recording:
    """A HAR file's exchanges, secrets dropped."""

    name: str
    creator: str
    exchanges: tuple[Exchange, ...]
    dropped: Dropped = field(compare=False)


def read_har(path: Path, *, login_paths: tuple[str, ...] = (LOGIN_PATH,)) -> Recording:
    """Read a HAR file; HarError when it cannot be read as one. A request to one of
    ``login_paths`` (or sending a password) is a login: dropped whole."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise HarError(f"{path} cannot be read: {exc.strerror}") from None
    return parse_har(data, path.name, login_paths=login_paths)


def parse_har(
    data: bytes | str, name: str, *, login_paths: tuple[str, ...] = (LOGIN_PATH,)
) -> Recording:
    """Parse HAR 1.2 text; HarError when it is not one."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HarError(f"{name} is not a HAR file: it is not JSON ({exc})") from None
    har = read_document(doc, name)
    dropped = Dropped()
    secrets = _Secrets()
    for entry in har.entries:
        secrets.collect(entry, dropped, login_paths)
    exchanges = tuple(
        _exchange(n, entry, secrets, dropped, login_paths)
        for n, entry in enumerate(har.entries, start=1)
    )
    return Recording(name, har.creator, exchanges, dropped)


class _Secrets:
    """Every secret value the recording holds, to cut out wherever else it appears."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, value: str | None) -> None:
        value = (value or "").strip()
        if len(value) >= MIN_SECRET:
            self.values.add(value)
            scheme, _, rest = value.partition(" ")  # "Bearer abc": abc alone too
            if rest and scheme.isalpha():
                self.add(rest)

    def collect(self, entry: Entry, dropped: Dropped, login_paths: tuple[str, ...]) -> None:
        """Note the entry's secrets and count the headers and cookies that go."""
        for message in (entry.request, entry.response):
            for cookie in message.cookies:
                dropped.cookies += 1
                self.add(cookie.value)
            for header in message.headers:
                self._header(header, dropped)
        for param in entry.request.query:
            if SECRET_NAME.search(param.name):
                self.add(param.value)
        body = _json_or_none(entry.request.body)
        answer = _json_or_none(_content_text(entry.response))
        if _is_login(urlsplit(entry.request.url).path, body, login_paths):
            for value in (*_strings(body), *_strings(answer)):
                self.add(value)
        for value in (*_named_secrets(body), *_named_secrets(answer)):
            self.add(value)
        for param in entry.request.form:
            self.add(param.value)  # a form body is never kept

    def _header(self, header: NameValue, dropped: Dropped) -> None:
        lower = header.name.lower()
        if lower in ("cookie", "set-cookie"):
            dropped.cookies += 1
            for part in (header.value or "").split(";"):
                self.add(part.partition("=")[2])
        elif lower in ("authorization", "proxy-authorization"):
            dropped.authorization += 1
            self.add(header.value)
        elif SECRET_NAME.search(lower):
            dropped.other_headers += 1
            self.add(header.value)

    def cut(self, text: str, dropped: Dropped) -> str:
        """``text`` with every known secret and every JSON web token cut out."""
        out = text
        for secret in sorted(self.values, key=len, reverse=True):
            if secret in out:
                out = out.replace(secret, CUT)
        out = JWT.sub(CUT, out)
        if out != text:
            dropped.cut += 1
        return out


def _exchange(
    number: int, entry: Entry, secrets: _Secrets, dropped: Dropped, login_paths: tuple[str, ...]
) -> Exchange:
    req, res = entry.request, entry.response
    parts = urlsplit(req.url)
    path = secrets.cut(parts.path or "/", dropped)
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if SECRET_NAME.search(key):
            dropped.query += 1
        else:
            query.append((key, secrets.cut(value, dropped)))
    raw_body = req.body
    body = _json_or_none(raw_body)
    if _is_login(parts.path, body, login_paths):
        dropped.logins += 1
        body_kind, body, answer_kind, answer = "dropped", None, "dropped", None
    else:
        body_kind = _kind(raw_body, body, form=bool(req.form))
        body = _clean(body, secrets, dropped) if body_kind == "json" else None
        answer_text = _content_text(res)
        answer = _json_or_none(answer_text)
        answer_kind = "missing" if answer_text is None else _kind(answer_text, answer)
        answer = _clean(answer, secrets, dropped) if answer_kind == "json" else None
    return Exchange(
        number=number,
        at=entry.started,
        method=req.method.upper(),
        host=(parts.hostname or "").lower() + (f":{parts.port}" if parts.port else ""),
        path=path,
        query=tuple(query),
        status=res.status,
        body=body,
        body_kind=body_kind,
        answer=answer,
        answer_kind=answer_kind,
    )


def _kind(raw: str | None, parsed: Any, *, form: bool = False) -> str:
    if raw is None or raw == "":
        return "other" if form else "none"
    return "json" if parsed is not None or raw.strip() == "null" else "other"


def _is_login(path: str, body: Any, login_paths: tuple[str, ...]) -> bool:
    if path.rstrip("/") in {login.rstrip("/") for login in login_paths}:
        return True
    return isinstance(body, dict) and any(key in body for key in PASSWORD_FIELDS)


def _content_text(content: Response) -> str | None:
    if content.text is None:
        return None
    if (content.encoding or "").lower() != "base64":
        return content.text
    try:
        return base64.b64decode(content.text).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""  # binary content: nothing to learn from it


def _json_or_none(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _named_secrets(value: Any) -> list[str]:
    """The strings held under fields named like secrets, anywhere in a JSON value."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            found += _strings(item) if SECRET_NAME.search(key) else _named_secrets(item)
        return found
    if isinstance(value, list):
        return [s for item in value for s in _named_secrets(item)]
    return []


def _clean(value: Any, secrets: _Secrets, dropped: Dropped) -> Any:
    """A JSON value without fields named like secrets, and with known secrets cut out."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if SECRET_NAME.search(key):
                dropped.body_fields += 1
                continue
            out[key] = _clean(item, secrets, dropped)
        return out
    if isinstance(value, list):
        return [_clean(item, secrets, dropped) for item in value]
    if isinstance(value, str):
        return secrets.cut(value, dropped)
    return value

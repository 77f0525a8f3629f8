"""HAR 1.2 files written the way Chrome, Edge and Firefox write them, for the learner's tests.

``Recorder`` builds a recording entry by entry, each with the headers, cookies, timings and
page reference a browser adds, and with the session's secrets in the places browsers put
them (``SECRETS`` lists every one, so tests can look for them in what the bot prints and
keeps). ``assumed_recording`` and ``settings_recording`` record an admin switching the
schedule off, Save, reload, on, Save, reload, then commenting; ``noise`` adds unrelated
requests.
"""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyZWNvcmRlZC1hZG1pbiJ9.Zm9yZ2VkLXNpZ25hdHVyZQ"
SESSION_COOKIE = "sess-9f8e7d6c5b4a39281706"
XSRF = "xsrf-abc123def456ghi789"
PASSWORD = "hunter2-Recorded!"
QUERY_TOKEN = "qtok-5d41402abc4b2a76b971"
PROFILE_TOKEN = "refresh-77a1c0ffee42d00d"
SECRETS = (TOKEN, SESSION_COOKIE, XSRF, PASSWORD, QUERY_TOKEN, PROFILE_TOKEN)
ADMIN = "registrar.admin@state-u.edu"
COMMENT = "Testing the schedule switch for sis-maint, back on now"
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


class Recorder:
    """A HAR recording being made, one request after the other."""

    def __init__(self, host: str, *, browser: str = "chrome") -> None:
        self.host = host
        self.browser = browser
        self.entries: list[dict[str, Any]] = []
        self._at = datetime(2026, 11, 2, 14, 3, 7, tzinfo=UTC)
        self._page = f"https://{host}/#/int/merge-settings"

    # --- entries ---------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        answer: Any = None,
        status: int = 200,
        host: str | None = None,
        signed_in: bool = True,
    ) -> None:
        """A call of the app to its API, with the session as the page sends it."""
        headers = [("Accept", "application/json, text/plain, */*")]
        cookies: list[tuple[str, str]] = []
        if signed_in:
            headers += [("Authorization", f"Bearer {TOKEN}"), ("X-XSRF-TOKEN", XSRF)]
            cookies = [("token", TOKEN), ("connect.sid", SESSION_COOKIE), ("XSRF-TOKEN", XSRF)]
        self.add(
            method,
            f"https://{host or self.host}{path}",
            body=None if body is None else json.dumps(body),
            answer=None if answer is None else json.dumps(answer),
            status=status,
            headers=headers,
            cookies=cookies,
        )

    def add(
        self,
        method: str,
        url: str,
        *,
        body: str | None = None,
        body_type: str = "application/json",
        answer: str | None = "",
        answer_type: str = "application/json; charset=utf-8",
        status: int = 200,
        headers: list[tuple[str, str]] | None = None,
        cookies: list[tuple[str, str]] | None = None,
        answer_base64: bool = False,
        set_cookies: list[tuple[str, str]] | None = None,
    ) -> None:
        """Any request, written as the browser writes it."""
        parts = urlsplit(url)
        sent_headers = [
            (":authority", parts.netloc),
            (":method", method),
            (":path", parts.path + (f"?{parts.query}" if parts.query else "")),
            ("User-Agent", CHROME_UA),
            ("Referer", self._page),
            *(headers or []),
        ]
        if cookies:
            sent_headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies)))
        request: dict[str, Any] = {
            "method": method,
            "url": url,
            "httpVersion": "http/2.0",
            "headers": _pairs(sent_headers),
            "queryString": _pairs(_query(parts.query)),
            "cookies": [_cookie(k, v, parts.hostname or "") for k, v in cookies or []],
            "headersSize": -1,
            "bodySize": len(body or ""),
        }
        if body is not None:
            request["postData"] = {"mimeType": body_type, "text": body}
            if self.browser == "firefox":
                request["postData"]["params"] = []
        content: dict[str, Any] = {"size": len(answer or ""), "mimeType": answer_type}
        if answer is not None:
            if answer_base64:
                content["text"] = base64.b64encode(answer.encode()).decode()
                content["encoding"] = "base64"
            else:
                content["text"] = answer
        response_headers = [("content-type", answer_type), ("date", _http_date(self._at))]
        response_headers += [
            ("set-cookie", f"{k}={v}; Path=/; HttpOnly") for k, v in set_cookies or []
        ]
        entry: dict[str, Any] = {
            "startedDateTime": self._at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "time": 84.2,
            "request": request,
            "response": {
                "status": status,
                "statusText": "OK" if status < 300 else "Error",
                "httpVersion": "http/2.0",
                "headers": _pairs(response_headers),
                "cookies": [_cookie(k, v, parts.hostname or "") for k, v in set_cookies or []],
                "content": content,
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
            },
            "cache": {},
            "timings": {
                "blocked": 1.1,
                "dns": -1,
                "ssl": -1,
                "connect": -1,
                "send": 0.2,
                "wait": 80.4,
                "receive": 2.5,
            },
            "pageref": "page_1",
        }
        if self.browser == "chrome":
            entry |= {
                "_initiator": {"type": "script"},
                "_priority": "High",
                "_resourceType": "xhr" if "json" in answer_type else "other",
                "serverIPAddress": "104.18.7.90",
                "connection": "443",
            }
            entry["response"] |= {"_transferSize": 912, "_error": None}
        self.entries.append(entry)
        self._at += timedelta(milliseconds=431)

    def login(self) -> None:
        """The page signing in: the password in the body, the token in the answer."""
        self.api(
            "POST",
            "/api/v1/sessions",
            body={"email": ADMIN, "password": PASSWORD},
            answer={"token": TOKEN, "user": {"email": ADMIN}},
            signed_in=False,
        )

    # --- the file --------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The HAR document."""
        creator = (
            {"name": "WebInspector", "version": "537.36"}
            if self.browser == "chrome"
            else {"name": "Firefox", "version": "133.0"}
        )
        first = self.entries[0]["startedDateTime"] if self.entries else "2026-11-02T14:03:07Z"
        return {
            "log": {
                "version": "1.2",
                "creator": creator,
                "pages": [
                    {
                        "startedDateTime": first,
                        "id": "page_1",
                        "title": self._page,
                        "pageTimings": {"onContentLoad": 812.5, "onLoad": 1403.9},
                    }
                ],
                "entries": self.entries,
            }
        }

    def write(self, path: Path) -> Path:
        """Save the recording as a browser does (indented JSON)."""
        path.write_text(json.dumps(self.document(), indent=2), encoding="utf-8")
        return path


def noise(rec: Recorder, school: str, count: int, *, seed: int = 7) -> None:
    """``count`` requests that have nothing to do with the Saves: fonts, analytics, the app's
    own reads and writes, other hosts."""
    rng = random.Random(seed)
    kinds = [_font, _analytics, _app_read, _app_event, _script, _intercom]
    order: list[tuple[int, int]] = []  # (kind, its n-th request): every kind in every round
    for round_ in range(-(-count // len(kinds))):
        order += [(k, round_) for k in rng.sample(range(len(kinds)), len(kinds))]
    for kind, n in order[:count]:
        kinds[kind](rec, school, n)


def _font(rec: Recorder, _school: str, n: int) -> None:
    rec.add(
        "GET",
        f"https://fonts.gstatic.com/s/inter/v13/font-{n}.woff2",
        answer="wOF2-binary-font-data",
        answer_type="font/woff2",
        answer_base64=True,
    )


def _analytics(rec: Recorder, _school: str, n: int) -> None:
    form = urlencode({"v": "2", "tid": "G-XYZ123", "en": "page_view", "_p": str(n)})
    rec.add(
        "POST",
        f"https://www.google-analytics.com/g/collect?{form}",
        body="",
        body_type="text/plain;charset=UTF-8",
        answer="",
        answer_type="text/plain",
        status=204,
    )


def _app_read(rec: Recorder, school: str, n: int) -> None:
    reads = [
        (f"/api/v1/{school}/terms", {"terms": [{"code": "202610", "name": "Fall 2026"}]}),
        (f"/api/v1/{school}/general/enabledIntegrationSaveState", {"id": "ss-1"}),
        (
            f"/api/v1/int/{school}/integrations-hub/merge-history?page=1&size=10",
            {"items": [{"mergeReport": {"id": f"r{n}", "status": "success"}}]},
        ),
        (f"/api/v1/{school}/integration/configuration", {"sisPlatform": "banner"}),
        (
            f"/api/v1/{school}/users/me?access_token={QUERY_TOKEN}",
            {"email": ADMIN, "refreshToken": PROFILE_TOKEN, "roles": ["admin"]},
        ),
    ]
    path, answer = reads[n % len(reads)]
    rec.api("GET", path, answer=answer)


def _app_event(rec: Recorder, school: str, n: int) -> None:
    rec.api(
        "POST",
        f"/api/v1/{school}/events",
        body={"event": "page_view", "page": "merge-settings", "n": n},
        answer={"ok": True},
        status=201,
    )


def _script(rec: Recorder, _school: str, n: int) -> None:
    rec.add(
        "GET",
        f"https://{rec.host}/js/chunk-{n:04x}.js",
        answer="(function(){return 1})()",
        answer_type="application/javascript",
    )


def _intercom(rec: Recorder, _school: str, n: int) -> None:
    rec.add(
        "POST",
        "https://api-iam.intercom.io/messenger/web/ping",
        body=json.dumps({"app_id": "abc123", "user_data": {"email": ADMIN}, "n": n}),
        answer=json.dumps({"type": "ping", "app": {"name": "Coursedog"}}),
    )


# --- whole recordings ------------------------------------------------------------


def assumed_recording(
    school: str,
    host: str = "staging.coursedog.com",
    *,
    browser: str = "chrome",
    noisy: int = 0,
    comment: bool = True,
) -> Recorder:
    """An admin on Merge Settings, writing the way the bot assumes: PUT the schedule object
    it read, under ``integrationSchedule``; then an Activity comment."""
    rec = Recorder(host, browser=browser)
    rec.login()
    half = noisy // 2
    noise(rec, school, half)
    read = f"/api/v1/{school}/general/integrationSchedule"

    def schedule(sync: str, on: bool) -> dict[str, Any]:
        return {"integrationSchedule": {"syncType": sync, "nightly": on, "realtime": on}}

    rec.api("GET", read, answer=schedule("realtime", True))
    rec.api("PUT", read, body=schedule("none", False), answer=schedule("none", False))
    rec.api("GET", read, answer=schedule("none", False))
    noise(rec, school, noisy - half, seed=11)
    rec.api("PUT", read, body=schedule("realtime", True), answer=schedule("realtime", True))
    rec.api("GET", read, answer=schedule("realtime", True))
    if comment:
        rec.api(
            "POST",
            f"/api/v1/{school}/integration/mergeSettings/activity",
            body={"comment": COMMENT},
            answer={"id": "act-1"},
            status=201,
        )
    return rec


SETTINGS_PATH = "/api/v1/{school}/settings"
SAVE_PATH = "/api/v1/{school}/settings/save"
ACTIVITY_PATH = "/api/v1/{school}/activity"


def settings_document(sync: str) -> dict[str, Any]:
    """The whole settings object as the settings read answers it (under ``data``)."""
    return {
        "integrationSchedule": {"syncType": sync},
        "timezone": "America/Chicago",
        "termCode": "202610",
        "notifications": {"email": True, "digest": "daily"},
    }


def settings_recording(
    school: str, host: str = "staging.coursedog.com", *, noisy: int = 0
) -> Recorder:
    """An admin whose page reads the whole settings object from another GET and saves it all
    with a POST, ``syncType: "none"`` for off; then a comment whose text sits in a nested
    object beside constant fields."""
    rec = Recorder(host)
    rec.login()
    noise(rec, school, noisy // 2)
    read = f"/api/v1/{school}/general/integrationSchedule"
    settings = SETTINGS_PATH.format(school=school)

    def load(sync: str) -> None:
        rec.api("GET", read, answer={"integrationSchedule": {"syncType": sync}})
        rec.api("GET", settings, answer={"data": settings_document(sync)})

    load("realtime")
    save = SAVE_PATH.format(school=school)
    rec.api("POST", save, body={"settings": settings_document("none")}, answer={"ok": True})
    load("none")
    noise(rec, school, noisy - noisy // 2, seed=3)
    rec.api("POST", save, body={"settings": settings_document("realtime")}, answer={"ok": True})
    load("realtime")
    rec.api(
        "POST",
        ACTIVITY_PATH.format(school=school),
        body={"entity": "mergeSettings", "kind": "comment", "content": {"text": COMMENT}},
        answer={"id": "act-9"},
        status=201,
    )
    return rec


def _pairs(items: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in items]


def _query(query: str) -> list[tuple[str, str]]:
    return parse_qsl(query, keep_blank_values=True)


def _cookie(name: str, value: str, domain: str) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "path": "/",
        "domain": domain,
        "expires": "1969-12-31T23:59:59.000Z",
        "httpOnly": True,
        "secure": True,
    }


def _http_date(at: datetime) -> str:
    return at.strftime("%a, %d %b %Y %H:%M:%S GMT")

"""What the simulator answers: the Coursedog calls, and its own /_sim/ control calls."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from coursedog import wire
from coursedog.contract import WriteContract
from coursedog.simulator_faults import Fault

if TYPE_CHECKING:
    from coursedog.simulator import SchoolState, Simulator


@dataclass(frozen=True)
class Request:
    """One HTTP request as the simulator sees it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""

    def json(self) -> Any:
        """Return the parsed body; raise ValueError if it is not JSON."""
        return json.loads(self.body or b"null")


@dataclass(frozen=True)
class Reply:
    """What to answer."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def error(status: int, message: str) -> Reply:
    """Build an error answer in the simulator's error format."""
    return Reply(status, {"statusCode": status, "message": message})


Action = Callable[["Simulator", Request, str], Reply]


@dataclass(frozen=True)
class Route:
    """One Coursedog call the simulator serves; ``name`` as in coursedog.wire.ENDPOINTS."""

    name: str
    method: str
    pattern: re.Pattern[str]
    action: Action
    needs_auth: bool = True


def compile_path(template: str) -> re.Pattern[str]:
    """A pattern matching a path template's paths, the school as the group ``school``."""
    escaped = re.escape(template).replace(re.escape("{school}"), "(?P<school>[^/]+)")
    return re.compile(f"^{escaped}$")


def build_routes(cfg: wire.WireConfig) -> list[Route]:
    """Derive the routes from the same WireConfig the client uses."""
    return [
        Route("login", "POST", compile_path(cfg.login_path), _login, needs_auth=False),
        Route("read_schedule", "GET", compile_path(cfg.schedule_read_path), _read_schedule),
        Route("read_save_state", "GET", compile_path(cfg.save_state_path), _read_save_state),
        Route(
            "write_schedule",
            cfg.schedule_write_method,
            compile_path(cfg.schedule_write_path),
            _write_schedule,
        ),
        Route("post_comment", cfg.comment_method, compile_path(cfg.comment_path), _post_comment),
        Route("merge_history", "GET", compile_path(cfg.merge_history_path), _merge_history),
    ]


def api_reply(sim: Simulator, routes: list[Route], req: Request) -> Reply:
    """Answer one Coursedog API call."""
    matched = [(r, m) for r in routes if (m := r.pattern.match(req.path))]
    if not matched:
        return error(404, f"no such endpoint: {req.path}")
    for route, match in matched:
        if route.method != req.method:
            continue
        if route.needs_auth and not sim.token_valid(_token_of(req)):
            return error(401, "session missing, expired or revoked; log in again")
        return route.action(sim, req, unquote(match.groupdict().get("school") or ""))
    return error(405, f"{req.method} is not allowed on {req.path}")


def _token_of(req: Request) -> str | None:
    auth = req.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    try:
        morsel = SimpleCookie(req.headers.get("cookie", "")).get("token")
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


def school_state(sim: Simulator, school: str) -> SchoolState | None:
    """The school's state, None when the simulator has no such school."""
    with sim.lock:
        return sim.schools.get(school)


def _login(sim: Simulator, req: Request, _school: str) -> Reply:
    try:
        body = req.json()
        email, password = wire.credentials_from_wire(body, sim.wire)
    except ValueError as exc:
        return error(400, f"bad login body: {exc}")
    if not any(key in body for key in sim.password_fields):
        return error(400, f"bad login body: the password goes under {sim.password_fields[0]}")
    token = sim.issue_token(email, password)
    if token is None:
        return error(401, "invalid email or password")
    return Reply(200, wire.token_to_wire(token))


def _read_schedule(sim: Simulator, _req: Request, school: str) -> Reply:
    state = school_state(sim, school)
    if state is None:
        return error(404, f"school {school} not found")
    with sim.lock:
        obj = state.schedule_answer
        if obj is None:
            obj = wire.schedule_to_wire(state.schedule, sim.read_wire, state.extra_fields)
    return Reply(200, wire.schedule_reply(obj, sim.wire))


def _read_save_state(sim: Simulator, _req: Request, school: str) -> Reply:
    state = school_state(sim, school)
    if state is None:
        return error(404, f"school {school} not found")
    return Reply(200, wire.save_state_to_wire(state.save_state_id, sim.shape))


def write_refusal(sim: Simulator, req: Request, state: SchoolState) -> Reply | None:
    """A write the school or the user may not make: locked settings say so, a read-only user's
    refusal does not."""
    if state.locked:
        return error(403, "merge settings are locked for this school")
    if not sim.may_write(_token_of(req)):
        return error(403, "Forbidden")
    return None


def _write_schedule(sim: Simulator, req: Request, school: str) -> Reply:
    state = school_state(sim, school)
    if state is None:
        return error(404, f"school {school} not found")
    refused = write_refusal(sim, req, state)
    if refused is not None:
        return refused
    cfg = sim.wire
    try:
        obj = wire.schedule_object_from_reply(req.json(), cfg)
        schedule = wire.schedule_from_wire(obj, cfg)
    except ValueError as exc:
        return error(400, f"bad schedule: {exc}")
    ours = {cfg.sync_type_field, cfg.nightly_field, cfg.realtime_field}
    with sim.lock:
        state.nightly, state.realtime = schedule.nightly, schedule.realtime
        # A replacing write keeps only what it was sent.
        state.extra_fields = {k: v for k, v in obj.items() if k not in ours}
        state.schedule_answer = None  # the object written replaces the one answered
        state.writes += 1
        reply = wire.schedule_to_wire(state.schedule, cfg, state.extra_fields)
    return Reply(200, wire.schedule_reply(reply, cfg))


def _post_comment(sim: Simulator, req: Request, school: str) -> Reply:
    state = school_state(sim, school)
    if state is None:
        return error(404, f"school {school} not found")
    refused = write_refusal(sim, req, state)
    if refused is not None:
        return refused
    try:
        text = req.json().get(sim.wire.comment_field)
    except (ValueError, AttributeError):
        text = None
    if not isinstance(text, str) or not text.strip():
        return error(400, f"{sim.wire.comment_field} must be a non-empty string")
    with sim.lock:
        state.comments.append(text)
    return Reply(201, wire.comment_body(text, sim.wire))


def _merge_history(sim: Simulator, req: Request, school: str) -> Reply:
    state = school_state(sim, school)
    if state is None:
        return error(404, f"school {school} not found")
    try:
        page = int(req.query.get("page", ["1"])[0])
        size = int(req.query.get("size", ["10"])[0])
    except ValueError:
        return error(400, "page and size must be integers")
    kind = req.query.get("scheduleType", [None])[0]
    with sim.lock:
        items = [i for i in state.merge_history if kind in (None, wire.item_schedule_type(i))]
    start = max(page - 1, 0) * size
    return Reply(200, {"items": items[start : start + size], "total": len(items)})


# --- /_sim/ control calls, unauthenticated, for tests, a CLI and a browser sandbox ---


def control_reply(sim: Simulator, req: Request) -> Reply:
    """Answer one /_sim/ control call."""
    parts = [unquote(p) for p in req.path.strip("/").split("/")[1:]]
    try:
        return _control(sim, req, parts)
    except ValueError as exc:
        return error(400, str(exc))
    except LookupError as exc:
        return error(404, str(exc))


def _merge_control(sim: Simulator, req: Request, where: list[str]) -> Reply:
    """A merge-history item added (``merge-history/SCHOOL``), or a running merge finished
    (``merge-history/SCHOOL/JOB_ID/finish``, with the item it becomes)."""
    item = req.json()
    if not isinstance(item, dict):
        raise ValueError("send a merge-history item as a JSON object")
    match where:
        case [school]:
            sim.add_merge_item(school, item)
            status = 201
        case [school, job_id, "finish"]:
            sim.finish_merge(school, job_id, item)
            status = 200
        case _:
            return error(404, f"no control endpoint POST {req.path}")
    return Reply(status, {"merge_history": sim.school(school).as_dict()["merge_history"]})


def _control(sim: Simulator, req: Request, parts: list[str]) -> Reply:
    match req.method, parts:
        case "GET", ["state"]:
            return Reply(200, sim.state())
        case "POST", ["schools", school]:
            changes = req.json()
            if not isinstance(changes, dict):
                raise ValueError("send a JSON object of school settings")
            return Reply(200, sim.set_school(school, changes).as_dict())
        case "POST", ["faults"]:
            sim.inject(Fault.from_json(req.json()))
            return Reply(201, {"faults": sim.faults.describe()})
        case "DELETE", ["faults"]:
            sim.clear_faults()
            return Reply(200, {"faults": []})
        case "POST", ["contract"]:
            raw = req.json()
            sim.set_contract(None if raw is None else WriteContract.from_json(raw))
            return Reply(200, {"contract": raw})
        case "POST", ["revoke"]:
            sim.revoke_sessions()
            return Reply(200, {"revoked": True})
        case "POST", ["release-late"]:
            sim.release_late()
            return Reply(200, {"released": True})
        case "POST", ["merge-history", *where]:
            return _merge_control(sim, req, where)
        case "POST", ["latency"]:
            latency = req.json().get("latency") if isinstance(req.json(), dict) else None
            if isinstance(latency, bool) or not isinstance(latency, int | float) or latency < 0:
                raise ValueError("latency must be a non-negative number of seconds")
            sim.latency = float(latency)
            return Reply(200, {"latency": sim.latency})
    return error(404, f"no control endpoint {req.method} {req.path}")

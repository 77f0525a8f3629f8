"""Every Coursedog path and field name, kept in this one module.

No public document describes any write, and several reads were only observed in public
code, so the names that are not documented live in `WireConfig`, whose field names are
the keys a deployment may override. `FIELD_STATUS` and `ENDPOINTS` say how sure we are
of each one; docs/coursedog-api.md is checked against them by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from coursedog.models import MergeRun, Schedule

Status = Literal["documented", "seen", "assumed"]
# How a read answers: only what has been seen, or the richer shape once assumed (the schedule
# object also carrying the nightly and real-time booleans).
Shape = Literal["seen", "assumed"]
SHAPES: tuple[Shape, ...] = ("seen", "assumed")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
SCHEDULE_TYPES = ("nightly", "realtime", "manual")
SUCCEEDED_STATUSES = frozenset({"success", "finishedWithIssues", "noData"})
# Coursedog's own tools were seen logging in with either spelling.
PASSWORD_FIELDS = ("plaintextPassword", "password")
SAVE_STATE_ID_KEYS = ("id", "_id", "integrationSaveStateId")


def _setting(default: str | bool, status: Status) -> Any:
    """Declare one WireConfig field with how sure we are of its default."""
    return field(default=default, metadata={"status": status})


@dataclass(frozen=True)
class WireConfig:
    """Paths and field names of the Coursedog API; the assumed ones may be overridden."""

    login_path: str = _setting("/api/v1/sessions", "documented")
    password_field: str = _setting("plaintextPassword", "documented")
    schedule_read_path: str = _setting("/api/v1/{school}/general/integrationSchedule", "seen")
    save_state_path: str = _setting("/api/v1/{school}/general/enabledIntegrationSaveState", "seen")
    schedule_key: str = _setting("integrationSchedule", "seen")
    sync_type_field: str = _setting("syncType", "seen")
    sync_type_realtime: str = _setting("realtime", "seen")
    sync_type_nightly: str = _setting("nightly", "assumed")
    sync_type_off: str = _setting("none", "assumed")
    nightly_field: str = _setting("nightly", "assumed")
    realtime_field: str = _setting("realtime", "assumed")
    schedule_write_method: str = _setting("PUT", "assumed")
    schedule_write_path: str = _setting("/api/v1/{school}/general/integrationSchedule", "assumed")
    schedule_write_keeps_other_fields: bool = _setting(True, "assumed")
    comment_method: str = _setting("POST", "assumed")
    comment_path: str = _setting("/api/v1/{school}/integration/mergeSettings/activity", "assumed")
    comment_field: str = _setting("comment", "assumed")
    merge_history_path: str = _setting(
        "/api/v1/int/{school}/integrations-hub/merge-history", "seen"
    )
    merge_settings_url: str = _setting("https://{host}/#/int/{school}/merge-settings", "assumed")
    merge_report_url: str = _setting("https://{host}/#/int/{school}/merge-history/{id}", "seen")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith(("_path", "_url")):
                _check_template(f.name, value)
            if f.name.endswith("_method") and value not in WRITE_METHODS:
                raise ValueError(f"coursedog_api.{f.name} must be one of POST, PUT, PATCH")
        for name in _NON_EMPTY:
            if not getattr(self, name):
                raise ValueError(f"coursedog_api.{name} must not be empty")

    @classmethod
    def from_mapping(cls, table: Mapping[str, object]) -> WireConfig:
        """Build from a config table whose keys are field names; unknown keys are refused."""
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                raise ValueError(f"coursedog_api.{key} is not a known setting")
            expected = bool if isinstance(getattr(DEFAULT_WIRE, key), bool) else str
            if not isinstance(value, expected):
                raise ValueError(f"coursedog_api.{key} must be a {expected.__name__}")
            values[key] = value
        return cls(**values)


_NON_EMPTY = (
    "password_field",
    "schedule_key",
    "sync_type_field",
    "sync_type_realtime",
    "sync_type_nightly",
    "sync_type_off",
    "comment_field",
)


def _check_template(name: str, value: str) -> None:
    is_path = name.endswith("_path")
    if is_path and not value.startswith("/"):
        raise ValueError(f"coursedog_api.{name} must start with '/'")
    if name != "login_path" and "{school}" not in value:
        raise ValueError(f"coursedog_api.{name} must contain '{{school}}'")
    # Paths are filled with the school only; links also with the host and a report id.
    placeholders = {"school": "s"} if is_path else {"host": "h", "school": "s", "id": "i"}
    try:
        value.format(**placeholders)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"coursedog_api.{name} has an unknown placeholder: {exc}") from exc


DEFAULT_WIRE = WireConfig()

FIELD_STATUS: dict[str, Status] = {f.name: f.metadata["status"] for f in fields(WireConfig)}


@dataclass(frozen=True)
class Endpoint:
    """One call (or UI link) the client knows, with how sure we are of it."""

    name: str
    method: str
    path: str
    status: Status


def endpoints(cfg: WireConfig = DEFAULT_WIRE) -> tuple[Endpoint, ...]:
    """List every endpoint and UI link as configured."""
    return (
        Endpoint("login", "POST", cfg.login_path, "documented"),
        Endpoint("read_schedule", "GET", cfg.schedule_read_path, "seen"),
        Endpoint("read_save_state", "GET", cfg.save_state_path, "seen"),
        Endpoint("write_schedule", cfg.schedule_write_method, cfg.schedule_write_path, "assumed"),
        Endpoint("post_comment", cfg.comment_method, cfg.comment_path, "assumed"),
        Endpoint("merge_history", "GET", cfg.merge_history_path, "seen"),
        Endpoint("merge_settings_page", "LINK", cfg.merge_settings_url, "assumed"),
        Endpoint("merge_report_page", "LINK", cfg.merge_report_url, "seen"),
    )


ENDPOINTS = endpoints()


def operation_label(method: str, template: str) -> str:
    """Name a call for messages, e.g. "GET integrationSchedule"."""
    return f"{method} {template.rstrip('/').rsplit('/', 1)[-1]}"


# --- login -------------------------------------------------------------------


def login_body(email: str, password: str, cfg: WireConfig = DEFAULT_WIRE) -> dict[str, str]:
    """Build the JSON body of the login call."""
    return {"email": email, cfg.password_field: password}


def credentials_from_wire(obj: object, cfg: WireConfig = DEFAULT_WIRE) -> tuple[str, str]:
    """Read email and password from a login body, accepting either password spelling."""
    if not isinstance(obj, dict) or not isinstance(obj.get("email"), str):
        raise ValueError("login body has no email")
    for key in (cfg.password_field, *PASSWORD_FIELDS):
        if isinstance(obj.get(key), str):
            return obj["email"], obj[key]
    raise ValueError("login body has no password")


def token_to_wire(token: str) -> dict[str, str]:
    """Build the login reply."""
    return {"token": token}


def token_from_wire(obj: object) -> str:
    """Find the session token in a login reply."""
    if isinstance(obj, dict):
        nested = obj.get("data")
        for candidate in (obj.get("token"), obj.get("accessToken"), _get(nested, "token")):
            if isinstance(candidate, str) and candidate:
                return candidate
    raise ValueError("login reply carries no token")


# --- schedule ----------------------------------------------------------------


class UnknownSchedule(ValueError):
    """A schedule object whose fields the bot cannot read with certainty.

    ``raw`` holds the fields the bot reads, exactly as answered (a missing one is absent), so
    a person can be shown what Coursedog said.
    """

    def __init__(self, message: str, raw: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.raw = dict(raw)


def schedule_fields(obj: Mapping[str, Any], cfg: WireConfig = DEFAULT_WIRE) -> dict[str, Any]:
    """The fields of a schedule object that the bot reads, as answered."""
    names = (cfg.sync_type_field, cfg.nightly_field, cfg.realtime_field)
    return {name: obj[name] for name in names if name and name in obj}


def known_sync_types(cfg: WireConfig = DEFAULT_WIRE) -> dict[str, Schedule]:
    """Each sync type value the bot knows (lower case) and the switches it stands for.

    Coursedog asks for nightly to stay on whenever real-time is on, so "realtime" means both.
    """
    return {
        cfg.sync_type_realtime.lower(): Schedule(nightly=True, realtime=True),
        cfg.sync_type_nightly.lower(): Schedule(nightly=True, realtime=False),
        cfg.sync_type_off.lower(): Schedule(nightly=False, realtime=False),
    }


def schedule_from_wire(obj: object, cfg: WireConfig = DEFAULT_WIRE) -> Schedule:
    """Map a wire schedule object onto the two switches (the one unconfirmed mapping).

    A missing sync type, or a value the bot does not know, raises UnknownSchedule: such a
    schedule is never read as "off", since merges the bot cannot see might run.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"{cfg.schedule_key} is not an object")
    raw = schedule_fields(obj, cfg)
    sync = obj.get(cfg.sync_type_field)
    known = known_sync_types(cfg)
    if not isinstance(sync, str) or sync.strip().lower() not in known:
        said = "is missing" if sync is None else f"is {sync!r}, a value the bot does not know"
        names = ", ".join(repr(v) for v in known)
        raise UnknownSchedule(f"{cfg.sync_type_field} {said} (it knows {names})", raw)
    derived = known[sync.strip().lower()]
    try:
        return Schedule(
            nightly=_explicit_flag(obj, cfg.nightly_field, derived.nightly),
            realtime=_explicit_flag(obj, cfg.realtime_field, derived.realtime),
        )
    except ValueError as exc:
        raise UnknownSchedule(str(exc), raw) from None


def schedule_to_wire(
    schedule: Schedule, cfg: WireConfig = DEFAULT_WIRE, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Map the two switches onto a wire schedule object, keeping other fields of `current`."""
    if schedule.realtime:
        sync = cfg.sync_type_realtime
    elif schedule.nightly:
        sync = cfg.sync_type_nightly
    else:
        sync = cfg.sync_type_off
    out: dict[str, Any] = dict(current or {})
    out[cfg.sync_type_field] = sync
    if cfg.nightly_field:
        out[cfg.nightly_field] = schedule.nightly
    if cfg.realtime_field:
        out[cfg.realtime_field] = schedule.realtime
    return out


def schedule_object_from_reply(obj: object, cfg: WireConfig = DEFAULT_WIRE) -> dict[str, Any]:
    """Take the schedule object out of a read reply or a write body."""
    inner = _get(obj, cfg.schedule_key)
    if not isinstance(inner, dict):
        raise ValueError(f"answer has no {cfg.schedule_key} object")
    return inner


def schedule_reply(
    schedule_obj: Mapping[str, Any], cfg: WireConfig = DEFAULT_WIRE
) -> dict[str, Any]:
    """Wrap a schedule object the way reads answer and writes send it."""
    return {cfg.schedule_key: dict(schedule_obj)}


def _explicit_flag(obj: Mapping[str, Any], name: str, fallback: bool) -> bool:
    if not name or obj.get(name) is None:
        return fallback
    value = obj[name]
    if not isinstance(value, bool):
        raise ValueError(f"{name} is not a boolean")
    return value


# --- saved state and activity --------------------------------------------------


def save_state_to_wire(save_state_id: str, shape: Shape = "seen") -> dict[str, Any]:
    """Build the enabled-saved-state reply: as seen (the id inside the enabled state object),
    or in the flatter shape once assumed."""
    if shape == "assumed":
        return {"id": save_state_id}
    return {"enabledIntegrationSaveState": {"integrationSaveStateId": save_state_id}}


def save_state_id_from_wire(obj: object) -> str | None:
    """Find the enabled saved state's id; None when the answer is null."""
    if obj is None or isinstance(obj, str):
        return obj or None
    if isinstance(obj, dict):
        if "enabledIntegrationSaveState" in obj:
            return save_state_id_from_wire(obj["enabledIntegrationSaveState"])
        for key in SAVE_STATE_ID_KEYS:
            if isinstance(obj.get(key), str) and obj[key]:
                return str(obj[key])
    raise ValueError("answer names no saved state id")


def comment_body(text: str, cfg: WireConfig = DEFAULT_WIRE) -> dict[str, str]:
    """Build the JSON body of an Activity comment."""
    return {cfg.comment_field: text}


# --- merge history -------------------------------------------------------------


def merge_history_params(schedule_type: str, size: int) -> dict[str, str | int]:
    """Build the query of a merge-history read (sections, first page)."""
    return {"page": 1, "size": size, "scheduleType": schedule_type, "entityType": "sections"}


def merge_report_item(
    report_id: str, status: str, schedule_type: str, date: str | None = None
) -> dict[str, Any]:
    """Build a finished merge-history item."""
    report: dict[str, Any] = {"id": report_id, "status": status, "scheduleType": schedule_type}
    if date is not None:
        report["date"] = date
    return {"scheduleType": schedule_type, "mergeReport": report}


def in_progress_item(
    job_id: str, schedule_type: str, job_status: str = "RUNNING", date: str | None = None
) -> dict[str, Any]:
    """Build a merge-history item for a merge still running. Where a running merge's start is
    kept is not known; ``date`` puts it where a report keeps its own (an assumption)."""
    job = {"awsJobStatus": job_status, "awsJobId": job_id, "awsJobName": f"merge-{job_id}"}
    item: dict[str, Any] = {"scheduleType": schedule_type, "inProgressMerge": job}
    if date is not None:
        item["date"] = date
    return item


def item_schedule_type(item: Mapping[str, Any]) -> str | None:
    """Return the schedule type an item declares, if any."""
    value = item.get("scheduleType", _get(item.get("mergeReport"), "scheduleType"))
    return value if isinstance(value, str) else None


def merge_runs_from_wire(obj: object, schedule_type: str) -> list[MergeRun]:
    """Parse a merge-history answer, keeping its newest-first order."""
    items = _get(obj, "items")
    if not isinstance(items, list):
        raise ValueError("merge history has no items list")
    return [merge_run_from_wire(item, schedule_type, index) for index, item in enumerate(items)]


def merge_run_from_wire(item: object, schedule_type: str, index: int = 0) -> MergeRun:
    """Parse one merge-history item (``index`` names it in errors)."""
    if not isinstance(item, dict):
        raise ValueError(f"merge history item {index} is not an object")
    kind = item_schedule_type(item) or schedule_type
    started = _first_str(item, "date", "createdAt")
    job = item.get("inProgressMerge")
    if isinstance(job, dict):
        started = started or _first_str(job, "date", "createdAt")
        return MergeRun(
            None,
            kind,
            "running",
            None,
            started,
            job_id=_first_str(job, "awsJobId"),
            job_name=_first_str(job, "awsJobName"),
            job_status=_first_str(job, "awsJobStatus"),
        )
    report = item.get("mergeReport")
    if not isinstance(report, dict) or not isinstance(report.get("status"), str):
        raise ValueError(f"merge history item {index} has neither a report nor a running job")
    status = report["status"]
    report_id = _first_str(report, "id", "_id")
    started = _first_str(report, "date", "createdAt") or started
    return MergeRun(report_id, kind, status, status in SUCCEEDED_STATUSES, started)


# --- links into the Coursedog web app -------------------------------------------


def merge_settings_link(host: str, school: str, cfg: WireConfig = DEFAULT_WIRE) -> str:
    """Link to the Merge Settings page of a school."""
    return cfg.merge_settings_url.format(host=host, school=school)


def merge_report_link(
    host: str, school: str, report_id: str, cfg: WireConfig = DEFAULT_WIRE
) -> str:
    """Link to one merge report."""
    return cfg.merge_report_url.format(host=host, school=school, id=report_id)


def _get(obj: object, key: str) -> object:
    return obj.get(key) if isinstance(obj, dict) else None


def _first_str(obj: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    return None

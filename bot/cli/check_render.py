"""The report of `sis-maint coursedog check`, as text for a person or as JSON for a script."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

from bot.cli.check_report import CheckReport, EnvironmentCheck
from coursedog.probe import FieldReading, LoginCheck, ReadCheck
from coursedog.session import RENEW_AFTER, TOKEN_LIFETIME

OK, ERROR = "ok", "ERROR"
_INDENT = " " * 11


def render_text(report: CheckReport) -> str:
    """The whole report as lines of text, one block per environment, then a verdict."""
    lines: list[str] = []
    for env in report.environments:
        lines += _environment(env)
        lines.append("")
    understood = sum(env.understood for env in report.environments)
    total = len(report.environments)
    if report.understood:
        lines.append(f"Every read is understood ({understood} of {total} environments).")
    else:
        lines.append(
            f"{total - understood} of {total} environments have a read the bot does not "
            "understand or could not make (ERROR above): fix it before relying on the bot."
        )
    return "\n".join(lines) + "\n"


def _environment(env: EnvironmentCheck) -> list[str]:
    lines = [
        f"{env.name} — {env.label}: {env.host}, school {env.school} ({env.driver})",
    ]
    if env.probe is None:
        lines.append(
            "  no API user (no email_env/password_env): nothing to read; people confirm "
            "each step of its checklist"
        )
    else:
        lines += _login(env.probe.login, env.shares_login_with)
        if env.probe.login.problem is not None:
            lines.append("  reads: not made, since the login failed")
        for read in env.probe.reads:
            lines += _read(read)
    unused = " (not made: a person switches it by hand)" if env.by_hand else ""
    for write in env.writes:
        lines.append(f"  write  {write.method} {write.path}: {write.label}{unused}")
    verdict = OK if env.understood else ERROR
    lines.append(f"  => {verdict}: " + _summary(env))
    return lines


def _summary(env: EnvironmentCheck) -> str:
    if env.probe is None:
        return "nothing to read"
    if env.probe.login.problem is not None:
        return "the login failed"
    bad = [r.name for r in env.probe.reads if not r.understood]
    return f"not understood: {', '.join(bad)}" if bad else "every read understood"


def _login(login: LoginCheck, sharing: tuple[str, ...]) -> list[str]:
    head = f"  login  POST {login.path} {_status(login.status)} in {_ms(login.seconds)}"
    if login.problem is not None:
        return [f"{head}: {ERROR}: {login.problem}"]
    if sharing:
        return [f"{head}: the same login as {', '.join(sharing)} (one per host and user)"]
    lines = [f"{head}: {_password(login)}"]
    if login.issued_at is not None and login.renews_at and login.expires_at:
        lines.append(
            f"         token issued {_when(login.issued_at)}; it lasts "
            f"{TOKEN_LIFETIME / 3600:.0f} h (until {_when(login.expires_at)}) and the bot logs "
            f"in again after {RENEW_AFTER / 3600:.0f} h, at {_when(login.renews_at)}"
        )
    return lines


def _password(login: LoginCheck) -> str:
    used, configured = login.password_field, login.configured_field
    refused = ", ".join(f"{field} ({status})" for field, status in login.refused_fields)
    if used == configured:
        return f"password sent as {used} (as configured)"
    said = f"refused {refused}, " if refused else ""
    return (
        f"password sent as {used}: Coursedog {said}accepted {used}; set "
        f'password_field = "{used}" under [coursedog_api] (or the host\'s [coursedog_hosts])'
    )


def _read(read: ReadCheck) -> list[str]:
    head = f"  read   {read.method} {read.path} {_query(read)}{_status(read.status)} in "
    head += _ms(read.seconds)
    if read.problem is not None:
        lines = [f"{head}: {ERROR}: {read.problem}"]
    elif not read.understood:
        lines = [f"{head}: {ERROR}: {read.reading}, with fields the bot does not understand"]
    else:
        lines = [f"{head}: {read.reading}"]
    width = max((len(_said(f)) for f in read.fields), default=0)
    lines += [_field(f, width) for f in read.fields]
    if read.other_fields:
        others = ", ".join(read.other_fields)
        lines.append(f"{_INDENT}other fields, sent back unchanged on a write: {others}")
    return lines


def _query(read: ReadCheck) -> str:
    kind = read.name.partition(" ")[2]
    return f"(scheduleType={kind}) " if kind else ""


def _said(field: FieldReading) -> str:
    return f"{field.name} = {field.answered}"


def _field(field: FieldReading, width: int) -> str:
    mark = "known" if field.known else ERROR
    return f"{_INDENT}{_said(field).ljust(width)}  {mark}: {field.reading}"


def _status(status: int | None) -> str:
    return str(status) if status is not None else "no answer"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def render_json(report: CheckReport) -> dict[str, Any]:
    """The whole report as JSON-ready data, with each verdict spelled out."""
    return {
        "understood": report.understood,
        "environments": [_env_json(env) for env in report.environments],
    }


def _env_json(env: EnvironmentCheck) -> dict[str, Any]:
    data: dict[str, Any] = _plain(dataclasses.asdict(env))
    data["understood"] = env.understood
    data["writes"] = [{**_plain(dataclasses.asdict(w)), "label": w.label} for w in env.writes]
    if env.probe is not None:
        data["probe"]["understood"] = env.probe.understood
        for read, out in zip(env.probe.reads, data["probe"]["reads"], strict=True):
            out["understood"] = read.understood
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value

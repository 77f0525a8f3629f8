"""What the API answers: windows and environments as JSON (schemas in bot.api.openapi)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.services.views import WindowView


def stamp(when: datetime | None) -> str | None:
    """RFC 3339 in UTC, or None."""
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def window_json(view: WindowView) -> dict[str, Any]:
    """One window."""
    return {
        "id": view.id,
        "number": view.number,
        "state": str(view.state),
        "environments": [{"name": e.name, "status": e.status} for e in view.environments],
        "reason": view.reason,
        "ticket": view.ticket,
        "requested_by": view.requester_id,
        "requested_at": stamp(view.requested_at),
        "starts_at": stamp(view.starts_at),
        "ends_at": stamp(view.ends_at),
        "duration_seconds": int(view.duration.total_seconds()),
        "time_zone": view.time_zone,
        "decided_by": view.decided_by,
        "decided_at": stamp(view.decided_at),
        "ended_by": view.ended_by,
        "ended_at": stamp(view.ended_at),
        "failure_reason": view.failure_reason,
        "card_posted": bool(view.channel_id and view.card_ts),
    }


def environments_json(settings: Settings) -> dict[str, Any]:
    """The environments a window may name, with their aliases, zones and longest windows; and
    the groups, each name with the environments it stands for."""
    groups = settings.environment_names().groups
    return {
        "environments": [
            {
                "name": name,
                "label": env.label,
                "aliases": list(env.aliases),
                "time_zone": settings.time_zone(name),
                "max_duration_seconds": int(settings.max_duration(name).total_seconds()),
            }
            for name, env in settings.environments.items()
        ],
        "groups": {group: list(members) for group, members in sorted(groups.items())},
    }

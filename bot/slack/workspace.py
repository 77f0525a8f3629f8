"""Refusing requests from another workspace or for another app, when the config names ours.

With ``[slack] team_id`` set, a request must name that workspace wherever it names one (the
workspace it was sent from, the acting user's), and must name at least one; with
``api_app_id`` set, it must be for that app. Anything else is answered 403 and logged. This
runs inside Bolt, so it holds in Socket Mode as in HTTP mode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import App, BoltResponse

from bot.config import SlackConfig

log = logging.getLogger(__name__)


def teams_named(body: Mapping[str, Any]) -> list[str]:
    """Every workspace id the request names: its own, its team's, its acting user's."""
    team = body.get("team")
    user = body.get("user")
    found = [
        body.get("team_id"),
        team.get("id") if isinstance(team, Mapping) else team,
        user.get("team_id") if isinstance(user, Mapping) else None,
    ]
    return [str(t) for t in found if t]


def foreign(body: Mapping[str, Any], expected: SlackConfig) -> str | None:
    """Why the request is not for this workspace and app, or None when it is."""
    if expected.team_id is not None:
        teams = teams_named(body)
        if not teams:
            return "it names no workspace"
        others = sorted(set(teams) - {expected.team_id})
        if others:
            return f"it comes from workspace {', '.join(others)}, not {expected.team_id}"
    if expected.api_app_id is not None:
        app_id = body.get("api_app_id")
        if app_id != expected.api_app_id:
            return f"it is for app {app_id or '(none)'}, not {expected.api_app_id}"
    return None


def register(app: App, expected: SlackConfig) -> None:
    """Install the check, if the configuration names a workspace or an app."""
    if expected.team_id is None and expected.api_app_id is None:
        return

    @app.middleware
    def only_ours(body: dict[str, Any], next_: Callable[[], None]) -> BoltResponse | None:
        problem = foreign(body, expected)
        if problem is None:
            next_()
            return None
        kind = body.get("type") or ("slash command" if body.get("command") else "request")
        user = body.get("user")
        who = user.get("id") if isinstance(user, Mapping) else (user or body.get("user_id"))
        log.warning("refused a Slack %s from user %s: %s", kind, who or "?", problem)
        return BoltResponse(status=403, body={"error": "not for this workspace or app"})

"""The live merge switches per environment, read from the Coursedog simulator that serves it."""

from __future__ import annotations

from typing import Any

import httpx

from bot.config import Settings
from coursedog.simulator_http import CONTROL_PREFIX


class SwitchBoard:
    """Reads every environment's switches from its simulator's state (one read per simulator)."""

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self._settings = settings
        self._http = http or httpx.Client(timeout=2.0)

    def close(self) -> None:
        """Release the HTTP client."""
        self._http.close()

    def _state(self, base_url: str) -> dict[str, Any] | str:
        url = f"{base_url.rstrip('/')}{CONTROL_PREFIX}/state"
        try:
            reply = self._http.get(url)
            reply.raise_for_status()
            state = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            return f"the simulator at {base_url} is not answering ({type(exc).__name__})"
        return state if isinstance(state, dict) else f"the simulator at {base_url} answered oddly"

    def read(self) -> list[dict[str, Any]]:
        """One row per environment: its switches as the simulator holds them, or a problem."""
        envs = self._settings.environments
        states = {base: self._state(base) for base in {env.base_url for env in envs.values()}}
        rows = []
        for name, env in envs.items():
            row: dict[str, Any] = {"environment": name, "label": env.label, "school": env.school}
            state = states[env.base_url]
            school = (
                (state.get("schools") or {}).get(env.school) if isinstance(state, dict) else None
            )
            if isinstance(state, str):
                row["problem"] = state
            elif not isinstance(school, dict):
                row["problem"] = f"the simulator holds no school {env.school}"
            else:
                row.update(
                    nightly=bool(school.get("nightly")),
                    realtime=bool(school.get("realtime")),
                    locked=bool(school.get("locked")),
                    writes=int(school.get("writes") or 0),
                    comments=len(school.get("comments") or []),
                )
            rows.append(row)
        return rows

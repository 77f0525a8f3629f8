"""The local sandbox: the real bot, the Coursedog simulator, and Slack as a page in the browser.

The bot runs exactly as `sis-maint serve` runs it in HTTP mode, on a temporary SQLite ledger;
its Web API calls go to the workspace (the Slack stand-in), which also serves the page and
sends the bot what Slack would send when someone types a command or presses a button there.
"""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.process_env import ProcessEnv
from bot.run.ports import LOOPBACK, Port, place, place_simulator, simulator_set_by
from bot.run.serve import run
from bot.run.server import EVENTS_PATH
from bot.run.startup import StartupError
from bot.sandbox.config import SANDBOX_DEFAULTS, Sandbox, load_sandbox
from bot.sandbox.page import SandboxPage
from bot.sandbox.switches import SwitchBoard
from bot.sandbox.workspace import SandboxWorkspace
from storage.db import upgrade

HOST = LOOPBACK  # the page lets anyone who reaches it act as anyone: never beyond this machine


@dataclass(frozen=True)
class _Addresses:
    page: str
    events: str
    simulator: str | None
    moved: tuple[str, ...]


def _ready(sandbox: Sandbox, at: _Addresses) -> None:
    people = ", ".join(
        f"{p.name} ({p.title}{', approver' if p.approver else ''})" for p in sandbox.people
    )
    lines = [
        "",
        f"sis-maint sandbox: open {at.page} in a browser.",
        f"  There you are one of: {people}; type /sis-maint help to begin.",
        f"  The bot answers on {at.events}"
        + (f"; the Coursedog simulator on {at.simulator}." if at.simulator else "."),
    ]
    if sandbox.source != SANDBOX_DEFAULTS:
        lines.append(f"  Configuration: {sandbox.source}.")
    lines += [f"  {moved[0].upper()}{moved[1:]}." for moved in at.moved]
    lines += ["  Ctrl-C stops it; its ledger is a temporary SQLite file, removed then.", ""]
    print("\n".join(lines), flush=True)


def run_sandbox(
    settings: Settings,
    source: str,
    env: ProcessEnv,
    *,
    port: Port,
    page_port: Port,
    missing: str | None = None,
) -> int:
    """Serve until interrupted; returns the exit code.

    ``missing`` says which Slack variables are missing when `serve` falls back to the sandbox.
    A busy default port gives way to a free one (bot/run/ports.py); the banner says which.
    """
    try:
        sandbox = load_sandbox(settings, source, env)
    except StartupError as exc:
        raise StartupError(f"{missing}\n{exc}" if missing else str(exc)) from None
    # The page polls every second: one log line per poll would drown what the bot says.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    bot = place(HOST, port, "the bot")
    page = place(HOST, page_port, "the page")
    bot_settings, simulator_moved = place_simulator(sandbox.settings, simulator_set_by(env, source))
    moved = tuple(m for m in (page.moved, bot.moved, simulator_moved) if m)
    if missing:
        _announce_fallback()
    secret = secrets.token_hex(16)
    workspace = SandboxWorkspace(
        token=f"xoxb-sandbox-{secrets.token_hex(8)}",
        people=sandbox.people,
        channel_names=(bot_settings.approvals_channel, *sandbox.channels),
        signing_secret=secret,
        events_url=f"http://{HOST}:{bot.number}{EVENTS_PATH}",
    )
    switches = SwitchBoard(bot_settings)
    workspace.pages = SandboxPage(workspace, switches.read)
    try:
        api_url = workspace.start(HOST, page.number)
    except OSError as exc:
        raise StartupError(
            f"The sandbox page cannot listen on {HOST}:{page.number} ({exc.strerror}); "
            "set SANDBOX_PORT or pass --page-port."
        ) from None
    simulated = bot_settings.simulator
    at = _Addresses(
        page=f"{workspace.base_url}/",
        events=workspace.events_url,
        simulator=f"http://{HOST}:{simulated.port}/_sim/state" if simulated.embedded else None,
        moved=moved,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="sis-maint-sandbox-") as folder:
            ledger = f"sqlite:///{Path(folder) / 'ledger.db'}"
            upgrade(ledger)
            # The bot's Slack is the workspace, its ledger the temporary file.
            return _run_bot(
                bot_settings,
                sandbox.source,
                variables=env.variables,
                database_url=ledger,
                slack_api_url=api_url,
                token=workspace.token,
                secret=secret,
                app_token=None,
                host=HOST,
                port=bot.number,
                socket_mode=False,
                on_ready=lambda: _ready(sandbox, at),
            )
    finally:
        workspace.stop()
        switches.close()


def _run_bot(settings: Settings, source: str, **options: Any) -> int:
    try:
        return run(settings, source, **options)
    except OSError as exc:  # the simulator's port has its own message; this is the bot's
        raise StartupError(
            f"The sandbox's bot cannot listen on {HOST}:{options['port']} ({exc.strerror}); "
            "set PORT or pass --port."
        ) from None


def _announce_fallback() -> None:
    """Say that no Slack app is set up, and that the sandbox starts instead."""
    print(
        "sis-maint: no Slack app is set up (SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or "
        "SLACK_APP_TOKEN; README.md, 'Create the Slack app', makes one from manifest.yml), "
        "so the local sandbox starts instead.",
        file=sys.stderr,
        flush=True,
    )

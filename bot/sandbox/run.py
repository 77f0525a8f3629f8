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
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.process_env import ProcessEnv
from bot.run.serve import run
from bot.run.server import EVENTS_PATH
from bot.run.startup import StartupError
from bot.sandbox.config import Sandbox, load_sandbox
from bot.sandbox.page import SandboxPage
from bot.sandbox.switches import SwitchBoard
from bot.sandbox.workspace import SandboxWorkspace
from storage.db import upgrade

HOST = "127.0.0.1"  # the page lets anyone who reaches it act as anyone: never beyond this machine
DEFAULT_PAGE_PORT = 3001


def _ready(sandbox: Sandbox, page_url: str, events_url: str) -> None:
    people = ", ".join(
        f"{p.name} ({p.title}{', approver' if p.approver else ''})" for p in sandbox.people
    )
    print(
        f"\nsis-maint sandbox: open {page_url} in a browser.\n"
        f"  There you are one of: {people}; type /sis-maint help to begin.\n"
        f"  The bot answers on {events_url} and runs on {sandbox.source};\n"
        "  its ledger is a temporary SQLite file, removed when you stop it (Ctrl-C).\n",
        flush=True,
    )


def run_sandbox(
    settings: Settings,
    source: str,
    env: ProcessEnv,
    *,
    port: int,
    page_port: int = DEFAULT_PAGE_PORT,
    missing: str | None = None,
) -> int:
    """Serve the sandbox until interrupted; returns the exit code.

    ``missing`` says which Slack variables are missing when `serve` falls back to the sandbox.
    """
    try:
        sandbox = load_sandbox(settings, source, env)
    except StartupError as exc:
        raise StartupError(f"{missing}\n{exc}" if missing else str(exc)) from None
    if missing:
        _announce_fallback(missing)
    # The page polls every second: one log line per poll would drown what the bot says.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    secret = secrets.token_hex(16)
    workspace = SandboxWorkspace(
        token=f"xoxb-sandbox-{secrets.token_hex(8)}",
        people=sandbox.people,
        channel_names=(sandbox.settings.approvals_channel, *sandbox.channels),
        signing_secret=secret,
        events_url=f"http://{HOST}:{port}{EVENTS_PATH}",
    )
    switches = SwitchBoard(sandbox.settings)
    workspace.pages = SandboxPage(workspace, switches.read)
    try:
        api_url = workspace.start(HOST, page_port)
    except OSError as exc:
        raise StartupError(
            f"The sandbox page cannot listen on {HOST}:{page_port} ({exc.strerror}); "
            "set SANDBOX_PORT or pass --page-port."
        ) from None
    page_url = f"{workspace.base_url}/"
    try:
        with tempfile.TemporaryDirectory(prefix="sis-maint-sandbox-") as folder:
            ledger = f"sqlite:///{Path(folder) / 'ledger.db'}"
            upgrade(ledger)
            # The bot's Slack is the workspace, its ledger the temporary file.
            bot_env = env.model_copy(update={"slack_api_url": api_url, "database_url": ledger})
            return _run_bot(
                sandbox.settings,
                sandbox.source,
                bot_env,
                token=workspace.token,
                secret=secret,
                app_token=None,
                host=HOST,
                port=port,
                socket_mode=False,
                on_ready=lambda: _ready(sandbox, page_url, workspace.events_url),
            )
    finally:
        workspace.stop()
        switches.close()


def _run_bot(settings: Settings, source: str, env: ProcessEnv, **options: Any) -> int:
    try:
        return run(settings, source, env, **options)
    except OSError as exc:  # the simulator's port has its own message; this is the bot's
        raise StartupError(
            f"The sandbox's bot cannot listen on {HOST}:{options['port']} ({exc.strerror}); "
            "set PORT or pass --port."
        ) from None


def _announce_fallback(missing: str) -> None:
    """Say what is missing for Slack, and that the sandbox starts instead."""
    print(f"sis-maint: {missing}", file=sys.stderr)
    print(
        "sis-maint: no Slack credentials are set, so starting the local sandbox instead: "
        "the bot, the Coursedog simulator and a stand-in for Slack in your browser.",
        file=sys.stderr,
        flush=True,
    )

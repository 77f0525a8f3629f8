"""What the sandbox runs on: its people and channels, and the bot's settings for them.

With no SIS_MAINT_CONFIG the bot runs on the embedded defaults with sandbox.toml's [settings]
laid over them (an approvals channel, one approver). With a configuration file, the sandbox
runs on it as it is, as long as every environment is served on this machine (the simulator):
anyone at the page can be an approver, so it must never reach a real Coursedog.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.config import Settings, parse_settings
from bot.process_env import ProcessEnv
from bot.run.startup import StartupError

SANDBOX_DEFAULTS = "the sandbox's defaults (bot/sandbox/sandbox.toml over the embedded defaults)"


class _PersonEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[UW][A-Z0-9]{2,}$")
    name: str = Field(min_length=1, max_length=80)
    title: str = Field(default="", max_length=80)


class _SandboxFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[str] = []
    settings: dict[str, Any] = {}
    people: list[_PersonEntry] = Field(min_length=1)


@dataclass(frozen=True)
class Person:
    """Someone the page lets you be."""

    id: str
    name: str
    title: str
    approver: bool


@dataclass(frozen=True)
class Sandbox:
    """Everything the sandbox is started with."""

    settings: Settings
    source: str
    people: tuple[Person, ...]
    channels: tuple[str, ...]


def _read(package: str, name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files(package).joinpath(name).read_text("utf-8"))


def _local_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_simulated(settings: Settings) -> None:
    """Refuse any environment that is not served on this machine."""
    for name, env in settings.environments.items():
        if not _local_host(env.base_url):
            raise StartupError(
                "The sandbox only talks to a Coursedog simulator on this machine, and "
                f"environments.{name}.base_url is {env.base_url}. Create the Slack app and set "
                "its variables to run against that Coursedog."
            )


def load_sandbox(settings: Settings, source: str, env: ProcessEnv) -> Sandbox:
    """The sandbox's people, channels and settings (see the module docstring)."""
    try:
        own = _SandboxFile.model_validate(_read("bot.sandbox", "sandbox.toml"))
    except ValidationError as exc:  # the file ships with the code: a broken one is a bug
        raise StartupError(f"bot/sandbox/sandbox.toml is not valid: {exc}") from None
    if not env.config_file:
        document = {**_read("bot", "default_config.toml"), **own.settings}
        settings, source = parse_settings(document, SANDBOX_DEFAULTS), SANDBOX_DEFAULTS
    check_simulated(settings)
    approvers = set(settings.approvers).union(
        *(env.approvers for env in settings.environments.values())
    )
    people = [Person(p.id, p.name, p.title, p.id in approvers) for p in own.people]
    # A configuration file's own approvers (users, not groups) can be picked in the page too.
    known = {p.id for p in people}
    people += [
        Person(a, f"Approver {a}", "from the configuration", True)
        for a in sorted(approvers - known)
        if a[0] in "UW"
    ]
    return Sandbox(settings, source, tuple(people), tuple(own.channels))

"""Configuration: one TOML file named by SIS_MAINT_CONFIG, validated once at start.

Secrets never live in the file: it names the environment variables that hold them.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import time, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain.durations import parse_duration
from bot.domain.nightly import NightlyMerge
from bot.errors import ConfigError, InputError
from coursedog.wire import WireConfig

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
SHORT_NAME = r"^[a-z][a-z0-9_-]{0,31}$"


def _duration(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return parse_duration(value)
    except InputError as exc:
        raise ValueError(f"{value!r} is not a duration such as 45m, 2h, 1h30m or 1d") from exc


def _zone(value: Any) -> Any:
    if isinstance(value, str):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
ZoneName = Annotated[str, BeforeValidator(_zone)]
# An approver is a user (U…/W…) or a user group (S…) whose members all approve.
Approver = Annotated[str, Field(pattern=r"^[UWS][A-Z0-9]{2,}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    """Policy shared by every environment unless it says otherwise."""

    time_zone: ZoneName = "America/New_York"
    max_duration: Duration = timedelta(hours=72)
    horizon: Duration = timedelta(days=90)
    remind_before_start: Duration = timedelta(minutes=60)
    remind_before_end: Duration = timedelta(minutes=15)
    auto_reenable: bool = True
    nag_every: Duration = timedelta(minutes=30)
    escalate_after: int = Field(default=3, ge=1, le=100)


@dataclass(frozen=True)
class Policy:
    """The rules in force for one environment (its own values over the defaults)."""

    time_zone: str
    max_duration: timedelta
    horizon: timedelta
    remind_before_start: timedelta
    remind_before_end: timedelta
    auto_reenable: bool
    nag_every: timedelta
    escalate_after: int


class EnvironmentConfig(_Strict):
    """One Coursedog instance (staging, production, sandbox)."""

    label: str = Field(min_length=1, max_length=80)
    base_url: str = Field(pattern=r"^https?://[^\s/]+(:\d+)?/?$")
    school: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    driver: Literal["api", "assisted"] = "api"
    email_env: str = Field(pattern=ENV_NAME)
    password_env: str = Field(pattern=ENV_NAME)
    aliases: list[Annotated[str, Field(pattern=SHORT_NAME)]] = []
    time_zone: ZoneName | None = None
    max_duration: Duration | None = None
    horizon: Duration | None = None
    remind_before_start: Duration | None = None
    remind_before_end: Duration | None = None
    auto_reenable: bool | None = None
    nag_every: Duration | None = None
    escalate_after: int | None = Field(default=None, ge=1, le=100)
    approvers: list[Approver] = []

    def credentials(self, name: str, environ: Mapping[str, str]) -> tuple[str, SecretStr]:
        """Email and password from the environment, or a ConfigError naming what is missing."""
        missing = [v for v in (self.email_env, self.password_env) if not environ.get(v)]
        if missing:
            raise ConfigError(
                f"environments.{name}: set {' and '.join(missing)} "
                "(the Coursedog service user's email and password)"
            )
        return environ[self.email_env], SecretStr(environ[self.password_env])


class NightlyMergeConfig(_Strict):
    """When Coursedog's nightly merge usually runs (windows that cover it get a warning)."""

    start: str = Field(default="01:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(default="03:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    time_zone: ZoneName = "America/New_York"

    def span(self) -> NightlyMerge:
        """As a domain value."""
        return NightlyMerge(
            time.fromisoformat(self.start), time.fromisoformat(self.end), self.time_zone
        )


class MergeWatchConfig(_Strict):
    """After restoring: how often to look for the first merge, and when to stop and remind."""

    every: Duration = timedelta(minutes=15)
    give_up_after: Duration = timedelta(hours=26)


class SimulatorConfig(_Strict):
    """A Coursedog simulator started inside the bot (demo and sandbox only)."""

    embedded: bool = False
    port: int = Field(default=8787, ge=0, le=65535)
    demo_email: str = "integration@example.edu"
    demo_password: str = "demo-password"  # noqa: S105 - the simulator's own demo user


class Settings(_Strict):
    """The whole validated configuration."""

    approvals_channel: str = Field(min_length=1, max_length=80)
    approvers: list[Approver] = []
    defaults: Defaults = Defaults()
    environments: dict[Annotated[str, Field(pattern=SHORT_NAME)], EnvironmentConfig]
    coursedog_api: dict[str, str | bool] = {}
    simulator: SimulatorConfig = SimulatorConfig()
    nightly_merge: NightlyMergeConfig = NightlyMergeConfig()
    merge_watch: MergeWatchConfig = MergeWatchConfig()
    reconcile_interval_seconds: int = Field(default=60, ge=5, le=3600)
    watchdog_interval_seconds: int = Field(default=300, ge=10, le=86400)
    scheduler_poll_seconds: float = Field(default=5.0, ge=0.05, le=300)
    # How long a due action, and an environment being reconciled, stay with the process that
    # took them before another may take over (the first one died or stalled).
    action_lease_seconds: int = Field(default=120, ge=1, le=3600)
    environment_lease_seconds: int = Field(default=300, ge=1, le=3600)

    @field_validator("environments")
    @classmethod
    def _at_least_one(cls, value: dict[str, EnvironmentConfig]) -> dict[str, EnvironmentConfig]:
        if not value:
            raise ValueError("define at least one environment")
        return value

    @field_validator("coursedog_api")
    @classmethod
    def _wire_valid(cls, value: dict[str, str | bool]) -> dict[str, str | bool]:
        WireConfig.from_mapping(value)  # raises ValueError naming the key
        return value

    def wire(self) -> WireConfig:
        """The Coursedog paths and field names, with this deployment's overrides."""
        return WireConfig.from_mapping(self.coursedog_api)

    @model_validator(mode="after")
    def _names_unique(self) -> Settings:
        seen: dict[str, str] = {}
        for name, env in self.environments.items():
            for alias in (name, *env.aliases):
                if alias in seen and seen[alias] != name:
                    raise ValueError(f"name or alias {alias!r} is used by {seen[alias]} and {name}")
                seen[alias] = name
        return self

    def environment_names(self) -> dict[str, str]:
        """Lower-case names and aliases -> canonical environment name."""
        names: dict[str, str] = {}
        for name, env in self.environments.items():
            names[name] = name
            names.update({alias: name for alias in env.aliases})
        return names

    def policy(self, env: str) -> Policy:
        """The environment's own policy values, falling back to the defaults."""
        own, base = self.environments[env], self.defaults

        def pick(name: str) -> Any:
            value = getattr(own, name, None)
            return getattr(base, name) if value is None else value

        return Policy(**{f.name: pick(f.name) for f in fields(Policy)})

    def window_policy(self, environments: Sequence[str]) -> Policy:
        """The strictest combination for a window over several environments."""
        each = [self.policy(env) for env in environments]
        return Policy(
            time_zone=each[0].time_zone,
            max_duration=min(p.max_duration for p in each),
            horizon=min(p.horizon for p in each),
            remind_before_start=max(p.remind_before_start for p in each),
            remind_before_end=max(p.remind_before_end for p in each),
            auto_reenable=all(p.auto_reenable for p in each),
            nag_every=min(p.nag_every for p in each),
            escalate_after=min(p.escalate_after for p in each),
        )

    def time_zone(self, env: str) -> str:
        """The environment's zone, else the default zone."""
        return self.policy(env).time_zone

    def max_duration(self, env: str) -> timedelta:
        """The longest window the environment's policy allows."""
        return self.policy(env).max_duration

    def approvers_for(self, env: str) -> frozenset[str]:
        """Slack user ids who may approve a window on ``env``."""
        return frozenset(self.approvers) | frozenset(self.environments[env].approvers)


def _format(exc: ValidationError, source: str) -> str:
    lines = [f"{source} is not valid:"]
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def parse_settings(data: Mapping[str, Any], source: str = "configuration") -> Settings:
    """Validate a parsed document; errors name each offending key."""
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_format(exc, source)) from None


def load_settings(environ: Mapping[str, str] | None = None) -> tuple[Settings, str]:
    """Load SIS_MAINT_CONFIG's file, else the embedded defaults; return them and their source."""
    environ = os.environ if environ is None else environ
    path = environ.get("SIS_MAINT_CONFIG")
    if not path:
        text = resources.files("bot").joinpath("default_config.toml").read_text("utf-8")
        return parse_settings(tomllib.loads(text), "embedded defaults"), "embedded defaults"
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(
            f"SIS_MAINT_CONFIG names {path}, which cannot be read: {exc.strerror}"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_settings(data, path), path

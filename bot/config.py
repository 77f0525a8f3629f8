"""Configuration: one TOML file named by SIS_MAINT_CONFIG, validated once at start.

Secrets never live in the file: it names the environment variables that hold them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.config_errors import Loc, at_keys, closest, explain
from bot.domain.durations import parse_duration
from bot.domain.env_names import EnvironmentNames
from bot.domain.nightly import NightlyMerge
from bot.domain.webhooks import EventType
from bot.errors import ConfigError, InputError
from bot.process_env import ProcessEnv
from coursedog.wire import WireConfig

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
# Coursedog's production host (staging instances live on staging.coursedog.com).
PRODUCTION_HOST = "app.coursedog.com"
SHORT_NAME = r"^[a-z][a-z0-9_-]{0,31}$"
MIN_TOKEN = 20


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
# The most approvals a window may need (``approvals_required``).
MAX_APPROVALS = 3


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
    # How many approvers, none of them the requester, must approve a window.
    approvals_required: int = Field(default=1, ge=1, le=MAX_APPROVALS)


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
    approvals_required: int


class EnvironmentConfig(_Strict):
    """One Coursedog instance (staging, production, sandbox)."""

    label: str = Field(min_length=1, max_length=80)
    base_url: str = Field(pattern=r"^https?://[^\s/]+(:\d+)?/?$")
    school: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    # "auto": the bot writes once the environment's write contract is learned from a recording
    # or verified (sis-maint coursedog learn / verify-writes), a person switches by hand until
    # then; "api": the bot writes, even the assumed calls; "assisted": a person always does.
    driver: Literal["auto", "api", "assisted"] = "auto"
    # Whether this is a production instance (verify-writes refuses it unless told plainly);
    # unset: whether its host is Coursedog's production host, app.coursedog.com.
    production: bool | None = None
    # The Coursedog service user; an assisted environment without one is confirmed by people.
    email_env: str | None = Field(default=None, pattern=ENV_NAME)
    password_env: str | None = Field(default=None, pattern=ENV_NAME)
    aliases: list[Annotated[str, Field(pattern=SHORT_NAME)]] = []
    time_zone: ZoneName | None = None
    max_duration: Duration | None = None
    horizon: Duration | None = None
    remind_before_start: Duration | None = None
    remind_before_end: Duration | None = None
    auto_reenable: bool | None = None
    nag_every: Duration | None = None
    escalate_after: int | None = Field(default=None, ge=1, le=100)
    approvals_required: int | None = Field(default=None, ge=1, le=MAX_APPROVALS)
    approvers: list[Approver] = []

    @model_validator(mode="after")
    def _credentials_named(self) -> EnvironmentConfig:
        if bool(self.email_env) != bool(self.password_env):
            raise ValueError("set both email_env and password_env, or neither")
        if self.driver == "api" and not self.email_env:
            raise ValueError(
                "the api driver needs email_env and password_env (a Coursedog API user); "
                'without one, use driver = "assisted"'
            )
        return self

    @property
    def is_production(self) -> bool:
        """Whether this environment is a production instance (see ``production``)."""
        if self.production is not None:
            return self.production
        return self.host == PRODUCTION_HOST

    @property
    def host(self) -> str:
        """The Coursedog host (with its port, if any) in lower case, e.g. app.coursedog.com."""
        return urlsplit(self.base_url).netloc.lower()

    @property
    def reads(self) -> bool:
        """Whether the bot can read this environment's schedule (it has an API user)."""
        return bool(self.email_env and self.password_env)

    def credentials(self, name: str, variables: Mapping[str, str]) -> tuple[str, SecretStr]:
        """Email and password from the environment, or a ConfigError naming what is missing."""
        assert self.email_env and self.password_env
        missing = [v for v in (self.email_env, self.password_env) if not variables.get(v)]
        if missing:
            raise ConfigError(
                f"environments.{name}: set {' and '.join(missing)} "
                "(the Coursedog service user's email and password)"
            )
        return variables[self.email_env], SecretStr(variables[self.password_env])


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
    # At a window's start: how long the read of what merges are running may hold the
    # switch-off back, and how often a merge found running is looked at until it finishes.
    start_read_seconds: float = Field(default=3.0, gt=0, le=30)
    running_every: Duration = timedelta(minutes=5)


EMAIL = r"^[^@\s<>]+@[^@\s<>]+$"


class CoursedogNoticeConfig(_Strict):
    """Step 1 of the runbook: where the notice to Coursedog goes, and how it is mailed.

    Without ``smtp_host`` every notice is drafted in the window's thread with a "Sent it"
    button, for a person to send by their own mail or ticket. An Activity comment cites the
    approval notice only once it is sent (or a person pressed "Sent it"); it waits for that at
    most ``comment_wait_seconds``, then goes out saying the notice is not sent yet.
    """

    to: str | None = Field(default=None, pattern=EMAIL)
    cc: list[Annotated[str, Field(pattern=EMAIL)]] = []
    sender: str = Field(default="sis-maint@localhost", pattern=EMAIL)
    smtp_host: str | None = Field(default=None, min_length=1, max_length=253)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username_env: str | None = Field(default=None, pattern=ENV_NAME)
    password_env: str | None = Field(default=None, pattern=ENV_NAME)
    timeout_seconds: float = Field(default=15.0, gt=0, le=300)
    comment_wait_seconds: float = Field(default=300.0, ge=0, le=86400)

    @model_validator(mode="after")
    def _mail_needs_recipient(self) -> CoursedogNoticeConfig:
        if self.smtp_host and not self.to:
            raise ValueError("smtp_host is set, so `to` (Coursedog's support address) is needed")
        if bool(self.username_env) != bool(self.password_env):
            raise ValueError("set both username_env and password_env, or neither")
        return self

    @property
    def mails(self) -> bool:
        """Whether notices are emailed (else drafted for a person)."""
        return bool(self.smtp_host and self.to)


class AssistedConfig(_Strict):
    """By-hand checklists: how long a Done button waits for a read of Coursedog to agree."""

    verify_reads: int = Field(default=6, ge=1, le=60)
    verify_every_seconds: float = Field(default=5.0, ge=0, le=120)


def _local_moment(value: Any) -> Any:
    """``2027-01-11``, ``2027-01-11 08:00`` or a TOML local date / date-time."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a date (2027-01-11) or a date-time (2027-01-11 08:00)"
            ) from None
    if isinstance(value, datetime) and value.tzinfo is not None:
        raise ValueError("give a local date or date-time; the zone comes from time_zone")
    return value


LocalMoment = Annotated[datetime | date, BeforeValidator(_local_moment)]


class BlackoutConfig(_Strict):
    """A period in which no window may be requested (an approver may override with a reason).

    A date covers the whole day in ``time_zone``; an end date is included.
    """

    name: str = Field(min_length=1, max_length=120)
    start: LocalMoment
    end: LocalMoment
    # Environments, aliases or groups, as the file has them; once validated, the environments
    # they stand for, each once (see Settings._blackouts_valid). Empty: every environment.
    environments: list[str] = []
    time_zone: ZoneName | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> BlackoutConfig:
        def moment(value: date, end: bool) -> datetime:
            if isinstance(value, datetime):
                return value.replace(tzinfo=None)
            return datetime.combine(value + timedelta(days=1 if end else 0), time(0))

        if moment(self.end, True) <= moment(self.start, False):
            raise ValueError("end must be after start")
        return self


class SeriesConfig(_Strict):
    """Recurring windows: how long before its start an occurrence is scheduled (and Coursedog
    told about it)."""

    lookahead: Duration = timedelta(days=7)

    @field_validator("lookahead")
    @classmethod
    def _sensible(cls, value: timedelta) -> timedelta:
        if not timedelta(hours=1) <= value <= timedelta(days=31):
            raise ValueError("lookahead must be between 1h and 31d")
        return value


class SimulatorConfig(_Strict):
    """A Coursedog simulator started inside the bot (demo and sandbox only)."""

    embedded: bool = False
    port: int = Field(default=8787, ge=0, le=65535)
    demo_email: str = "integration@example.edu"
    demo_password: str = "demo-password"  # noqa: S105 - the simulator's own demo user


class CalendarConfig(_Strict):
    """The .ics feed of windows; served only when ``token_env`` names a variable that is set."""

    token_env: str | None = Field(default=None, pattern=ENV_NAME)
    recent: Duration = timedelta(days=7)
    refresh: Duration = timedelta(minutes=15)
    uid_domain: str = Field(default="sis-maint", pattern=r"^[A-Za-z0-9.-]{1,100}$")

    def token(self, variables: Mapping[str, str]) -> SecretStr | None:
        """The feed's secret, None when the feed is off; a ConfigError when it is unusable."""
        if self.token_env is None:
            return None
        value = variables.get(self.token_env, "")
        if not value:
            raise ConfigError(f"calendar.token_env: set {self.token_env} (the feed's secret)")
        if len(value) < MIN_TOKEN or not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ConfigError(
                f"calendar.token_env: {self.token_env} must be at least {MIN_TOKEN} letters, "
                "digits, '-' or '_'; make one with "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return SecretStr(value)


class LoggingConfig(_Strict):
    """How log lines look; LOG_FORMAT in the environment wins over ``format``."""

    format: Literal["text", "json"] = "text"


class SlackConfig(_Strict):
    """Which Slack workspace and app requests must come from (optional: unset, any)."""

    team_id: str | None = Field(default=None, pattern=r"^T[A-Z0-9]{2,}$")
    api_app_id: str | None = Field(default=None, pattern=r"^A[A-Z0-9]{2,}$")


# Plain http only to this machine (a receiver under test or in development).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class WebhookConfig(_Strict):
    """One endpoint that hears of window changes: a signed JSON POST per event.

    ``events`` keeps only those kinds (none: every kind); the secret that signs the requests
    is read from the variable ``secret_env`` names.
    """

    name: str = Field(pattern=SHORT_NAME)
    url: str = Field(min_length=1, max_length=2000)
    secret_env: str = Field(pattern=ENV_NAME)
    events: list[EventType] = []

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        if not host or parts.scheme not in ("https", "http"):
            # The URL is not repeated: webhook URLs often carry a token (Teams, Statuspage).
            raise ValueError("must be an https:// URL with a host")
        if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
            raise ValueError("use https:// (plain http is allowed only to localhost)")
        if parts.username or parts.password:
            raise ValueError("put no user or password in the URL; requests are signed instead")
        return value

    def wants(self, event: str) -> bool:
        """Whether this endpoint hears of events of kind ``event``."""
        return not self.events or event in self.events

    def secret(self, variables: Mapping[str, str]) -> SecretStr:
        """The signing secret from the environment, or a ConfigError naming the variable."""
        value = variables.get(self.secret_env, "")
        if len(value) < MIN_TOKEN:
            raise ConfigError(
                f"webhooks.{self.name}: set {self.secret_env} to the endpoint's signing secret, "
                f"at least {MIN_TOKEN} characters; make one with "
                "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return SecretStr(value)


class WebhookDeliveryConfig(_Strict):
    """How webhooks are delivered: retries with backoff, and when an endpoint counts as down."""

    poll_seconds: float = Field(default=2.0, ge=0.05, le=300)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    first_retry_seconds: float = Field(default=10.0, ge=0.01, le=3600)
    max_retry_seconds: float = Field(default=3600.0, ge=0.01, le=86400)
    # A delivery is given up after this many attempts, or once its event is this old.
    max_attempts: int = Field(default=20, ge=1, le=1000)
    give_up_after: Duration = timedelta(days=2)
    # This many failed attempts in a row make an endpoint "down": said once in the approvals
    # channel, and once more when a delivery succeeds again.
    report_after: int = Field(default=5, ge=1, le=1000)
    # Events whose deliveries are over are forgotten this long after they happened.
    keep: Duration = timedelta(days=30)


ApiRole = Literal["read", "request", "approve-for-tickets"]
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class ApiToken(_Strict):
    """One caller of the HTTP API: its name (in the audit trail and on cards), the variable
    that holds the SHA-256 of its bearer token (hex), and what it may do."""

    name: str = Field(pattern=SHORT_NAME)
    hash_env: str = Field(pattern=ENV_NAME)
    roles: list[ApiRole] = Field(min_length=1)


class ApiConfig(_Strict):
    """The HTTP API under /api/v1 (docs/api.md); off while no token is configured."""

    tokens: list[ApiToken] = []

    @field_validator("tokens")
    @classmethod
    def _names_unique(cls, value: list[ApiToken]) -> list[ApiToken]:
        seen: set[str] = set()
        for i, token in enumerate(value):
            if token.name in seen:
                raise ValueError(f"token {i}: the name {token.name!r} is used twice")
            seen.add(token.name)
        return value

    def hashes(self, variables: Mapping[str, str]) -> dict[str, str]:
        """Each token's name -> the SHA-256 (hex) of its secret, read from ``variables``; a
        ConfigError names the variable that is unset or holds no such hash."""
        found: dict[str, str] = {}
        for i, token in enumerate(self.tokens):
            value = variables.get(token.hash_env, "").strip().lower()
            where = f"api.tokens[{i}].hash_env"
            if not value:
                raise ConfigError(
                    f"{where}: set {token.hash_env} (the SHA-256 of token {token.name}'s "
                    "secret; `sis-maint api hash-token` makes one)"
                )
            if not SHA256_HEX.match(value):
                raise ConfigError(
                    f"{where}: {token.hash_env} must be a SHA-256 in hex (64 characters 0-9, "
                    "a-f), not the token itself; `sis-maint api hash-token` makes one"
                )
            found[token.name] = value
        return found


class Settings(_Strict):
    """The whole validated configuration."""

    approvals_channel: str = Field(min_length=1, max_length=80)
    approvers: list[Approver] = []
    defaults: Defaults = Defaults()
    environments: dict[Annotated[str, Field(pattern=SHORT_NAME)], EnvironmentConfig]
    # Named sets of environments (``all-colleges = ["qns", "bmcc"]``), usable wherever a list
    # of environments is: ``start all-colleges 2h``.
    groups: dict[Annotated[str, Field(pattern=SHORT_NAME)], list[str]] = {}
    # How many environments on one Coursedog host a pass switches at once.
    switches_per_host: int = Field(default=4, ge=1, le=64)
    # Each environment's policy, once made (see policy).
    _policies: dict[str, tuple[EnvironmentConfig, Defaults, Policy]] = PrivateAttr(
        default_factory=dict
    )
    coursedog_api: dict[str, str | bool] = {}
    # Per host (app.coursedog.com, staging.coursedog.com): settings of [coursedog_api] that
    # differ there; the host's own value wins.
    coursedog_hosts: dict[str, dict[str, str | bool]] = {}
    simulator: SimulatorConfig = SimulatorConfig()
    nightly_merge: NightlyMergeConfig = NightlyMergeConfig()
    merge_watch: MergeWatchConfig = MergeWatchConfig()
    coursedog_notice: CoursedogNoticeConfig = CoursedogNoticeConfig()
    assisted: AssistedConfig = AssistedConfig()
    slack: SlackConfig = SlackConfig()
    reconcile_interval_seconds: int = Field(default=60, ge=5, le=3600)
    watchdog_interval_seconds: int = Field(default=300, ge=10, le=86400)
    scheduler_poll_seconds: float = Field(default=5.0, ge=0.05, le=300)
    # /healthz fails for a background loop with no completed pass for three of its intervals,
    # and never sooner than this: a pass may wait this long on a slow Coursedog or Slack.
    loop_stale_seconds: float = Field(default=300.0, ge=1, le=86400)
    # How many due actions of different windows one process runs at once.
    scheduler_threads: int = Field(default=8, ge=1, le=32)
    calendar: CalendarConfig = CalendarConfig()
    logging: LoggingConfig = LoggingConfig()
    blackouts: list[BlackoutConfig] = []
    api: ApiConfig = ApiConfig()
    series: SeriesConfig = SeriesConfig()
    webhooks: list[WebhookConfig] = []
    webhook_delivery: WebhookDeliveryConfig = WebhookDeliveryConfig()
    # How long a due action, and an environment being reconciled, stay with the process that
    # took them before another may take over (the first one died or stalled).
    action_lease_seconds: int = Field(default=120, ge=1, le=3600)
    environment_lease_seconds: int = Field(default=300, ge=1, le=3600)
    # How long a schedule write whose answer was lost may still reach Coursedog: a restore
    # made meanwhile is watched that long, and restored again if the late write lands.
    late_write_seconds: int = Field(default=900, ge=0, le=86400)

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

    @field_validator("coursedog_hosts")
    @classmethod
    def _hosts_valid(
        cls, value: dict[str, dict[str, str | bool]], info: ValidationInfo
    ) -> dict[str, dict[str, str | bool]]:
        if "environments" not in info.data:
            return value  # the environments have errors of their own: nothing to compare with
        in_use = {env.host for env in info.data["environments"].values()}
        for host, table in value.items():
            if host.lower() not in in_use:
                known = ", ".join(sorted(in_use)) or "none"
                raise ValueError(f"{host}: no environment is on this host (in use: {known})")
            try:
                WireConfig.from_mapping({**info.data.get("coursedog_api", {}), **table})
            except ValueError as exc:
                raise ValueError(f"{host}: {exc}") from None
        return value

    def wire(self, environment: str | None = None) -> WireConfig:
        """The Coursedog paths and field names, with this deployment's overrides (and those of
        the environment's host, when one is named)."""
        table = dict(self.coursedog_api)
        if environment is not None:
            host = self.environments[environment].host
            for name, overrides in self.coursedog_hosts.items():
                if name.lower() == host:
                    table.update(overrides)
        return WireConfig.from_mapping(table)

    @model_validator(mode="after")
    def _enough_approvers(self) -> Settings:
        for name, env in self.environments.items():
            required = self.policy(name).approvals_required
            listed = self.approvers_for(name)
            if len(listed) >= required or not listed or any(a.startswith("S") for a in listed):
                continue  # enough, none yet (nobody can approve), or a group of unknown size
            key = (
                f"environments.{name}.approvals_required"
                if env.approvals_required
                else "defaults.approvals_required"
            )
            raise ValueError(
                f"{key} is {required}, but {name} has only {len(listed)} approver"
                f"{'s' if len(listed) != 1 else ''} listed, so no window there could be "
                "approved: list more approvers, or a user group"
            )
        return self

    @model_validator(mode="after")
    def _names_unique(self) -> Settings:
        seen: dict[str, str] = {}
        for name, env in self.environments.items():
            for alias in (name, *env.aliases):
                if alias in seen and seen[alias] != name:
                    raise ValueError(f"name or alias {alias!r} is used by {seen[alias]} and {name}")
                seen[alias] = name
        return self

    @model_validator(mode="after")
    def _groups_valid(self) -> Settings:
        names = self.environment_names()
        for group, members in self.groups.items():
            if group in names:
                raise ValueError(
                    f"groups.{group}: the name is taken by the environment {names[group]}"
                )
            if not members:
                raise ValueError(f"groups.{group}: name at least one environment")
            canonical: list[str] = []
            for member in members:
                name = names.get(member.strip().lower())
                if name is None:
                    known = ", ".join(sorted(self.environments))
                    raise ValueError(f"groups.{group}: no environment {member!r} (known: {known})")
                if name in canonical:
                    raise ValueError(f"groups.{group}: {name} is listed twice")
                canonical.append(name)
        return self

    @field_validator("blackouts")
    @classmethod
    def _blackouts_valid(
        cls, value: list[BlackoutConfig], info: ValidationInfo
    ) -> list[BlackoutConfig]:
        """Each period's name once, and each name in its environments an environment, an alias
        or a group: the period then covers the environments they stand for, each once, as if
        they had been listed."""
        # With errors in the environments or the groups, their names are not all known: no
        # error about them. A group with an unknown member, or none, is refused on its own
        # (_groups_valid), so no period over it becomes one over every environment.
        known = None
        if "environments" in info.data and "groups" in info.data:
            known = _environment_names(info.data["environments"], info.data["groups"])
        found: list[tuple[Loc, Any, str]] = []
        first: dict[str, int] = {}
        for i, period in enumerate(value):
            if first.setdefault(period.name.lower(), i) != i:
                found.append(((i, "name"), period.name, f"the name {period.name!r} is used twice"))
            if known is None:
                continue
            for j, name in enumerate(period.environments):
                if known.stands_for(name) is None:
                    found.append(((i, "environments", j), name, _not_a_name(name, known)))
        if known is not None:
            value = [
                p.model_copy(update={"environments": list(known.covered(p.environments))})
                for p in value
            ]
        if found:
            raise at_keys(cls.__name__, found)
        return value

    def with_simulator_port(self, port: int) -> Settings:
        """These settings with the embedded simulator on ``port``, and the environments it
        served on its old port served on the new one."""
        old = {f"127.0.0.1:{self.simulator.port}", f"localhost:{self.simulator.port}"}
        environments = {}
        for name, env in self.environments.items():
            parts = urlsplit(env.base_url)
            moved = parts._replace(netloc=f"{parts.hostname}:{port}").geturl()
            here = parts.netloc.lower() in old
            environments[name] = env.model_copy(update={"base_url": moved}) if here else env
        simulator = self.simulator.model_copy(update={"port": port})
        return self.model_copy(update={"simulator": simulator, "environments": environments})

    @field_validator("webhooks")
    @classmethod
    def _webhook_names_unique(cls, value: list[WebhookConfig]) -> list[WebhookConfig]:
        names = [hook.name for hook in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"the webhook name {name!r} is used twice")
        return value

    def environment_names(self) -> EnvironmentNames:
        """Lower-case names and aliases -> canonical environment name, with the groups."""
        return _environment_names(self.environments, self.groups)

    def hosts(self) -> dict[str, str]:
        """Environment -> its Coursedog host (environments on one host share its bound)."""
        return {name: env.host for name, env in self.environments.items()}

    def policy(self, env: str) -> Policy:
        """The environment's own policy values, falling back to the defaults."""
        own, base = self.environments[env], self.defaults
        # Kept per environment with the (immutable) objects it was made of: a copy of these
        # settings with other environments or defaults makes its own.
        kept = self._policies.get(env)
        if kept is not None and kept[0] is own and kept[1] is base:
            return kept[2]

        def pick(name: str) -> Any:
            value = getattr(own, name, None)
            return getattr(base, name) if value is None else value

        made = Policy(**{f.name: pick(f.name) for f in fields(Policy)})
        self._policies[env] = (own, base, made)
        return made

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
            approvals_required=max(p.approvals_required for p in each),
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


def _environment_names(
    environments: Mapping[str, EnvironmentConfig], groups: Mapping[str, Sequence[str]]
) -> EnvironmentNames:
    """Lower-case names and aliases -> canonical environment name, and each group with its
    members among them (every member, once validation has passed)."""
    names: dict[str, str] = {}
    for name, env in environments.items():
        names[name] = name
        names.update({alias: name for alias in env.aliases})
    members = {
        group: tuple(names[m.strip().lower()] for m in listed if m.strip().lower() in names)
        for group, listed in groups.items()
    }
    return EnvironmentNames(names, members)


def _not_a_name(given: str, known: EnvironmentNames) -> str:
    """What to say of a name in a list of environments that is no environment, alias or group."""
    close = closest(given.strip().lower(), [*known, *known.groups])
    if close is not None:
        return f"{given!r} is not an environment, alias or group: did you mean {close!r}?"
    listing = "environments: " + ", ".join(sorted(set(known.values())))
    if known.groups:
        listing += "; groups: " + ", ".join(sorted(known.groups))
    return f"{given!r} is not an environment, alias or group ({listing})"


def parse_settings(data: Mapping[str, Any], source: str = "configuration") -> Settings:
    """Validate a parsed document; errors name each offending key."""
    try:
        return Settings.model_validate(dict(data))
    except ValidationError as exc:
        lines = explain(exc, data, Settings)
        raise ConfigError("\n  ".join([f"{source} is not valid:", *lines])) from None


def load_settings(env: ProcessEnv, path: str | None = None) -> tuple[Settings, str]:
    """Load ``path`` if given, else SIS_MAINT_CONFIG's file, else the embedded defaults; return
    them and their source."""
    named = f"{path}" if path else f"SIS_MAINT_CONFIG names {env.config_file}, which"
    path = path or env.config_file
    if not path:
        text = resources.files("bot").joinpath("default_config.toml").read_text("utf-8")
        return parse_settings(tomllib.loads(text), "embedded defaults"), "embedded defaults"
    file = Path(path)
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{named} cannot be read: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_settings(data, path), path

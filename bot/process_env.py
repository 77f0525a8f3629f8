"""The process environment, read once at the entry point (bot.cli) and passed down.

The variables the bot itself reads are validated fields (README.md, section 'Configure', lists
them); a bad value is a ConfigError naming the variable. The TOML configuration names further
variables (Coursedog credentials, the SMTP login, the calendar feed's token): those are looked
up in ``variables``, the environment as it was read.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from bot.errors import ConfigError
from storage.db import DEFAULT_DATABASE_URL


class ProcessEnv(BaseSettings):
    """What the environment says; blank values count as unset."""

    model_config = SettingsConfigDict(case_sensitive=True, frozen=True, extra="ignore")

    config_file: str | None = Field(None, alias="SIS_MAINT_CONFIG")
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL", repr=False)
    host: str = Field("127.0.0.1", alias="HOST")
    port: int = Field(3000, alias="PORT", ge=0, le=65535)
    sandbox_port: int = Field(3001, alias="SANDBOX_PORT", ge=0, le=65535)
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, alias="SLACK_API_URL")
    # Where `sis-maint window ...` finds a running bot's API, and its bearer token.
    api_url: str | None = Field(None, alias="SIS_MAINT_API_URL")
    api_token: SecretStr | None = Field(None, alias="SIS_MAINT_API_TOKEN")
    log_format: Literal["text", "json"] | None = Field(None, alias="LOG_FORMAT")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    _variables: Mapping[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> ProcessEnv:
        """Validate ``environ`` (the process's when None, or one a test makes); a ConfigError
        names each variable whose value is not usable."""
        given = os.environ if environ is None else environ
        variables = {name: value for name, value in given.items() if value.strip()}
        try:
            env = cls(_build_sources=((_Given(cls, variables),), {}))
        except ValidationError as exc:
            raise ConfigError(_explain(exc)) from None
        env._variables = MappingProxyType(variables)
        return env

    @property
    def variables(self) -> Mapping[str, str]:
        """Every variable that is set (not blank), for those the configuration names."""
        return self._variables

    def with_defaults(self, **fields: Any) -> ProcessEnv:
        """A copy in which the fields the environment does not set take these values (a
        command's own defaults, such as a quieter LOG_LEVEL)."""
        unset = {name: value for name, value in fields.items() if name not in self.model_fields_set}
        return self.model_copy(update=unset)

    @field_validator("log_format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        if value is None:
            return None
        chosen = str(value).strip().lower()
        if chosen not in ("text", "json"):
            raise ValueError(f"LOG_FORMAT must be json or text, not {chosen!r}")
        return chosen

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        level = str(value).strip().upper()
        if not isinstance(logging.getLevelName(level), int):
            raise ValueError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
        return level

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "host",
        "api_url",
        "api_token",
        mode="before",
    )
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


class _Given(EnvSettingsSource):
    """The environment source over a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = dict(environ)
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(self._given, case_sensitive=True)


def _explain(exc: ValidationError) -> str:
    """One part per bad variable, naming it and what it holds (none of these is a secret)."""
    parts = []
    for err in exc.errors():
        name = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if message.startswith(name):  # LOG_FORMAT, LOG_LEVEL: already says it
            parts.append(message)
        else:
            parts.append(f"{name} must be {_WANTED.get(name, message)}, not {err['input']!r}")
    return "; ".join(parts)


_WANTED = {
    "PORT": "a port number (0-65535)",
    "SANDBOX_PORT": "a port number (0-65535)",
}

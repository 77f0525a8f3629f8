"""The bot's runtime built inside the benchmark process, for measurements below the HTTP layer."""

from __future__ import annotations

import tomllib

from bench.slack import SIGNING_SECRET
from bench.stack import EMAIL, PASSWORD, Services, settings_toml
from bot.config import Settings, parse_settings
from bot.run.clients import coursedog_clients, slack_client
from bot.run.runtime import Runtime
from bot.run.wiring import build_runtime


def bench_settings(services: Services) -> Settings:
    """The benchmark configuration (see bench.stack.settings_toml)."""
    return parse_settings(tomllib.loads(settings_toml(services.coursedog_url)))


def runtime(services: Services, database_url: str, owner: str) -> Runtime:
    """A runtime wired as ``sis-maint serve`` wires it; the caller starts and stops it."""
    settings = bench_settings(services)
    clients = coursedog_clients(settings, {"CD_EMAIL": EMAIL, "CD_PASSWORD": PASSWORD})
    return build_runtime(
        settings,
        slack=slack_client(services.slack.token, services.slack_api),
        signing_secret=SIGNING_SECRET,
        clients=clients,
        database_url=database_url,
        owner=owner,
    )

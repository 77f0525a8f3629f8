"""The clients the bot talks through: Slack's Web API, and one per Coursedog environment."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.config import Settings
from bot.errors import ConfigError
from coursedog.client import CoursedogClient
from coursedog.contract import WriteContract
from coursedog.session import SessionPool
from coursedog.wire import merge_settings_link

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def slack_client(token: str, api_url: str | None = None) -> WebClient:
    """A Web API client; ``api_url`` (SLACK_API_URL) points it at GovSlack or a stand-in."""
    base = (api_url or DEFAULT_SLACK_API_URL).rstrip("/") + "/"
    client = WebClient(token=token, base_url=base)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def coursedog_clients(
    settings: Settings,
    variables: Mapping[str, str],
    *,
    pool: SessionPool | None = None,
    only: Collection[str] | None = None,
    contracts: Mapping[str, WriteContract] | None = None,
) -> dict[str, CoursedogClient]:
    """One client per environment with an API user (of those in ``only``, when given), with
    credentials from the variables it names, writing as the environment's stored contract says
    (without one, the assumed way).

    Environments on one host with the same user share one session: one login serves them all.
    """
    contracts = contracts or {}
    pool = pool or SessionPool()
    clients: dict[str, CoursedogClient] = {}
    try:
        for name, env in settings.environments.items():
            if not env.reads or (only is not None and name not in only):
                continue  # an assisted environment without an API user: people confirm each step
            email, password = env.credentials(name, variables)
            wire = settings.wire(name)
            try:
                session = pool.session(
                    base_url=env.base_url,
                    email=email,
                    password=password.get_secret_value(),
                    wire=wire,
                )
            except ValueError as exc:
                raise ConfigError(f"environments.{name}: {exc}") from None
            clients[name] = CoursedogClient(
                school=env.school, session=session, wire=wire, contract=contracts.get(name)
            )
    except BaseException:
        for client in clients.values():
            client.close()
        raise
    return clients


def merge_settings_links(settings: Settings) -> dict[str, str]:
    """Environment -> its Merge Settings page in the Coursedog web app."""
    return {
        name: merge_settings_link(urlsplit(env.base_url).netloc, env.school, settings.wire(name))
        for name, env in settings.environments.items()
    }

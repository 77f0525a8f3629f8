"""Starting the bot for real: simulator (when embedded), database checks, Slack, serving."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Callable, Mapping
from types import FrameType

from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.run.clients import coursedog_clients, slack_client
from bot.run.contracts import write_contracts
from bot.run.server import serve_http, serve_socket_mode
from bot.run.startup import StartupError, check_database, simulator_variables
from bot.run.wiring import build_runtime

log = logging.getLogger(__name__)


def _start_simulator(settings: Settings, variables: Mapping[str, str]) -> object:
    from coursedog.simulator import SchoolState, Simulator  # noqa: PLC0415

    users = {}
    for name, env in settings.environments.items():
        if not env.reads:
            continue
        email, password = env.credentials(name, variables)
        users[email] = password.get_secret_value()
    schools = {env.school: SchoolState() for env in settings.environments.values()}
    sim = Simulator(users=users, schools=schools, wire=settings.wire())
    try:
        url = sim.start("127.0.0.1", settings.simulator.port)
    except OSError as exc:
        raise StartupError(
            f"The embedded Coursedog simulator cannot listen on port {settings.simulator.port}: "
            f"{exc.strerror}."
        ) from None
    log.info("embedded Coursedog simulator at %s (state: %s/_sim/state)", url, url)
    return sim


def run(
    settings: Settings,
    source: str,
    *,
    variables: Mapping[str, str],
    database_url: str,
    slack_api_url: str | None,
    token: str,
    secret: str,
    app_token: str | None,
    host: str,
    port: int,
    socket_mode: bool,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """Serve until interrupted; returns the exit code.

    ``variables`` is the environment (for the variables the configuration names), ``database_url``
    the ledger and ``slack_api_url`` Slack's Web API (None: Slack's own).
    """
    variables = simulator_variables(settings, variables)
    calendar_token = settings.calendar.token(variables)
    settings.api.hashes(variables)  # before connecting: a ConfigError names the variable
    for hook in settings.webhooks:  # each endpoint's signing secret, before anything starts
        hook.secret(variables)
    url = database_url
    check_database(url)
    clients = coursedog_clients(settings, variables, contracts=write_contracts(url, settings))
    slack = slack_client(token, slack_api_url)
    try:
        identity = slack.auth_test()
    except SlackApiError as exc:
        raise StartupError(
            f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}); check the token."
        ) from None
    except OSError as exc:
        raise StartupError(f"Slack's Web API cannot be reached: {exc}") from None
    simulator = _start_simulator(settings, variables) if settings.simulator.embedded else None
    runtime = build_runtime(
        settings,
        slack=slack,
        signing_secret=secret,
        clients=clients,
        database_url=url,
        variables=variables,
        calendar_token=calendar_token,
    )
    log.info("configuration from %s; Slack bot %s", source, identity.get("user_id"))
    if runtime.ops.feed.enabled:
        log.info("calendar feed on: /calendar/<token>.ics and /calendar/<token>/<env>.ics")
    if settings.api.tokens:
        names = ", ".join(t.name for t in settings.api.tokens)
        log.info("HTTP API on /api/v1 for tokens %s", names)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    # What was built to start with lives as long as the process: kept out of the collector's
    # full passes, which would otherwise walk all of it between two requests.
    gc.collect()
    gc.freeze()
    runtime.start()
    try:
        if on_ready is not None:  # the local sandbox prints its page's address here
            on_ready()
        if socket_mode and app_token:
            serve_socket_mode(
                runtime.app,
                app_token,
                runtime.app.client,
                ops=runtime.routes,
                host=host,
                port=port,
                on_probe=lambda probe: setattr(runtime.ops.health, "socket_mode", probe),
            )
        else:
            serve_http(runtime.app, host, port, signing_secret=secret, ops=runtime.routes)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        runtime.stop()
        stop = getattr(simulator, "stop", None)
        if stop is not None:
            stop()
    return 0

"""What the bot needs before it can start, and the errors that say what is missing."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import SecretStr

from bot.config import Settings
from bot.process_env import ProcessEnv
from storage.db import current_revision, head_revision, make_engine

README_SLACK = "README.md, section 'Create the Slack app' (and docs/slack-app.md)"


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


def check_database(url: str) -> None:
    """Refuse (StartupError) a database that cannot be reached or is not migrated to head."""
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    except Exception as exc:  # any failure to connect means the same to the operator
        raise StartupError(f"The database at DATABASE_URL cannot be reached: {exc}") from None
    finally:
        engine.dispose()
    if current != head_revision():
        raise StartupError(
            f"The database is at revision {current or 'none'}, not {head_revision()}: "
            "run `sis-maint migrate` first (or `sis-maint serve --migrate`, as `make run` does)."
        )


SIGNING_HELP = (
    "Slack shows the signing secret on the app's page at https://api.slack.com/apps, "
    "under Basic Information → App Credentials → Signing Secret."
)


def slack_configured(env: ProcessEnv) -> bool:
    """Whether any Slack credential is set (with none, `serve` starts the local sandbox)."""
    return any(
        secret is not None
        for secret in (env.slack_bot_token, env.slack_signing_secret, env.slack_app_token)
    )


def slack_credentials(env: ProcessEnv, *, http: bool = False) -> tuple[str, str, str | None]:
    """Bot token, signing secret, app token; or a StartupError naming every missing variable.

    HTTP mode (``http``, or no app token) needs the signing secret: without it every request
    from Slack would be refused, so the bot does not start.
    """
    token, secret = _revealed(env.slack_bot_token), _revealed(env.slack_signing_secret)
    app_token = _revealed(env.slack_app_token) or None
    missing = [] if token else ["SLACK_BOT_TOKEN"]
    if http and not secret:
        missing.append("SLACK_SIGNING_SECRET (HTTP mode checks every request with it)")
    elif not app_token and not secret:
        missing.append("SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)")
    if missing:
        where = f"\n{SIGNING_HELP}" if not secret else ""
        raise StartupError(
            "Slack credentials are missing: set " + " and ".join(missing) + "." + where + "\n"
            f"How to create the Slack app from manifest.yml and get them: {README_SLACK}."
        )
    return token, secret, app_token


def _revealed(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""


def simulator_variables(settings: Settings, variables: Mapping[str, str]) -> dict[str, str]:
    """The variables the configuration names; with the embedded simulator, unset Coursedog
    credentials fall back to its demo user."""
    merged = dict(variables)
    if settings.simulator.embedded:
        for env in settings.environments.values():
            if env.email_env and env.password_env:
                merged.setdefault(env.email_env, settings.simulator.demo_email)
                merged.setdefault(env.password_env, settings.simulator.demo_password)
    return merged

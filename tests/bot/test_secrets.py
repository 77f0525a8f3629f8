"""Secrets never reach logs, errors or Slack: a realistic session with failures, then a grep.

The Slack bot token, the signing secret and the Coursedog password are set to values nobody
could mistake, every log record (DEBUG and up, tracebacks included) is captured, and so is
everything the bot sent to Slack, every answer it gave over HTTP and everything it stored in
the ledger. None may contain any of the values, or their distinctive core.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import text

from bot.slack import ids
from coursedog.simulator_faults import Fault
from storage.models import Base
from tests.bot.test_cli import run_cli
from tests.harness import APPROVER, REQUESTER, STRANGER, Bot, running_bot

# Each value has a core (upper case) that no other text in the session could contain.
SLACK_TOKEN = "xoxb-4711-SLACKBOTTOKENCORE-a9f3c2"
SIGNING_SECRET = "SIGNINGSECRETCORE-8d2e41b7c0f5"
CD_PASSWORD = "CDPASSWORDCORE-5c19e7!&=%"  # characters a form body or URL would escape
APP_TOKEN = "xapp-1-APPTOKENCORE-77"
DB_PASSWORD = "DBPASSWORDCORE-31"
SECRETS = (SLACK_TOKEN, SIGNING_SECRET, CD_PASSWORD)
CORES = ("SLACKBOTTOKENCORE", "SIGNINGSECRETCORE", "CDPASSWORDCORE")


class Capture(logging.Handler):
    """Every record, formatted as the CLI formats it, with its traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def everything_logged() -> Iterator[Capture]:
    root = logging.getLogger()
    capture, level = Capture(), root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(level)


def leaks(haystack: str) -> list[str]:
    return [core for core in (*SECRETS, *CORES) if core in haystack]


def sent_to_slack(bot: Bot) -> str:
    slack = bot.slack
    return json.dumps(
        {
            "calls": [(c.method, c.args) for c in slack.calls],
            "messages": [vars(m) for m in slack.messages.values()],
            "responses": slack.responses,
            "views": slack.views,
            "home": slack.home,
        },
        default=str,
    )


def ledger_text(bot: Bot) -> str:
    rows: list[Any] = []
    with bot.runtime.sessions.begin() as s:
        for table in Base.metadata.sorted_tables:
            rows.extend(tuple(r) for r in s.execute(text(f'SELECT * FROM "{table.name}"')))
    return json.dumps(rows, default=str)


def session(bot: Bot, answers: list[httpx.Response]) -> None:
    """Requests, approvals, Coursedog and Slack failures, bad input, an unexpected error."""
    answers.append(bot.command(REQUESTER, "help"))
    answers.append(bot.command(REQUESTER, "status"))
    answers.append(bot.command(REQUESTER, "start prod 2h Banner patch"))
    bot.wait_card(1)
    answers.append(bot.click(APPROVER, ids.APPROVE, "1"))
    assert bot.sim.school("state_u_prod").nightly is False  # the password was accepted

    # Coursedog: the session revoked mid-window (a 401, then a new login), then answers that
    # echo the session token and the password: a 503 on reading, a 500 on writing, and a 401
    # on logging in again.
    bot.sim.revoke_sessions()
    bot.sim.set_school("state_u_prod", {"nightly": True})
    bot.runtime.worker.run_once()
    assert bot.settle() and bot.sim.school("state_u_prod").nightly is False
    token = bot.sim.issued_tokens()[-1]
    echo = {"message": f"rejected {token} / {CD_PASSWORD}"}
    schedule = {"path_contains": "integrationSchedule", "kind": "status", "body": echo}
    bot.sim.inject(Fault(method="GET", status=503, times=2, **schedule))
    answers.append(bot.command(REQUESTER, "status prod"))
    bot.sim.inject(Fault(method="PUT", status=500, times=2, **schedule))  # and its resend
    answers.append(bot.command(REQUESTER, "end MW-1"))
    bot.sim.revoke_sessions()
    login = {"method": "POST", "path_contains": "sessions", "kind": "status", "body": echo}
    bot.sim.inject(Fault(status=401, times=1, **login))
    bot.runtime.worker.run_once()
    assert bot.settle()
    bot.runtime.worker.run_once()
    assert bot.settle() and bot.sim.school("state_u_prod").nightly is True  # restored at last

    # Slack: refusals and rate limits while posting and updating.
    bot.slack.fail("chat.postMessage", "invalid_auth", times=1)
    bot.slack.fail("chat.update", "ratelimited", times=1)
    answers.append(bot.command(REQUESTER, "start staging 1h"))
    answers.append(bot.command(REQUESTER, "start sandbox 1h"))
    bot.wait_card(3)
    answers.append(bot.click(APPROVER, ids.APPROVE, "3"))
    answers.append(bot.click(STRANGER, ids.APPROVE, "3"))

    # Bad input: commands, a form, malformed and forged requests, a replay.
    for typed in ("start nowhere 2h", "schedule prod 9999-12-31 23:59 1h", "extend MW-99 1h", "`"):
        answers.append(bot.command(REQUESTER, typed))
    answers.append(bot.submit_form(REQUESTER, envs=["prod"], length="two hours"))
    answers.append(bot.post('{"type": "event_callback", "event": {', "application/json"))
    body = urlencode(
        {"command": ids.COMMAND, "text": "start prod 2h", "user_id": STRANGER, "trigger_id": "t"}
    )
    answers.append(bot.post(body, "application/x-www-form-urlencoded", secret=SIGNING_SECRET[::-1]))
    answers.append(
        bot.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 900)
    )

    # Something unexpected inside a listener, and inside the worker.
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"cannot reach {bot.slack.base_url}")

    bot.runtime.windows.extend = broken  # type: ignore[method-assign]
    answers.append(bot.command(REQUESTER, "extend MW-3 1h"))
    answers.append(bot.click(REQUESTER, ids.EXTEND_30, "3"))
    bot.runtime.windows.cancel = broken  # type: ignore[method-assign]
    answers.append(bot.command(REQUESTER, "cancel MW-3"))
    assert bot.settle()


def test_a_session_with_failures_never_shows_a_secret(database_url: str) -> None:
    answers: list[httpx.Response] = []
    with (
        everything_logged() as logs,
        running_bot(
            database_url,
            slack_token=SLACK_TOKEN,
            signing_secret=SIGNING_SECRET,
            password=CD_PASSWORD,
        ) as bot,
    ):
        session(bot, answers)
        slack, stored = sent_to_slack(bot), ledger_text(bot)
    log = "\n".join(logs.lines)
    said = "\n".join(a.text for a in answers)
    for where, haystack in (("logs", log), ("Slack", slack), ("answers", said), ("ledger", stored)):
        assert leaks(haystack) == [], f"a secret reached the {where}"
    # The session really went through the failures it was meant to (so the grep means something).
    assert "could not restore" in slack and "rejected *** / ***" in slack
    assert "invalid_auth" in log and "refused a request" in log and "Traceback" in log
    assert "unexpected error, reference" in log
    assert any(a.status_code == 401 for a in answers) and "Something unexpected" in said


@pytest.mark.subprocess
def test_the_command_line_never_prints_a_secret(tmp_path: Path) -> None:
    config = tmp_path / "sis-maint.toml"
    config.write_text(
        'approvals_channel = "C0APPROVALS"\n'
        "[environments.prod]\n"
        'label = "Production"\nbase_url = "http://127.0.0.1:9"\nschool = "s"\n'
        'email_env = "CD_EMAIL"\npassword_env = "CD_PASSWORD"\n'
    )
    env = {
        "SIS_MAINT_CONFIG": str(config),
        "CD_EMAIL": "svc@example.edu",
        "CD_PASSWORD": CD_PASSWORD,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "LOG_LEVEL": "DEBUG",
    }
    migrated = f"sqlite:///{tmp_path / 'ledger.db'}"
    unreachable = f"postgresql://sis:{DB_PASSWORD}@127.0.0.1:9/ledger"
    runs = [
        run_cli("check-config", env=env),
        run_cli("migrate", env={**env, "DATABASE_URL": migrated}),
        run_cli("serve", "--http", env={**env, "DATABASE_URL": migrated}),
        run_cli("serve", env={**env, "DATABASE_URL": unreachable}),
        run_cli("audit", "verify", env={**env, "DATABASE_URL": unreachable}),
    ]
    assert runs[2].returncode == 2 and "Slack's Web API cannot be reached" in runs[2].stderr
    assert runs[3].returncode == 2 and "cannot be reached" in runs[3].stderr
    for run in runs:
        output = run.stdout + run.stderr
        assert leaks(output) == [] and APP_TOKEN not in output, output[-2000:]
        assert "APPTOKENCORE" not in output and "DBPASSWORDCORE" not in output, output[-2000:]
    assert os.environ.get("CD_PASSWORD") != CD_PASSWORD

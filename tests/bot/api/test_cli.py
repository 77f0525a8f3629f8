"""`sis-maint window ...` against a running bot's API: the slash command's grammar, `--json`,
and the exit codes scripts rely on (0 done, 2 usage, 3 refused, 4 auth, 5 unreachable)."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.api.tokens import hash_token
from bot.cli.api_client import EXIT_AUTH, EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE
from bot.cli.main import main
from bot.config import Settings, parse_settings
from tests.bot.api.client import Api, api_bot, api_settings_document, token
from tests.harness import APPROVER, REQUESTER

pytestmark = pytest.mark.usefixtures("cli_in_process")


@pytest.fixture
def api(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    with api_bot(database_url, monkeypatch) as running:
        yield running


class Cli:
    """Runs `sis-maint window ...` in this process against the bot."""

    def __init__(self, api: Api, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = api.base.removesuffix("/api/v1")
        self.capsys = capsys

    def __call__(self, *argv: str, as_: str = "snow", url: str | None = None) -> tuple[int, Any]:
        """The exit code, and stdout read as JSON when --json was given (else as text)."""
        environ = {"SIS_MAINT_API_URL": url or self.url, "SIS_MAINT_API_TOKEN": token(as_)}
        try:
            code = main(["window", *argv], environ)
        except SystemExit as exit_:  # argparse's refusal of the command line
            code = int(exit_.code or 0)
        out = self.capsys.readouterr().out
        return code, json.loads(out) if "--json" in argv and out else out


@pytest.fixture
def cli(api: Api, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(api, capsys)


def test_start_extend_and_end_with_the_slash_commands_grammar(api: Api, cli: Cli) -> None:
    code, window = cli(
        "start", "production", "2h", "Banner", "patch", "--ticket", "INC42", "--json"
    )
    assert code == EXIT_OK
    assert (window["state"], window["reason"], window["ticket"]) == (
        "requested",
        "Banner patch",
        "INC42",
    )
    assert window["environments"][0]["name"] == "prod"
    number = window["number"]
    api.bot.click(APPROVER, "window_approve", str(window["id"]))
    assert api.bot.settle()
    code, extended = cli("extend", number, "30m", "--json")
    assert code == EXIT_OK
    assert extended["state"] == "active"
    code, listed = cli("list", "active")
    assert code == EXIT_OK
    assert listed.startswith(f"{number}\tactive\tprod\t")
    code, ended = cli("end", "prod", "--json")  # by the environment it holds
    assert (code, ended["state"], ended["number"]) == (EXIT_OK, "ended", number)


def test_schedule_reads_wall_times_in_the_environments_zone(cli: Cli) -> None:
    zone = ZoneInfo("America/New_York")  # staging's zone: the default
    day = (datetime.now(zone) + timedelta(days=10)).date()
    argv = ("schedule", "staging", day.isoformat(), "22:00", "4h", "upgrade", "--json")
    code, window = cli(*argv)
    assert code == EXIT_OK
    start = datetime.combine(day, time(22, 0), zone).astimezone(UTC)
    assert datetime.fromisoformat(window["starts_at"]) == start
    assert datetime.fromisoformat(window["ends_at"]) == start + timedelta(hours=4)
    code, cancelled = cli("cancel", window["number"], "--json")
    assert (code, cancelled["state"]) == (EXIT_OK, "cancelled")
    code, again = cli("cancel", window["number"], "--json")
    assert code == EXIT_REFUSED
    assert again["error"]["code"] == "conflict"


def test_a_change_ticket_approval_from_the_command_line(cli: Cli) -> None:
    argv = ("start", "sandbox", "1h", "CAB", "--ticket", "CHG7", "--approved-by-ticket", "--json")
    code, window = cli(*argv, as_="cab")
    assert (code, window["state"], window["decided_by"]) == (EXIT_OK, "active", "api:cab")
    code, refused = cli(*argv, as_="snow")  # a token without the role
    assert (code, refused["error"]["code"]) == (EXIT_AUTH, "forbidden")


def with_a_group(url: str) -> Settings:
    """The API's configuration with the group `pair` (prod and staging, one by alias)."""
    doc = api_settings_document(url)
    doc["groups"] = {"pair": ["production", "staging"]}
    return parse_settings(doc)


def test_a_group_is_listed_and_names_its_environments_from_the_command_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with api_bot(database_url, monkeypatch, settings_factory=with_a_group) as api:
        listed = api.call("GET", "/environments", as_="reader").json()
        assert listed["groups"] == {"pair": ["prod", "staging"]}
        cli = Cli(api, capsys)
        code, window = cli("start", "pair", "2h", "Banner", "patch", "--json")
        assert code == EXIT_OK
        assert {e["name"] for e in window["environments"]} == {"prod", "staging"}
        assert cli("start", "trio", "2h")[0] == EXIT_USAGE


UNREADABLE = [
    ("start", "prod"),  # no duration
    ("start", "nowhere", "2h"),
    ("extend", "MW-1"),
    ("status",),
    ("list", "soon"),
    ("start", "prod", "2h", "--colour", "red"),
    ("start", "prod", "2h", "--ticket"),
    ("cancel", "MW-1", "--ticket", "CHG1"),
    ("start", "prod", "2h", "--override", "agreed"),
]


def test_what_cannot_be_read_exits_2(cli: Cli) -> None:
    for argv in UNREADABLE:
        assert cli(*argv)[0] == EXIT_USAGE, argv
    assert cli("list")[0] == EXIT_OK  # and nothing was requested meanwhile
    assert cli("list", "--json")[1] == {"windows": []}


def test_a_field_the_bot_refuses_exits_2_with_its_message(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    code, answer = cli("start", "prod", "3d", "--json")  # over prod's 2d
    assert code == EXIT_USAGE
    assert answer["error"]["field"] == "duration"


def test_refusals_exit_3(api: Api, cli: Cli) -> None:
    assert cli("end", "MW-999")[0] == EXIT_REFUSED  # no such window
    assert cli("end", "prod")[0] == EXIT_REFUSED  # nothing holds it
    code, window = cli("start", "prod", "1h", "--json")
    assert code == EXIT_OK
    assert cli("end", window["number"])[0] == EXIT_REFUSED  # not started


def test_a_retry_with_its_idempotency_key_gets_the_first_answer(cli: Cli) -> None:
    key = ("--idempotency-key", "job-1")
    code, first = cli("start", "staging", "1h", "--json", *key)
    assert code == EXIT_OK
    code, again = cli("start", "staging", "1h", "--json", *key)  # acted once already
    assert (code, again["number"]) == (EXIT_OK, first["number"])
    assert cli("start", "staging", "2h", *key)[0] == EXIT_USAGE  # the key of another request


def test_tokens_exit_4(cli: Cli) -> None:
    assert cli("start", "prod", "1h", as_="reader")[0] == EXIT_AUTH  # lacks the role
    code, window = cli("start", "prod", "1h", "--json")
    assert code == EXIT_OK
    assert cli("cancel", window["number"], as_="other")[0] == EXIT_AUTH  # not its window
    environ = {"SIS_MAINT_API_URL": cli.url, "SIS_MAINT_API_TOKEN": "nobody-knows-this-0123"}
    assert main(["window", "list"], environ) == EXIT_AUTH


def test_no_bot_or_no_settings(cli: Cli) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert cli("list", url=f"http://127.0.0.1:{port}")[0] == EXIT_UNREACHABLE
    assert main(["window", "list"], {"SIS_MAINT_API_URL": cli.url}) == EXIT_USAGE
    assert main(["window", "list"], {}) == EXIT_USAGE
    not_the_api = cli.url + "/healthz?"  # answers, but not as the API
    assert cli("list", url=not_the_api)[0] == EXIT_UNREACHABLE


def test_hash_token_prints_what_hash_env_holds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-token-of-twenty-chars-or-more\n"))
    assert main(["api", "hash-token"], {}) == 0
    assert capsys.readouterr().out.strip() == hash_token("a-token-of-twenty-chars-or-more")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["api", "hash-token"], {}) == 2
    assert main(["api", "hash-token", "--new"], {}) == 0
    lines = capsys.readouterr().out.splitlines()
    new, digest = lines[-2].split()[-1], lines[-1].split()[-1]
    assert hash_token(new) == digest
    assert REQUESTER  # the harness's people are not API callers

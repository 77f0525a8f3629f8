"""The console script as a newcomer meets it."""

import io
import logging
import os
import socket
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.cli.main import _quiet
from bot.process_env import ProcessEnv
from tests.bot.sandbox.launch import busy_port, running_sandbox

ROOT = Path(__file__).resolve().parents[2]


def _environment(env: dict[str, str] | None) -> dict[str, str]:
    """This process's environment without the bot's own variables, then ``env``."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "SIS_MAINT_", "DATABASE_URL"))
    }
    return {**base, **(env or {})}


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`sis-maint <args>` in this process (its main(), as the console script calls it), with
    what it prints: a command that needs no process of its own, checked without starting one."""
    root, alembic = logging.getLogger(), logging.getLogger("alembic")
    handlers, level, alembic_level = list(root.handlers), root.level, alembic.level
    out, err = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args), _environment(env))
    finally:  # main() installs its log handler: put the loggers back as they were
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)
        alembic.setLevel(alembic_level)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """`sis-maint <args>` as a process of its own, as a person runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


@pytest.mark.subprocess
def test_serve_without_slack_credentials_names_them_and_starts_the_sandbox(
    tmp_path: Path,
) -> None:
    with running_sandbox(tmp_path) as sandbox:
        page = httpx.get(sandbox.url, timeout=10)
        assert page.status_code == 200 and "sis-maint sandbox" in page.text
        state = httpx.get(f"{sandbox.url}sandbox/state", timeout=10).json()
        assert [(s["environment"], s["nightly"], s["realtime"]) for s in state["switches"]] == [
            ("prod", True, True),
            ("staging", True, True),
        ]
        assert sandbox.stop() == 0
    stderr = sandbox.stderr
    assert "Traceback" not in stderr
    assert "SLACK_BOT_TOKEN" in stderr and "SLACK_SIGNING_SECRET" in stderr
    assert "SLACK_APP_TOKEN" in stderr and "README.md" in stderr and "manifest.yml" in stderr
    assert "so the local sandbox starts instead" in stderr
    assert "Alex Morgan (Registrar, approver)" in "".join(sandbox.stdout)
    # The ledger was a temporary file: nothing is left in the working directory.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sandbox-config.toml"]


@pytest.mark.subprocess
def test_serve_without_slack_credentials_never_puts_a_real_coursedog_in_the_sandbox(
    tmp_path: Path,
) -> None:
    config = tmp_path / "real.toml"
    config.write_text(
        'approvals_channel = "C1"\n[environments.prod]\nlabel = "P"\n'
        'base_url = "https://state-u.coursedog.com"\nschool = "s"\n'
        'email_env = "CD_EMAIL"\npassword_env = "CD_PASSWORD"\n'
    )
    result = run_cli("serve", env={"SIS_MAINT_CONFIG": str(config)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr and "README.md" in result.stderr
    assert "environments.prod.base_url is https://state-u.coursedog.com" in result.stderr
    assert "local sandbox starts instead" not in result.stderr


@pytest.mark.subprocess
def test_serve_with_only_the_bot_token_names_the_rest() -> None:
    result = run_cli("serve", env={"SLACK_BOT_TOKEN": "xoxb-1"})
    assert (
        result.returncode == 2
        and "SLACK_BOT_TOKEN" not in result.stderr.split("set ")[1].split(".")[0]
    )


@pytest.mark.subprocess
def test_serve_in_http_mode_without_the_signing_secret_refuses_to_start() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
    result = run_cli("serve", "--http", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "SLACK_SIGNING_SECRET (HTTP mode checks every request with it)" in result.stderr
    assert "Basic Information → App Credentials → Signing Secret" in result.stderr
    assert "local sandbox starts instead" not in result.stderr


@pytest.mark.parametrize("mode", ["--http", "no app token"])
@pytest.mark.subprocess
def test_serve_in_http_mode_with_a_blank_signing_secret_refuses_to_start(
    tmp_path: Path, mode: str
) -> None:
    ledger = tmp_path / "ledger.db"
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "  ",
        "DATABASE_URL": f"sqlite:///{ledger}",
    }
    args = ["serve"]
    if mode == "--http":
        env["SLACK_APP_TOKEN"] = "xapp-1"
        args.append("--http")
    result = run_cli(*args, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "SLACK_SIGNING_SECRET" in result.stderr.split("set ")[1]
    assert "Basic Information → App Credentials → Signing Secret" in result.stderr
    assert "local sandbox starts instead" not in result.stderr
    assert not ledger.exists()  # refused before anything was opened


@pytest.mark.subprocess
def test_invalid_config_fails_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('approvals_channel = "C1"\n[environments.prod]\nlabel = "P"\n')
    result = run_cli("check-config", env={"SIS_MAINT_CONFIG": str(config)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "[environments.prod] base_url: required, and not in the file" in result.stderr


@pytest.mark.subprocess
def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        env={
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        },
    )
    assert result.returncode == 2 and "run `sis-maint migrate` first" in result.stderr


@pytest.mark.subprocess
def test_migrate_then_check_config(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    assert run_cli("migrate", env={"DATABASE_URL": url}).returncode == 0
    result = run_cli("check-config")
    assert result.returncode == 0 and "embedded defaults" in result.stdout


@pytest.mark.parametrize(
    ("args", "environ", "steps_shown"),
    [
        (["migrate"], {}, False),
        (["migrate"], {"LOG_LEVEL": "WARNING"}, False),
        (["-v", "migrate"], {}, True),
        (["migrate", "--verbose"], {}, True),
        (["migrate"], {"LOG_LEVEL": "DEBUG"}, True),
    ],
)
def test_migrate_logs_its_steps_only_when_asked(
    tmp_path: Path, args: list[str], environ: dict[str, str], steps_shown: bool
) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    result = run_main(*args, env={"DATABASE_URL": url, **environ})
    assert result.returncode == 0
    assert result.stdout == "Database is up to date.\n"
    assert ("Running upgrade  -> 0001" in result.stderr) is steps_shown, result.stderr
    if not steps_shown:
        assert "alembic" not in result.stderr


SITE = """approvals_channel = "C0APPROVALS"
approvers = [APPROVERS]

[environments.prod]
label = "Production"
base_url = "https://app.coursedog.com"
school = "stateu_banner"
email_env = EMAIL_ENV
password_env = "CD_PASSWORD"
remind_before_start = "1h"
"""


def _site(tmp_path: Path, **changes: str) -> Path:
    text = SITE.replace("APPROVERS", '"U0APPROVE1"').replace("EMAIL_ENV", '"CD_EMAIL"')
    for old, new in changes.items():
        text = text.replace(old, new)
    path = tmp_path / "site.toml"
    path.write_text(text)
    return path


def test_check_config_takes_a_path_and_checks_the_variables_it_names(tmp_path: Path) -> None:
    path = _site(tmp_path)
    result = run_main("check-config", str(path), env={"CD_EMAIL": "a@b.edu"})
    assert result.returncode == 2
    assert f"Configuration from {path}: 1 environment(s)." in result.stdout
    assert "environments.prod: set CD_PASSWORD" in result.stderr
    ok = run_main("check-config", str(path), env={"CD_EMAIL": "a@b.edu", "CD_PASSWORD": "pw"})
    assert ok.returncode == 0 and ok.stderr == ""
    # The path wins over SIS_MAINT_CONFIG.
    other = run_main("check-config", str(path), env={"SIS_MAINT_CONFIG": str(tmp_path / "x")})
    assert f"Configuration from {path}" in other.stdout


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            {"remind_before_start": "remind_before_strat"},
            "  [environments.prod]: unknown key `remind_before_strat`: "
            "did you mean `remind_before_start`?\n",
        ),
        (
            {'"CD_EMAIL"': '"integration@stateu.edu"'},
            "  [environments.prod] email_env: this names an environment variable, not an address",
        ),
        (
            {'"U0APPROVE1"': '"@alex.morgan"'},
            "  approvers[0]: '@alex.morgan' is not a Slack ID: use the member ID (U…) from the "
            "person's Slack profile (⋮ menu → Copy member ID)",
        ),
    ],
)
def test_check_config_says_a_first_mistake_plainly(
    tmp_path: Path, change: dict[str, str], said: str
) -> None:
    path = _site(tmp_path, **change)
    result = run_main("check-config", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"sis-maint: {path} is not valid:\n"), result.stderr
    assert said in result.stderr
    assert len(result.stderr.splitlines()) == 2  # one mistake, one line, nothing that follows
    assert "Traceback" not in result.stderr and "pydantic" not in result.stderr


def test_check_config_names_a_path_it_cannot_read(tmp_path: Path) -> None:
    result = run_main("check-config", str(tmp_path / "nowhere.toml"))
    assert result.returncode == 2
    assert result.stderr == (
        f"sis-maint: {tmp_path / 'nowhere.toml'} cannot be read: No such file or directory\n"
    )


@pytest.mark.parametrize(
    ("args", "environ", "set_by", "what"),
    [
        (["sandbox", "--port", "{busy}"], {}, "--port", "The bot"),
        (["sandbox", "--port", "0"], {"SANDBOX_PORT": "{busy}"}, "SANDBOX_PORT", "The page"),
        (["sandbox", "--port", "0", "--page-port", "{busy}"], {}, "--page-port", "The page"),
        (["serve"], {"PORT": "{busy}"}, "PORT", "The bot"),
        (
            ["serve", "--port", "{busy}"],
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
            "--port",
            "The bot",
        ),
    ],
)
def test_a_busy_port_that_was_set_is_an_error_naming_where(
    args: list[str], environ: dict[str, str], set_by: str, what: str
) -> None:
    with busy_port() as busy:
        filled = [a.format(busy=busy) for a in args]
        env = {k: v.format(busy=busy) for k, v in environ.items()}
        result = run_main(*filled, env={"SANDBOX_PORT": "0", **env} if "page" in what else env)
    assert result.returncode == 2
    said = (
        f"sis-maint: {what} cannot listen on 127.0.0.1:{busy} (it is in use); {set_by} sets it. "
        "Stop what holds it, or choose another port."
    )
    assert said in result.stderr, result.stderr
    assert "starting" not in result.stderr and "starts instead" not in result.stderr


def test_a_busy_simulator_port_set_in_the_file_is_an_error_naming_the_file(
    tmp_path: Path,
) -> None:
    with busy_port() as busy:
        path = tmp_path / "local.toml"
        path.write_text(
            f'approvals_channel = "C1"\napprovers = ["U0APPROVE1"]\n[environments.prod]\n'
            f'label = "P"\nbase_url = "http://127.0.0.1:{busy}"\nschool = "s"\n'
            f"[simulator]\nembedded = true\nport = {busy}\n"
        )
        result = run_main(
            "sandbox", "--port", "0", "--page-port", "0", env={"SIS_MAINT_CONFIG": str(path)}
        )
    assert result.returncode == 2
    assert (
        f"The Coursedog simulator cannot listen on 127.0.0.1:{busy} (it is in use); "
        f"simulator.port in {path} sets it." in result.stderr
    ), result.stderr


def test_serve_migrate_applies_the_migrations_of_the_database_it_serves(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/api/"
    ledger = tmp_path / "ledger.db"
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": nowhere,
        "DATABASE_URL": f"sqlite:///{ledger}",
    }
    unmigrated = run_main("serve", "--port", "0", env=env)
    assert unmigrated.returncode == 2 and "`sis-maint serve --migrate`" in unmigrated.stderr
    # Migrated, it gets as far as Slack (which is nowhere here).
    result = run_main("serve", "--migrate", "--port", "0", env=env)
    assert result.returncode == 2, result.stderr
    assert "Slack's Web API cannot be reached" in result.stderr
    assert "revision" not in result.stderr and "alembic" not in result.stderr


@pytest.mark.parametrize(
    ("environ", "verbose", "level"),
    [({}, False, "WARNING"), ({}, True, "INFO"), ({"LOG_LEVEL": "DEBUG"}, False, "DEBUG")],
)
def test_the_sandbox_logs_only_warnings_unless_asked(
    environ: dict[str, str], verbose: bool, level: str
) -> None:
    assert _quiet(ProcessEnv.read(environ), verbose).log_level == level

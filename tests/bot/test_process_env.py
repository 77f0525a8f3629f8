"""bot.process_env: the process environment, validated once; bad values name their variable."""

from __future__ import annotations

import pytest

from bot.cli.main import EXIT_CONFIG, _bot_port, main, parser
from bot.errors import ConfigError
from bot.process_env import ProcessEnv
from bot.run.ports import Port
from storage.db import DEFAULT_DATABASE_URL


def test_unset_and_blank_variables_take_their_defaults() -> None:
    env = ProcessEnv.read({"PORT": " ", "SLACK_BOT_TOKEN": "  ", "DATABASE_URL": ""})
    assert (env.host, env.port, env.sandbox_port) == ("127.0.0.1", 3000, 3001)
    assert env.database_url == DEFAULT_DATABASE_URL and env.slack_bot_token is None
    assert (env.log_format, env.log_level, env.config_file) == (None, "INFO", None)
    assert "PORT" not in env.variables


def test_set_variables_are_read_and_the_rest_kept_for_the_configuration() -> None:
    env = ProcessEnv.read(
        {"PORT": "8080", "HOST": "0.0.0.0", "LOG_FORMAT": " JSON", "CD_EMAIL": "a@b.example"}
    )
    assert (env.host, env.port, env.log_format) == ("0.0.0.0", 8080, "json")
    assert env.variables["CD_EMAIL"] == "a@b.example"


def test_secrets_stay_out_of_its_text() -> None:
    env = ProcessEnv.read(
        {"SLACK_BOT_TOKEN": "xoxb-secret-1", "DATABASE_URL": "postgresql://u:pw-9@h/db"}
    )
    assert env.slack_bot_token is not None
    assert env.slack_bot_token.get_secret_value() == "xoxb-secret-1"
    assert "xoxb-secret-1" not in repr(env) and "pw-9" not in repr(env)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "abc"}, "PORT must be a port number (0-65535), not 'abc'"),
        ({"PORT": "70000"}, "PORT must be a port number (0-65535), not '70000'"),
        ({"SANDBOX_PORT": "x"}, "SANDBOX_PORT must be a port number (0-65535), not 'x'"),
        ({"LOG_FORMAT": "yaml"}, "LOG_FORMAT must be json or text, not 'yaml'"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not 'LOUD'"),
    ],
)
def test_a_bad_value_names_its_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ProcessEnv.read(environ)
    assert str(caught.value) == message


def test_the_command_line_refuses_a_bad_port_before_anything_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve"], {"PORT": "abc"}) == EXIT_CONFIG
    assert "sis-maint: PORT must be a port number (0-65535), not 'abc'" in capsys.readouterr().err


def test_port_is_the_default_of_serve_and_said_to_be_set_by_it() -> None:
    env = ProcessEnv.read({"HOST": "0.0.0.0", "PORT": "8123"})
    args = parser().parse_args(["serve"])
    assert (args.host, args.port) == (None, None)  # cmd_serve takes HOST and PORT then
    assert _bot_port(args.port, env) == Port(8123, "PORT")
    assert _bot_port(9000, env) == Port(9000, "--port")
    assert _bot_port(None, ProcessEnv.read({})) == Port(3000, None)


def test_a_command_s_own_defaults_fill_only_what_the_environment_leaves_unset() -> None:
    quiet = ProcessEnv.read({"CD_EMAIL": "a@b.example"}).with_defaults(log_level="WARNING")
    assert quiet.log_level == "WARNING" and quiet.variables["CD_EMAIL"] == "a@b.example"
    loud = ProcessEnv.read({"LOG_LEVEL": "debug"}).with_defaults(log_level="WARNING")
    assert loud.log_level == "DEBUG"


def test_a_given_mapping_is_read_instead_of_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ProcessEnv.read(mapping) reads only the mapping (the hooks into pydantic-settings that
    replace its environment source), and read() reads the process's own."""
    monkeypatch.setenv("PORT", "abc")
    assert ProcessEnv.read({}).port == 3000
    assert ProcessEnv.read({"PORT": "8080"}).port == 8080
    with pytest.raises(ConfigError, match="PORT must be a port number"):
        ProcessEnv.read()

"""The API's tokens in the configuration: hashes from the environment, each refusal naming the
key or variable, and the comparison of a presented token with every hash."""

from __future__ import annotations

import hmac
from typing import Any

import pytest

from bot.api.tokens import Tokens, hash_token
from bot.cli.main import main
from bot.config import ApiConfig, parse_settings
from bot.errors import ConfigError
from tests.harness import settings_document

SECRET = "a-secret-token-for-tests-0123"


def config(*tokens: dict[str, Any]) -> ApiConfig:
    return parse_settings(settings_document("http://127.0.0.1:9", api={"tokens": tokens})).api


SNOW = {"name": "servicenow", "hash_env": "SNOW_HASH", "roles": ["read", "request"]}


def test_hashes_come_from_the_variables_named() -> None:
    assert config(SNOW).hashes({"SNOW_HASH": hash_token(SECRET).upper()}) == {
        "servicenow": hash_token(SECRET)
    }
    assert config().hashes({}) == {}


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        ({}, "api.tokens[0].hash_env: set SNOW_HASH"),
        ({"SNOW_HASH": SECRET}, "SNOW_HASH must be a SHA-256 in hex"),
        ({"SNOW_HASH": "ab" * 31}, "SNOW_HASH must be a SHA-256 in hex"),
    ],
)
def test_an_unset_or_unusable_hash_names_its_variable(variables: dict[str, str], said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config(SNOW).hashes(variables)
    assert said in str(refused.value)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    ("tokens", "key"),
    [
        ([SNOW, SNOW], "used twice"),
        ([{**SNOW, "roles": ["admin"]}], "api.tokens.0.roles.0"),
        ([{**SNOW, "roles": []}], "api.tokens.0.roles"),
        ([{**SNOW, "name": "Service Now"}], "api.tokens.0.name"),
        ([{**SNOW, "hash_env": "snow-hash"}], "api.tokens.0.hash_env"),
        ([{**SNOW, "hash": "abc"}], "api.tokens.0.hash"),
    ],
)
def test_a_bad_token_entry_is_refused_naming_the_key(tokens: list[Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config(*tokens)


def test_a_presented_token_is_compared_with_every_hash_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [SNOW, {**SNOW, "name": "other", "hash_env": "OTHER_HASH"}]
    api = config(*entries)
    tokens = Tokens(
        api.tokens,
        api.hashes({"SNOW_HASH": hash_token(SECRET), "OTHER_HASH": hash_token("x" * 30)}),
    )
    compared: list[int] = []
    real = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        compared.append(1)
        return real(a, b)

    monkeypatch.setattr("bot.api.tokens.hmac.compare_digest", counting)
    caller = tokens.caller(f"Bearer {SECRET}")
    assert caller is not None
    assert (caller.name, caller.actor, caller.roles) == (
        "servicenow",
        "api:servicenow",
        frozenset({"read", "request"}),
    )
    assert len(compared) == 2  # the match was first; the other was still compared
    assert tokens.caller(f"bearer   {'x' * 30}  ") is not None
    for header in ("", "Bearer", "Bearer ", f"Basic {SECRET}", SECRET, "Bearer wrong"):
        assert tokens.caller(header) is None


@pytest.mark.usefixtures("cli_in_process")
def test_check_config_names_a_token_whose_hash_is_unset(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'approvals_channel = "C0APPROVALS"\n'
        "[environments.prod]\n"
        'label = "Production"\nbase_url = "http://127.0.0.1:9"\nschool = "u"\n'
        'driver = "assisted"\n'
        "[[api.tokens]]\n"
        'name = "servicenow"\nhash_env = "SNOW_HASH"\nroles = ["read"]\n',
        encoding="utf-8",
    )
    assert main(["check-config"], {"SIS_MAINT_CONFIG": str(path)}) == 2
    assert "api.tokens[0].hash_env: set SNOW_HASH" in capsys.readouterr().err
    environ = {"SIS_MAINT_CONFIG": str(path), "SNOW_HASH": hash_token(SECRET)}
    assert main(["check-config"], environ) == 0

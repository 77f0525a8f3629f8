"""manifest.yml validates against Slack's published schema and matches the code."""

import json
from pathlib import Path

import jsonschema
import yaml

from bot.slack import ids

ROOT = Path(__file__).resolve().parents[1]
# Vendored with its licence (tests/data/slack/LICENSE), so a clone tests on its own.
SCHEMA = ROOT / "tests" / "data" / "slack" / "manifest.schema.1.0.0.json"


def test_manifest_is_valid_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=str)
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_manifest_declares_the_command_the_code_serves() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == [ids.COMMAND]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "usergroups:read",
        "users:read",
    }

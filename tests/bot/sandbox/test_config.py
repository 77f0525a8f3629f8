"""What the sandbox runs on: its own defaults, or a configuration file that stays local."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.process_env import ProcessEnv
from bot.run.startup import StartupError
from bot.sandbox.config import SANDBOX_DEFAULTS, load_sandbox

SIMULATED = """
approvals_channel = "C0OWNAPPROVALS"
approvers = ["U0CONFIGURED", "S0AGROUP"]
[environments.prod]
label = "Prod"
base_url = "{url}"
school = "s"
email_env = "CD_EMAIL"
password_env = "CD_PASSWORD"
"""


def test_with_no_configuration_it_names_an_approvals_channel_and_an_approver() -> None:
    env = ProcessEnv.read({})
    settings, source = load_settings(env)
    sandbox = load_sandbox(settings, source, env)
    assert sandbox.source == SANDBOX_DEFAULTS
    assert sandbox.settings.approvals_channel == "sis-maint-approvals"
    assert [(p.name, p.approver) for p in sandbox.people] == [
        ("Riley Chen", False),
        ("Alex Morgan", True),
        ("Sam Okafor", False),
    ]
    assert sandbox.settings.approvers == ["U0SBXALEX"]
    assert sandbox.channels == ("sis-ops",)
    # Everything else is the embedded defaults: two simulated environments, the simulator inside.
    assert list(sandbox.settings.environments) == ["prod", "staging"]
    assert sandbox.settings.simulator.embedded


def test_a_configuration_file_is_used_as_it_is_and_its_approvers_can_be_picked(
    tmp_path: Path,
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(SIMULATED.format(url="http://localhost:9100"))
    env = ProcessEnv.read({"SIS_MAINT_CONFIG": str(config)})
    settings, source = load_settings(env)
    sandbox = load_sandbox(settings, source, env)
    assert sandbox.settings.approvals_channel == "C0OWNAPPROVALS" and sandbox.source == source
    people = {p.id: p for p in sandbox.people}
    assert people["U0CONFIGURED"].approver and people["U0CONFIGURED"].title
    assert not people["U0SBXALEX"].approver  # the file does not name the sandbox's approver
    assert "S0AGROUP" not in people  # a user group is nobody to be


@pytest.mark.parametrize(
    "url", ["https://stateu.coursedog.com", "http://10.0.0.8:8787", "http://sim.internal:80"]
)
def test_a_coursedog_beyond_this_machine_is_refused(tmp_path: Path, url: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(SIMULATED.format(url=url))
    env = ProcessEnv.read({"SIS_MAINT_CONFIG": str(config)})
    settings, source = load_settings(env)
    with pytest.raises(StartupError, match=f"environments.prod.base_url is {url}"):
        load_sandbox(settings, source, env)

"""A window written through a contract learned from a recording: `coursedog learn --write`,
then the bot (reading its contracts from the ledger) against a simulator serving that
contract, through the front door."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import cli
from bot.config import Settings, parse_settings
from bot.services.contracts import stored_contracts
from bot.slack import ids
from coursedog.contract import WriteContract
from coursedog.simulator import SchoolState
from storage.db import make_engine, make_sessions
from tests.har import SAVE_PATH, settings_recording
from tests.harness import APPROVER, REQUESTER, Bot, running_bot, settings_document

pytestmark = pytest.mark.usefixtures("cli_in_process")

SCHOOL = "state_u_staging"
CONFIG = f"""
approvals_channel = "C0APPROVALS"
[environments.staging]
label = "Staging"
base_url = "https://staging.coursedog.com"
school = "{SCHOOL}"
email_env = "CD_EMAIL"
password_env = "CD_PASSWORD"
"""
OTHER_SETTINGS = {"timezone": "America/Chicago", "termCode": "202610", "notifications": {}}


def staging_only(url: str) -> Settings:
    """The harness's configuration with only the staging environment (on the simulator)."""
    staging = settings_document(url)["environments"]["staging"]
    return parse_settings(settings_document(url, environments={"staging": staging}))


@pytest.fixture
def learned(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> WriteContract:
    """Learn staging's writes from a recording of the settings-object page, and store them."""
    config = tmp_path / "sis-maint.toml"
    config.write_text(CONFIG, encoding="utf-8")
    har = settings_recording(SCHOOL, noisy=100).write(tmp_path / "staging.har")
    environ = {"SIS_MAINT_CONFIG": str(config), "DATABASE_URL": database_url}
    code = cli.main(["coursedog", "learn", str(har), "--write"], environ)
    assert code == 0, capsys.readouterr().err
    engine = make_engine(database_url)
    try:
        return stored_contracts(make_sessions(engine), ["staging"])["staging"]
    finally:
        engine.dispose()


def bot_on(database_url: str, contract: WriteContract, school: SchoolState) -> Iterator[Bot]:
    with running_bot(
        database_url,
        schools={SCHOOL: school},
        settings_factory=staging_only,
        contract=contract,
    ) as bot:
        yield bot


def window(bot: Bot) -> None:
    bot.command(REQUESTER, "start staging 2h Banner patch")
    bot.wait_card(1)
    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()


def test_a_learned_contract_of_another_shape_carries_a_window(
    database_url: str, learned: WriteContract
) -> None:
    school = SchoolState(nightly=True, realtime=True, contract_base=dict(OTHER_SETTINGS))
    for bot in bot_on(database_url, learned, school):
        window(bot)
        staging = bot.sim.school(SCHOOL)
        assert (staging.nightly, staging.realtime) == (False, False)
        assert "switched off and verified" in "\n".join(bot.thread(1))
        save = SAVE_PATH.format(school=SCHOOL)
        assert bot.sim.calls("POST", save) == 1
        assert bot.sim.calls("PUT", "/general/integrationSchedule") == 0
        # The whole settings object went back as read just before, with syncType "none".
        assert staging.contract_base == {
            **OTHER_SETTINGS,
            "integrationSchedule": {"syncType": "none"},
        }

        bot.command(REQUESTER, "end MW-1")
        assert bot.settle()
        assert (staging.nightly, staging.realtime) == (True, True)
        assert "restored and verified" in "\n".join(bot.thread(1))
        assert bot.sim.calls("POST", save) == 2 and staging.writes == 2
        # The Activity comments went as learned: text inside "content", beside constants.
        assert bot.sim.calls("POST", f"/api/v1/{SCHOOL}/activity") == len(staging.comments) > 0
        assert bot.sim.calls("POST", "/mergeSettings/activity") == 0


def test_a_schedule_the_recording_never_showed_stops_for_a_person_with_nothing_sent(
    database_url: str, learned: WriteContract
) -> None:
    school = SchoolState(nightly=True, realtime=False)  # nightly only: never in the recording
    for bot in bot_on(database_url, learned, school):
        window(bot)
        staging = bot.sim.school(SCHOOL)
        assert (staging.nightly, staging.realtime, staging.writes) == (False, False, 1)
        bot.command(REQUESTER, "end MW-1")
        assert bot.settle()
        assert (staging.nightly, staging.realtime, staging.writes) == (False, False, 1)
        assert bot.sim.calls("POST", SAVE_PATH.format(school=SCHOOL)) == 1
        thread = "\n".join(bot.thread(1))
        assert "has no body for nightly on, real-time off" in thread
        assert "Nothing was sent to Coursedog" in thread

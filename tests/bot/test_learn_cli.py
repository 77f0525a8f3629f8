"""`sis-maint coursedog learn`: through the command, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import cli
from bot.cli import learn as coursedog_learn_cli
from bot.services.contracts import Standing, standing, stored_contracts
from coursedog.simulator import SchoolState, Simulator
from storage.db import make_engine, make_sessions
from tests.coursedog.test_learn import REFUSED
from tests.har import SECRETS, Recorder, assumed_recording, settings_recording
from tests.harness import EMAIL, PASSWORD

pytestmark = pytest.mark.usefixtures("cli_in_process")

CONFIG = """
approvals_channel = "C0APPROVALS"
approvers = ["U0APPROVE1"]

[environments.prod]
label = "Production"
base_url = "https://app.coursedog.com"
school = "state_u_prod"
email_env = "CD_EMAIL"
password_env = "CD_PASSWORD"

[environments.staging]
label = "Staging"
base_url = "https://staging.coursedog.com"
school = "state_u_staging"
aliases = ["stage"]
email_env = "CD_EMAIL"
password_env = "CD_PASSWORD"
"""
STAGING = "state_u_staging"


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sis-maint.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def learn(
    capsys: pytest.CaptureFixture[str],
    config: Path,
    database_url: str,
    *args: str,
) -> Run:
    environ = {"SIS_MAINT_CONFIG": str(config), "DATABASE_URL": database_url}
    code = cli.main(["coursedog", "learn", *args], environ)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def har(tmp_path: Path, rec: Recorder, name: str = "staging.har") -> str:
    return str(rec.write(tmp_path / name))


def ledger_text(database_url: str) -> str:
    """Everything the ledger holds about contracts, as text."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = [
                *conn.execute(text("SELECT * FROM write_contracts")).all(),
                *conn.execute(text("SELECT * FROM audit_events")).all(),
            ]
    finally:
        engine.dispose()
    return "\n".join(repr(tuple(row)) for row in rows)


def test_a_clean_recording_is_learned_and_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path, database_url: str
) -> None:
    run = learn(capsys, config, database_url, har(tmp_path, assumed_recording(STAGING)), "--write")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == (
        "Learned from staging.har for staging: school state_u_staging on staging.coursedog.com."
    )
    assert (
        "Schedule write: PUT /api/v1/{school}/general/integrationSchedule  (entries 3 and 5)"
        in (run.out)
    )
    assert "    /integrationSchedule/syncType" in lines
    assert '      nightly off, real-time off: "none"' in lines
    assert "  writes: nightly off, real-time off; nightly on, real-time on" in lines
    assert "Activity comment: POST /api/v1/{school}/integration/mergeSettings/activity" in run.out
    assert "Stored in the ledger as staging's write contract." in lines
    engine = make_engine(database_url)
    try:
        sessions = make_sessions(engine)
        with sessions.begin() as session:
            now = standing(session, "staging")
            assert now.standing is Standing.LEARNED and now.recording == "staging.har"
            assert now.host == "staging.coursedog.com"
            assert now.describe().startswith("learned from a recording on ")
            assert standing(session, "prod").standing is Standing.ASSUMED
        contracts = stored_contracts(sessions, ["prod", "staging"])
        assert list(contracts) == ["staging"]
        assert contracts["staging"].schedule.method == "PUT"
        with engine.connect() as conn:
            event = conn.execute(
                text(
                    "SELECT actor, environment, detail FROM audit_events "
                    "WHERE action = 'write_contract_learned'"
                )
            ).one()
    finally:
        engine.dispose()
    assert event.actor.startswith("cli") and event.environment == "staging"
    assert event.detail == (
        "learned the writes of staging from staging.har (staging.coursedog.com): schedule "
        "PUT /api/v1/{school}/general/integrationSchedule"
    )


def test_without_write_nothing_is_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path, database_url: str
) -> None:
    run = learn(capsys, config, database_url, har(tmp_path, assumed_recording(STAGING)))
    assert run.code == 0
    assert run.out.splitlines()[-1] == (
        "Not stored. Run again with --write to keep it as staging's write contract."
    )
    assert ledger_text(database_url) == ""


def test_learning_again_replaces_the_contract_and_forgets_its_proof(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path, database_url: str
) -> None:
    first = har(tmp_path, assumed_recording(STAGING), "first.har")
    assert learn(capsys, config, database_url, first, "--env", "stage", "--write").code == 0
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE write_contracts SET verified_at = CURRENT_TIMESTAMP, "
                "verified_host = 'staging.coursedog.com', proof = '{}'"
            )
        )
    second = har(tmp_path, settings_recording(STAGING), "second.har")
    run = learn(capsys, config, database_url, second, "--write")
    assert run.code == 0
    assert "in place of the one verified on " in run.out
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM write_contracts")).one()
        events = conn.execute(
            text(
                "SELECT data FROM audit_events WHERE action = 'write_contract_learned' ORDER BY id"
            )
        ).all()
    engine.dispose()
    assert (row.recording, row.verified_at, row.verified_host, row.proof) == (
        "second.har",
        None,
        None,
        None,
    )
    contract = row.contract if isinstance(row.contract, dict) else json.loads(row.contract)
    assert contract["schedule"]["path"] == "/api/v1/{school}/settings/save"
    data = [e.data if isinstance(e.data, dict) else json.loads(e.data) for e in events]
    assert data[0]["before"] is None
    assert data[1]["before"]["recording"] == "first.har"
    assert data[1]["before"]["verified_host"] == "staging.coursedog.com"
    assert data[1]["after"]["contract"] == contract


def _only_a_save() -> Recorder:
    rec = Recorder("staging.coursedog.com")
    rec.api("PUT", f"/api/v1/{STAGING}/general/integrationSchedule", body={"x": 1})
    return rec


REFUSALS = [
    (
        "never reads",
        _only_a_save,
        [],
        "the recording never reads the schedule",
    ),
    (
        "another school",
        lambda: assumed_recording(STAGING),
        ["--env", "prod"],
        "the recording is of another school (state_u_staging on staging.coursedog.com), "
        "not state_u_prod",
    ),
    (
        "no environment has it",
        lambda: assumed_recording("state_u_other"),
        [],
        "the recording is of a school that no environment of the configuration has",
    ),
    ("unknown environment", lambda: assumed_recording(STAGING), ["--env", "qa"], "no environment"),
]


@pytest.mark.parametrize(
    ("name", "recording", "args", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_each_refusal_says_why_and_stores_nothing(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    config: Path,
    database_url: str,
    name: str,
    recording: object,
    args: list[str],
    reason: str,
) -> None:
    rec = recording()  # type: ignore[operator]
    run = learn(capsys, config, database_url, har(tmp_path, rec), *args, "--write")
    assert run.code == coursedog_learn_cli.EXIT_REFUSED
    assert run.err.startswith("sis-maint: nothing learned: ")
    assert reason in run.err and "Traceback" not in run.err
    assert run.out == ""
    assert ledger_text(database_url) == ""


@pytest.mark.parametrize(
    ("recording", "reason"), REFUSED, ids=[factory.__name__ for factory, _ in REFUSED]
)
def test_each_recording_the_learner_refuses_is_refused_by_the_command(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    config: Path,
    recording: Callable[[], Recorder],
    reason: str,
) -> None:
    path = har(tmp_path, recording())
    run = learn(capsys, config, f"sqlite:///{tmp_path / 'unused.db'}", path, "--env", "staging")
    assert run.code == 2 and reason in run.err and run.out == ""


def test_several_candidates_are_listed_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path, database_url: str
) -> None:
    rec = assumed_recording(STAGING)
    rec.api("POST", f"/api/v1/{STAGING}/notes", body={"note": "another typed note here"})
    run = learn(capsys, config, database_url, har(tmp_path, rec))
    assert run.code == 2
    assert "several requests after the Saves could be the Activity comment" in run.err
    listed = [line for line in run.err.splitlines() if line.startswith("  - ")]
    assert listed == [
        f"  - POST /api/v1/{STAGING}/integration/mergeSettings/activity (entry 7, answered 201)",
        f"  - POST /api/v1/{STAGING}/notes (entry 8, answered 200)",
    ]


def test_a_file_that_is_not_a_recording_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path, database_url: str
) -> None:
    path = tmp_path / "notes.har"
    path.write_text("Save all as HAR, then...", encoding="utf-8")
    run = learn(capsys, config, database_url, str(path))
    assert run.code == 2 and "notes.har is not a HAR file: it is not JSON" in run.err
    run = learn(capsys, config, database_url, str(tmp_path / "absent.har"))
    assert run.code == 2 and "absent.har cannot be read" in run.err


def test_no_secret_of_the_recording_is_printed_or_stored(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path, database_url: str
) -> None:
    path = har(tmp_path, settings_recording(STAGING, noisy=100))
    raw = Path(path).read_text(encoding="utf-8")
    assert all(secret in raw for secret in SECRETS)
    run = learn(capsys, config, database_url, path, "--write")
    assert run.code == 0
    assert "Dropped before anything was read: " in run.out and "1 login" in run.out
    refused = learn(capsys, config, database_url, path, "--env", "prod")
    assert refused.code == 2
    shown = run.out + run.err + refused.out + refused.err + ledger_text(database_url)
    assert "write_contract_learned" in shown
    for secret in SECRETS:
        assert secret not in shown


def test_storing_needs_a_migrated_ledger(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    run = learn(capsys, config, empty, har(tmp_path, assumed_recording(STAGING)), "--write")
    assert run.code == 2 and "run `sis-maint migrate` first" in run.err


def test_an_unexpected_failure_exits_1(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    config: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(coursedog_learn_cli, "learn_recording", broken)
    run = learn(capsys, config, database_url, har(tmp_path, assumed_recording(STAGING)))
    assert run.code == coursedog_learn_cli.EXIT_UNEXPECTED
    assert "disk on fire" in run.err


def test_a_bad_stored_contract_stops_the_bot_from_starting_and_is_replaced_by_learning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, config: Path, database_url: str
) -> None:
    path = har(tmp_path, assumed_recording(STAGING))
    assert learn(capsys, config, database_url, path, "--write").code == 0
    engine = make_engine(database_url)
    with engine.begin() as conn:
        row = conn.execute(text("SELECT contract FROM write_contracts")).one()
        doc = row.contract if isinstance(row.contract, dict) else json.loads(row.contract)
        doc["schedule"]["fields"][0]["values"][0]["nightly"] = "off"
        conn.execute(text("UPDATE write_contracts SET contract = :c"), {"c": json.dumps(doc)})
    engine.dispose()
    environ = {
        "SIS_MAINT_CONFIG": str(config),
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret-for-a-start-that-stops-early",
        "CD_EMAIL": "svc@example.edu",
        "CD_PASSWORD": "pw",
    }
    code = cli.main(["serve", "--http", "--port", "0"], environ)
    err = capsys.readouterr().err
    assert code == 2
    assert "The write contract stored for staging (learned from staging.har on " in err
    assert (
        "is not valid: schedule.fields[0].values[0]: nightly and realtime must be true or "
        "false. The bot will not write the assumed way in its place: learn it again with "
        "`sis-maint coursedog learn RECORDING.har --env staging --write`."
    ) in err
    run = learn(capsys, config, database_url, path, "--write")
    assert run.code == 0
    assert "in place of the one a stored contract that was not valid" not in run.out
    assert "in place of a stored contract that was not valid." in run.out


def test_check_shows_the_writes_as_learned_with_their_standing(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with Simulator(users={EMAIL: PASSWORD}, schools={STAGING: SchoolState()}) as sim:
        config = tmp_path / "sim.toml"
        config.write_text(
            CONFIG.replace("https://staging.coursedog.com", sim.base_url), encoding="utf-8"
        )
        path = har(tmp_path, settings_recording(STAGING))
        assert learn(capsys, config, database_url, path, "--write").code == 0
        environ = {
            "SIS_MAINT_CONFIG": str(config),
            "DATABASE_URL": database_url,
            "CD_EMAIL": EMAIL,
            "CD_PASSWORD": PASSWORD,
        }
        code = cli.main(["coursedog", "check", "staging"], environ)
    out = capsys.readouterr().out
    assert code == 0, out
    day = datetime.now(UTC).date().isoformat()  # the learn above stored today's date
    assert (f"  write  POST /api/v1/{STAGING}/settings/save: learned from a recording on ") in out
    assert f"  write  POST /api/v1/{STAGING}/activity: learned from a recording on {day}" in out


def test_check_without_a_ledger_creates_none_and_says_the_writes_are_assumed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with Simulator(users={EMAIL: PASSWORD}, schools={STAGING: SchoolState()}) as sim:
        config = tmp_path / "sim.toml"
        config.write_text(
            CONFIG.replace("https://staging.coursedog.com", sim.base_url), encoding="utf-8"
        )
        absent = tmp_path / "absent.db"
        environ = {
            "SIS_MAINT_CONFIG": str(config),
            "DATABASE_URL": f"sqlite:///{absent}",
            "CD_EMAIL": EMAIL,
            "CD_PASSWORD": PASSWORD,
        }
        code = cli.main(["coursedog", "check", "staging"], environ)
        unmigrated = tmp_path / "empty.db"
        unmigrated.write_bytes(b"")
        code_unmigrated = cli.main(
            ["coursedog", "check", "staging"],
            {**environ, "DATABASE_URL": f"sqlite:///{unmigrated}"},
        )
    captured = capsys.readouterr()
    first, second = captured.out.split("Coursedog as configured in ")[1:]
    assert "sis-maint: the writes' standing cannot be read: The database is at revision none" in (
        captured.err
    )
    assert code == 0 and not absent.exists()
    assert f"  write  PUT /api/v1/{STAGING}/general/integrationSchedule: assumed" in first
    assert code_unmigrated == 0
    assert ": unknown (the ledger cannot be read)" in second

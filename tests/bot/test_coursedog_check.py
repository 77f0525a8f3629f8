"""`sis-maint coursedog check`, run as an admin runs it on day one, against the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from bot.cli.check_render import render_text
from bot.cli.check_report import run_check
from bot.config import parse_settings
from coursedog import wire
from coursedog.session import SessionPool
from coursedog.simulator import SchoolState, Simulator
from coursedog.simulator_faults import Fault
from tests.harness import EMAIL, PASSWORD, settings_document

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = "integrationSchedule"
SAVE_STATE = "enabledIntegrationSaveState"
HISTORY = "merge-history"


@dataclass(frozen=True)
class Run:
    """One run of the command: its exit code and everything it printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def sim() -> Iterator[Simulator]:
    schools = {
        "state_u_prod": SchoolState(nightly=True, realtime=True),
        "state_u_staging": SchoolState(nightly=True, realtime=False),
        "state_u_sandbox": SchoolState(nightly=False, realtime=False),
    }
    with Simulator(users={EMAIL: PASSWORD}, schools=schools) as simulator:
        yield simulator


def check(sim: Simulator, tmp_path: Path, *args: str, **overrides: object) -> Run:
    """Run `sis-maint coursedog check ARGS` against the simulator, as a separate process."""
    doc = settings_document(sim.base_url, **overrides)
    config = tmp_path / "sis-maint.toml"
    config.write_text(toml(doc), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIS_MAINT_", "CD_", "LOG_"))}
    env |= {"SIS_MAINT_CONFIG": str(config), "CD_EMAIL": EMAIL, "CD_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "coursedog", "check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def toml(doc: dict[str, object], prefix: str = "") -> str:
    """Just enough TOML for a settings document: scalars, lists and nested tables."""
    scalars = {k: v for k, v in doc.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in doc.items() if isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix else []
    lines += [f"{k} = {json.dumps(v)}" for k, v in scalars.items()]
    for key, table in tables.items():
        name = f"{prefix}.{json.dumps(key)}" if prefix else json.dumps(key)
        lines.append(toml(table, name))
    return "\n".join(lines) + "\n"


def flat(text: str) -> str:
    """Text with runs of spaces made one: the report aligns its columns."""
    return " ".join(text.split())


def only_reads(sim: Simulator) -> bool:
    return all(m == "GET" or p == "/api/v1/sessions" for m, p in sim.requests)


@pytest.mark.subprocess
def test_every_read_understood_exits_0_and_shows_what_each_answered(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.school("state_u_prod").extra_fields = {"nightlyStartTime": "01:30"}
    sim.add_merge_item("state_u_prod", wire.merge_report_item("r-7", "success", "nightly"))
    sim.add_merge_item("state_u_prod", wire.in_progress_item("job-8", "nightly"))

    run = check(sim, tmp_path)

    assert run.code == 0, run.out + run.err
    out = flat(run.out)
    assert "prod — Production: 127.0.0.1:" in out
    assert "school state_u_prod (api driver: the bot writes (assumed))" in out
    assert "login POST /api/v1/sessions 200 in " in out
    assert "password sent as plaintextPassword (as configured)" in out
    assert "it lasts 24 h (until " in out and "logs in again after 23 h, at " in out
    assert "GET /api/v1/state_u_prod/general/integrationSchedule 200 in " in out
    assert 'syncType = "realtime" known: nightly on, real-time on' in out
    assert "nightly = (absent) known: syncType decides" in out
    assert "other fields, sent back unchanged on a write: nightlyStartTime" in out
    assert (
        'enabledIntegrationSaveState.integrationSaveStateId = "ss-1" known: the enabled saved '
        "state's id"
    ) in out
    assert "(scheduleType=nightly) 200 in " in out
    assert "known: nightly merge running" in out
    assert "known: nightly merge succeeded (success), report r-7" in out
    assert "PUT /api/v1/state_u_prod/general/integrationSchedule: assumed" in out
    assert "POST /api/v1/state_u_prod/integration/mergeSettings/activity: assumed" in out
    # Staging is nightly only: read right, and the value's standing is said.
    assert 'syncType = "nightly" known: nightly on, real-time off (an assumed value' in out
    # One login for the three schools on the host, and nothing but reads.
    assert "the same login as prod, staging (one per host and user)" in out
    assert sim.calls("POST", "/sessions") == 1
    assert only_reads(sim)
    assert "Every read is understood (3 of 3 environments)." in out


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"syncType": "weekly"}, 'syncType = "weekly"  ERROR: a value the bot does not know'),
        ({"nightlyStartTime": "01:30"}, "syncType = (absent)  ERROR: missing"),
        ({"syncType": "realtime", "nightly": "yes"}, 'nightly = "yes"       ERROR: not a boolean'),
    ],
)
@pytest.mark.subprocess
def test_a_schedule_with_an_unknown_value_or_a_missing_field_exits_1(
    sim: Simulator, tmp_path: Path, answer: dict[str, object], said: str
) -> None:
    sim.set_school("state_u_prod", {"schedule_answer": answer})

    run = check(sim, tmp_path, "prod")

    assert run.code == 1
    assert flat(said) in flat(run.out)
    assert "GET /api/v1/state_u_prod/general/integrationSchedule 200 in " in run.out
    assert "=> ERROR: not understood: read_schedule" in run.out
    assert "1 of 1 environments have a read the bot does not understand" in run.out
    assert only_reads(sim) and sim.school("state_u_prod").schedule_answer == answer


@pytest.mark.parametrize(
    ("fault", "said", "read"),
    [
        (
            Fault("status", method="GET", path_contains=SAVE_STATE, status=200, body={"x": 1}),
            "ERROR: answer names no saved state id",
            "read_save_state",
        ),
        (
            Fault("status", method="GET", path_contains=HISTORY, status=200, body={"total": 0}),
            "ERROR: merge history has no items list",
            "merge_history nightly",
        ),
        (
            Fault("status", method="GET", path_contains=SCHEDULE, status=503, times=None),
            "integrationSchedule 503 in ",
            "read_schedule",
        ),
        (
            Fault("status", method="GET", path_contains=SCHEDULE, status=200, body={"a": 1}),
            "ERROR: answer has no integrationSchedule object",
            "read_schedule",
        ),
    ],
    ids=["saved-state-without-id", "history-without-items", "503", "no-schedule-object"],
)
@pytest.mark.subprocess
def test_a_read_that_fails_or_is_not_understood_exits_1(
    sim: Simulator, tmp_path: Path, fault: Fault, said: str, read: str
) -> None:
    sim.inject(fault)

    run = check(sim, tmp_path, "prod")

    assert run.code == 1
    assert said in run.out
    assert f"=> ERROR: not understood: {read}" in run.out


@pytest.mark.subprocess
def test_an_unparseable_merge_history_item_is_an_error(sim: Simulator, tmp_path: Path) -> None:
    sim.add_merge_item("state_u_prod", {"scheduleType": "realtime", "mergeReport": {"id": "r"}})

    run = check(sim, tmp_path, "prod")

    assert run.code == 1
    assert "(scheduleType=realtime) 200 in " in run.out
    assert "ERROR: merge history item 0 has neither a report nor a running job" in run.out


@pytest.mark.subprocess
def test_the_password_key_that_worked_is_reported_with_the_setting_to_use(
    tmp_path: Path,
) -> None:
    schools = {"state_u_prod": SchoolState()}
    with Simulator(users={EMAIL: PASSWORD}, schools=schools, password_fields=("password",)) as sim:
        run = check(sim, tmp_path, "prod")

    assert run.code == 0
    assert "password sent as password: Coursedog refused plaintextPassword (400)" in run.out
    assert 'set password_field = "password" under [coursedog_api]' in run.out


@pytest.mark.subprocess
def test_a_refused_login_reads_nothing_and_exits_1(sim: Simulator, tmp_path: Path) -> None:
    sim.users[EMAIL] = "another-password"

    run = check(sim, tmp_path, "prod")

    assert run.code == 1
    assert "login  POST /api/v1/sessions 401 in " in run.out
    assert f"refused the login of {EMAIL}" in run.out
    assert "reads: not made, since the login failed" in run.out
    assert sim.requests == [("POST", "/api/v1/sessions")]


@pytest.mark.subprocess
def test_never_prints_the_password_or_a_token_even_when_things_fail(
    sim: Simulator, tmp_path: Path
) -> None:
    echo = {"message": f"cannot parse request of {EMAIL} with password {PASSWORD}"}
    runs = [check(sim, tmp_path), check(sim, tmp_path, "--json")]
    sim.inject(Fault("status", method="GET", path_contains=SCHEDULE, status=400, body=echo))
    sim.inject(Fault("status", method="GET", path_contains=SAVE_STATE, status=401, times=None))
    sim.set_school("state_u_staging", {"schedule_answer": {"syncType": PASSWORD}})
    runs += [check(sim, tmp_path), check(sim, tmp_path, "--json")]
    sim.inject(
        Fault("status", method="POST", path_contains="/sessions", status=500, body=echo, times=None)
    )
    runs.append(check(sim, tmp_path, "prod"))

    tokens = sim.issued_tokens()
    assert len(tokens) >= 4
    assert [r.code for r in runs] == [0, 0, 1, 1, 1]
    assert "***" in runs[2].out  # the echoed password, masked
    for run in runs:
        for secret in (PASSWORD, *tokens):
            assert secret not in run.out and secret not in run.err


@pytest.mark.subprocess
def test_the_json_report_is_for_scripts(sim: Simulator, tmp_path: Path) -> None:
    sim.set_school("state_u_staging", {"schedule_answer": {"syncType": "paused"}})

    run = check(sim, tmp_path, "--json", "prod", "staging", "staging")

    assert run.code == 1
    report = json.loads(run.out)
    assert report["understood"] is False
    prod, staging = report["environments"]  # named twice, checked once
    assert (prod["name"], prod["understood"], staging["understood"]) == ("prod", True, False)
    assert prod["probe"]["login"]["password_field"] == "plaintextPassword"
    assert prod["probe"]["login"]["issued_at"].endswith("+00:00")
    reads = {r["name"]: r for r in staging["probe"]["reads"]}
    assert reads["read_schedule"]["understood"] is False
    assert reads["read_schedule"]["status"] == 200
    assert reads["read_save_state"]["understood"] is True
    assert [w["label"] for w in prod["writes"]] == ["assumed", "assumed"]
    assert staging["shares_login_with"] == ["prod"]


@pytest.mark.subprocess
def test_names_aliases_and_environments_without_an_api_user(sim: Simulator, tmp_path: Path) -> None:
    doc = settings_document(sim.base_url)
    sandbox = doc["environments"]["sandbox"]
    sandbox["driver"] = "assisted"
    del sandbox["email_env"], sandbox["password_env"]

    run = check(sim, tmp_path, "production", "sandbox", environments=doc["environments"])

    assert run.code == 0
    assert "state_u_prod" in run.out and "state_u_staging" not in run.out
    assert "no API user (no email_env/password_env): nothing to read" in run.out
    assert not any("state_u_sandbox" in path for _, path in sim.requests)


@pytest.mark.subprocess
def test_an_unknown_environment_is_a_configuration_error(sim: Simulator, tmp_path: Path) -> None:
    run = check(sim, tmp_path, "prod", "nowhere")

    assert run.code == 2 and "Traceback" not in run.err
    assert "no environment 'nowhere' in the configuration (environments: prod, " in run.err
    assert sim.requests == []


@pytest.mark.subprocess
def test_an_unset_credential_is_a_configuration_error(sim: Simulator, tmp_path: Path) -> None:
    doc = settings_document(sim.base_url)
    doc["environments"]["staging"]["password_env"] = "CD_STAGING_PASSWORD"

    run = check(sim, tmp_path, environments=doc["environments"])

    assert run.code == 2 and "Traceback" not in run.err
    assert "environments.staging: set CD_STAGING_PASSWORD" in run.err
    assert sim.requests == []


@pytest.mark.subprocess
def test_an_unreachable_coursedog_is_no_answer_and_exit_1(tmp_path: Path) -> None:
    with Simulator() as gone:
        url = gone.base_url
    doc = settings_document(url)
    config = tmp_path / "c.toml"
    config.write_text(toml(doc), encoding="utf-8")
    env = {**os.environ, "SIS_MAINT_CONFIG": str(config), "CD_EMAIL": EMAIL, "CD_PASSWORD": "x"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "coursedog", "check", "prod"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )  # fmt: skip

    assert done.returncode == 1
    assert "login  POST /api/v1/sessions no answer in " in done.stdout
    assert "Could not reach Coursedog at 127.0.0.1:" in done.stdout


def test_the_standing_of_each_write_comes_from_one_function(sim: Simulator) -> None:
    settings = parse_settings(settings_document(sim.base_url))
    standings = {
        "prod": ("verified", date(2027, 1, 11)),
        "staging": ("learned", date(2027, 1, 4)),
        "sandbox": ("assumed", None),
    }
    environ = {"CD_EMAIL": EMAIL, "CD_PASSWORD": PASSWORD}

    report = run_check(settings, environ, pool=SessionPool(), standing_of=standings.__getitem__)

    text = render_text(report)
    assert "integrationSchedule: verified on 2027-01-11" in text
    assert "mergeSettings/activity: learned from a recording on 2027-01-04" in text
    assert "state_u_sandbox/general/integrationSchedule: assumed" in text
    assert report.exit_code == 0

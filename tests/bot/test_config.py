from datetime import timedelta
from typing import Any

import pytest

from bot.config import load_settings, parse_settings
from bot.errors import ConfigError
from bot.process_env import ProcessEnv


def document(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "approvals_channel": "C0APPROVALS",
        "approvers": ["U0APPROVE1"],
        "environments": {
            "prod": {
                "label": "Production",
                "base_url": "https://app.coursedog.com",
                "school": "stateu_banner",
                "email_env": "CD_EMAIL",
                "password_env": "CD_PASSWORD",
                "aliases": ["production"],
            }
        },
    }
    doc.update(overrides)
    return doc


def test_valid_document() -> None:
    settings = parse_settings(document())
    assert settings.environment_names() == {"prod": "prod", "production": "prod"}
    assert settings.time_zone("prod") == "America/New_York"
    assert settings.approvers_for("prod") == {"U0APPROVE1"}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"approvals_channel": ""}, "approvals_channel"),
        ({"approvers": ["bob"]}, "approvers[0]"),
        ({"environments": {}}, "[environments]"),
        ({"surprise": 1}, "the top level: unknown key `surprise`"),
        ({"defaults": {"time_zone": "Mars/Olympus"}}, "[defaults] time_zone"),
        ({"defaults": {"max_duration": "forever"}}, "[defaults] max_duration"),
        ({"coursedog_api": {"no_such_key": "x"}}, "[coursedog_api]"),
    ],
)
def test_invalid_documents_name_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(document(**change), "site.toml")
    assert f"  {key}" in str(info.value) and "site.toml is not valid" in str(info.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("school", ""), ("base_url", "ftp://x"), ("driver", "robot"), ("email_env", "lower case")],
)
def test_invalid_environment_fields_name_the_key(field: str, value: str) -> None:
    doc = document()
    doc["environments"]["prod"][field] = value
    with pytest.raises(ConfigError, match=rf"\[environments\.prod\] {field}: "):
        parse_settings(doc)


def test_missing_environment_key_is_named() -> None:
    doc = document()
    del doc["environments"]["prod"]["school"]
    with pytest.raises(ConfigError, match=r"\[environments\.prod\] school: required, and not in"):
        parse_settings(doc)


def test_alias_clash_is_refused() -> None:
    doc = document()
    doc["environments"]["staging"] = {**doc["environments"]["prod"], "aliases": ["production"]}
    with pytest.raises(ConfigError, match="'production' is used by prod and staging"):
        parse_settings(doc)


def test_credentials_come_from_the_named_variables() -> None:
    env = parse_settings(document()).environments["prod"]
    email, password = env.credentials("prod", {"CD_EMAIL": "a@b.edu", "CD_PASSWORD": "s3cret"})
    assert email == "a@b.edu" and password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(password)
    with pytest.raises(ConfigError, match="set CD_PASSWORD"):
        env.credentials("prod", {"CD_EMAIL": "a@b.edu"})


def test_embedded_defaults_load_and_file_errors_are_specific(tmp_path: Any) -> None:
    settings, source = load_settings(ProcessEnv.read({}))
    assert source == "embedded defaults" and settings.simulator.embedded
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(ProcessEnv.read({"SIS_MAINT_CONFIG": str(tmp_path / "missing.toml")}))
    bad = tmp_path / "bad.toml"
    bad.write_text("approvals_channel = ")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(ProcessEnv.read({"SIS_MAINT_CONFIG": str(bad)}))


def test_example_config_is_valid() -> None:
    settings, _ = load_settings(ProcessEnv.read({"SIS_MAINT_CONFIG": "config.example.toml"}))
    assert set(settings.environments) == {"prod", "staging", "sandbox"}
    sandbox = settings.environments["sandbox"]
    assert sandbox.driver == "assisted" and not sandbox.reads
    assert settings.coursedog_notice.mails


def test_policy_inherits_defaults_and_windows_take_the_strictest() -> None:
    doc = document(defaults={"nag_every": "20m", "escalate_after": 4})
    doc["environments"]["staging"] = {
        **doc["environments"]["prod"],
        "aliases": [],
        "auto_reenable": False,
        "remind_before_end": "30m",
        "max_duration": "6h",
        "time_zone": "America/Chicago",
    }
    settings = parse_settings(doc)
    prod = settings.policy("prod")
    assert prod.auto_reenable is True and prod.nag_every == timedelta(minutes=20)
    assert prod.time_zone == "America/New_York"
    both = settings.window_policy(["prod", "staging"])
    assert both.auto_reenable is False
    assert both.remind_before_end == timedelta(minutes=30)
    assert both.max_duration == timedelta(hours=6)
    assert both.escalate_after == 4 and both.time_zone == "America/New_York"


def test_a_policy_is_made_once_and_a_copy_with_other_defaults_makes_its_own() -> None:
    settings = parse_settings(document(defaults={"nag_every": "20m"}))
    prod = settings.policy("prod")
    assert settings.policy("prod") is prod
    stricter = settings.defaults.model_copy(update={"nag_every": timedelta(minutes=5)})
    copy = settings.model_copy(update={"defaults": stricter})
    assert copy.policy("prod").nag_every == timedelta(minutes=5)
    assert settings.policy("prod").nag_every == timedelta(minutes=20)


def test_nightly_merge_span_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"\[nightly_merge\] start: '25:00' is not a time of day"):
        parse_settings(document(nightly_merge={"start": "25:00"}))
    span = parse_settings(document(nightly_merge={"start": "02:00", "end": "04:00"})).nightly_merge
    assert span.span().describe() == "02:00-04:00 America/New_York"


def test_blackouts_and_series_settings() -> None:
    settings = parse_settings(
        document(
            blackouts=[
                {"name": "Registration", "start": "2027-01-11", "end": "2027-01-15"},
                {
                    "name": "Grades",
                    "start": "2027-05-10 08:00",
                    "end": "2027-05-10T18:00",
                    "environments": ["prod"],
                    "time_zone": "America/Chicago",
                },
            ],
            series={"lookahead": "3d"},
        )
    )
    assert [b.name for b in settings.blackouts] == ["Registration", "Grades"]
    assert settings.series.lookahead == timedelta(days=3)
    assert parse_settings(document()).series.lookahead == timedelta(days=7)


@pytest.mark.parametrize(
    ("blackout", "key", "message"),
    [
        ({"start": "2027-01-15", "end": "2027-01-11"}, "[blackouts[0]]:", "end must be after"),
        ({"start": "soon", "end": "2027-01-11"}, "[blackouts[0]] start:", "'soon' is not a date"),
        ({"start": "2027-01-11T08:00-05:00", "end": "2027-01-12"}, "[blackouts[0]] start", "local"),
        (
            {"start": "2027-01-11", "end": "2027-01-12", "environments": ["prod", "qa"]},
            "[blackouts[0]] environments[1]:",
            "'qa' is not an environment, alias or group (environments: prod)",
        ),
        (
            {"start": "2027-01-11", "end": "2027-01-12", "time_zone": "Mars/X"},
            "[blackouts[0]] time_zone:",
            "zone",
        ),
    ],
)
def test_bad_blackouts_name_the_key(blackout: dict[str, Any], key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(document(blackouts=[{"name": "Reg", **blackout}]), "site.toml")
    assert f"  {key}" in str(info.value) and message in str(info.value)


def test_blackout_names_are_unique_and_lookahead_is_bounded() -> None:
    twice = {"name": "Reg", "start": "2027-01-11", "end": "2027-01-12"}
    with pytest.raises(ConfigError, match="the name 'reg' is used twice"):
        parse_settings(document(blackouts=[twice, {**twice, "name": "reg"}]))
    with pytest.raises(ConfigError, match=r"\[series\] lookahead: lookahead must be between"):
        parse_settings(document(series={"lookahead": "45d"}))


def _colleges(*blackouts: dict[str, Any], **groups: list[str]) -> dict[str, Any]:
    """Three colleges beside prod, and ``groups`` of them, with ``blackouts``."""
    doc = document()
    for name in ("qns", "bmcc", "hunter"):
        doc["environments"][name] = {**doc["environments"]["prod"], "aliases": [f"{name}-cc"]}
    doc["groups"] = groups
    doc["blackouts"] = [
        {"name": f"Period {i}", "start": "2027-01-11", "end": "2027-01-12", **b}
        for i, b in enumerate(blackouts)
    ]
    return doc


def test_a_blackout_over_a_group_covers_its_members_as_if_they_were_listed() -> None:
    settings = parse_settings(
        _colleges(
            {"environments": ["all-colleges"]},
            {"environments": ["qns", "All-Colleges", "bmcc-cc"]},  # a member again: once
            {"environments": ["prod", "Production", "pair"]},
            **{"all-colleges": ["qns", "bmcc-cc", "hunter"], "pair": ["prod", "qns"]},
        )
    )
    covered = [b.environments for b in settings.blackouts]
    assert covered == [
        ["qns", "bmcc", "hunter"],
        ["qns", "bmcc", "hunter"],
        ["prod", "qns"],
    ]
    listed = parse_settings(_colleges({"environments": ["qns", "bmcc", "hunter"]}))
    assert listed.blackouts[0] == settings.blackouts[0]  # the same period, as if listed


def test_a_blackout_names_an_environment_alias_or_group_at_its_key() -> None:
    doc = _colleges(
        {"environments": ["qns", "all-colleg"]},
        {"environments": ["prod", "qa"]},
        {"name": "period 0"},
        **{"all-colleges": ["qns", "bmcc"]},
    )
    assert _errors(doc) == [
        "[blackouts[0]] environments[1]: 'all-colleg' is not an environment, alias or group: "
        "did you mean 'all-colleges'?",
        "[blackouts[1]] environments[1]: 'qa' is not an environment, alias or group "
        "(environments: bmcc, hunter, prod, qns; groups: all-colleges)",
        "[blackouts[2]] name: the name 'period 0' is used twice",
    ]


@pytest.mark.parametrize(
    ("groups", "said"),
    [
        ({"none": []}, "the top level: groups.none: name at least one environment"),
        ({"none": ["qa"]}, "the top level: groups.none: no environment 'qa' (known: bmcc,"),
        ({"No Name": ["qns"]}, "[groups] \"No Name\": 'No Name' is not a short lower-case"),
    ],
)
def test_a_group_that_cannot_be_used_is_one_error_not_also_the_blackouts(
    groups: dict[str, list[str]], said: str
) -> None:
    errors = _errors(_colleges({"environments": ["none", "qns"]}, **groups))
    assert len(errors) == 1 and errors[0].startswith(said), errors


def test_a_host_may_have_its_own_coursedog_names() -> None:
    doc = document(coursedog_api={"password_field": "password"})
    doc["environments"]["staging"] = {
        **doc["environments"]["prod"],
        "base_url": "https://Staging.Coursedog.com",
        "aliases": [],
    }
    doc["coursedog_hosts"] = {"staging.coursedog.com": {"schedule_write_method": "POST"}}
    settings = parse_settings(doc)

    staging, prod = settings.wire("staging"), settings.wire("prod")
    assert (staging.schedule_write_method, staging.password_field) == ("POST", "password")
    assert (prod.schedule_write_method, prod.password_field) == ("PUT", "password")
    assert settings.wire() == prod
    assert settings.environments["staging"].host == "staging.coursedog.com"


@pytest.mark.parametrize(
    ("hosts", "said"),
    [
        (
            {"stagin.coursedog.com": {}},
            "[coursedog_hosts]: stagin.coursedog.com: no environment is on this host "
            "(in use: app.coursedog.com)",
        ),
        (
            {"app.coursedog.com": {"comment_method": "GET"}},
            "[coursedog_hosts]: app.coursedog.com: coursedog_api.comment_method must be one of",
        ),
        (
            {"app.coursedog.com": {"pasword_field": "x"}},
            "[coursedog_hosts]: app.coursedog.com: coursedog_api.pasword_field is not a known",
        ),
    ],
)
def test_a_hosts_coursedog_names_are_checked(hosts: dict[str, Any], said: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(document(coursedog_hosts=hosts))
    assert said in str(info.value)


def _errors(doc: dict[str, Any]) -> list[str]:
    """The lines of the ConfigError for ``doc``, after its first ("site.toml is not valid:")."""
    with pytest.raises(ConfigError) as info:
        parse_settings(doc, "site.toml")
    first, *lines = str(info.value).splitlines()
    assert first == "site.toml is not valid:"
    return [line.strip() for line in lines]


def _environment(**fields: Any) -> dict[str, Any]:
    doc = document()
    doc["environments"]["prod"].update(fields)
    return doc


@pytest.mark.parametrize(
    ("doc", "said"),
    [
        (
            document(defaults={"remind_before_strat": "1h"}),
            "[defaults]: unknown key `remind_before_strat`: did you mean `remind_before_start`?",
        ),
        (
            _environment(remind_before_strat="1h"),
            "[environments.prod]: unknown key `remind_before_strat`: "
            "did you mean `remind_before_start`?",
        ),
        (
            document(simulatr={"port": 1}),
            "the top level: unknown key `simulatr`: did you mean `simulator`?",
        ),
        (
            document(nightly_merge={"begin": "01:00"}),
            "[nightly_merge]: unknown key `begin`; the keys here are start, end, time_zone",
        ),
        (
            _environment(colour="blue"),
            "[environments.prod]: unknown key `colour` (config.example.toml shows every key)",
        ),
        (
            _environment(email_env="integration@stateu.edu"),
            "[environments.prod] email_env: this names an environment variable, not an "
            "address: put the address in a variable (COURSEDOG_EMAIL=…) and write its name here",
        ),
        (
            document(approvers=["@alex.morgan"]),
            "approvers[0]: '@alex.morgan' is not a Slack ID: use the member ID (U…) from the "
            "person's Slack profile (⋮ menu → Copy member ID), or a user group's ID (S…)",
        ),
        (
            _environment(approvers=["U0APPROVE1", "alex"]),
            "[environments.prod] approvers[1]: 'alex' is not a Slack ID: use the member ID",
        ),
        (
            document(approvers=["<@U0APPROVE2>"]),
            "approvers[0]: '<@U0APPROVE2>' is a mention: write the ID alone, U0APPROVE2",
        ),
        (
            _environment(driver="apy"),
            "[environments.prod] driver: must be one of 'auto', 'api', 'assisted', not 'apy'; "
            "did you mean 'api'?",
        ),
        (_environment(escalate_after=0), "[environments.prod] escalate_after: must be at least 1"),
        (_environment(label=""), "[environments.prod] label: must not be empty"),
        (_environment(auto_reenable="maybe"), "[environments.prod] auto_reenable: must be true"),
        (
            document(simulator={"port": "abc"}),
            "[simulator] port: must be a whole number, not 'abc'",
        ),
        (
            document(coursedog_api={"x": 5}),
            "[coursedog_api] x: must be text in quotes, or true or false, not 5",
        ),
        (document(environments={"prod": "x"}), "[environments] prod: must be a table, not 'x'"),
        (
            _environment(base_url="stateu.coursedog.com"),
            "[environments.prod] base_url: 'stateu.coursedog.com' is not the instance's address",
        ),
        (
            document(environments={"Prod Env": document()["environments"]["prod"]}),
            "[environments] \"Prod Env\": 'Prod Env' is not a short lower-case name",
        ),
    ],
)
def test_a_likely_first_mistake_is_said_plainly(doc: dict[str, Any], said: str) -> None:
    errors = _errors(doc)
    assert len(errors) == 1, errors
    assert errors[0].startswith(said), errors[0]
    assert "Input should" not in errors[0] and "Extra inputs" not in errors[0]


def test_a_password_in_password_env_is_not_repeated() -> None:
    errors = _errors(_environment(password_env="hunter2-secret"))
    assert errors == [
        "[environments.prod] password_env: this names an environment variable (capital "
        "letters, digits and _, such as COURSEDOG_PASSWORD), never the secret itself"
    ]
    errors = _errors(_environment(password_env=12345678))
    assert errors == ["[environments.prod] password_env: must be text in quotes"]


def test_a_misspelt_required_key_is_one_error_not_two() -> None:
    doc = document()
    doc["environments"]["prod"]["base_ur"] = doc["environments"]["prod"].pop("base_url")
    assert _errors(doc) == [
        "[environments.prod]: unknown key `base_ur`: did you mean `base_url`? (it is required)"
    ]


def test_a_bad_environment_causes_no_errors_where_it_is_named() -> None:
    doc = _environment(driver="robot")
    doc["blackouts"] = [
        {"name": "Reg", "start": "2027-01-11", "end": "2027-01-12", "environments": ["prod"]}
    ]
    doc["coursedog_hosts"] = {"app.coursedog.com": {"schedule_write_method": "POST"}}
    errors = _errors(doc)
    assert len(errors) == 1 and errors[0].startswith("[environments.prod] driver:"), errors
    # With the environment fixed, a blackout naming an unknown one is still refused.
    doc["environments"]["prod"]["driver"] = "api"
    doc["blackouts"][0]["environments"] = ["qa"]
    assert _errors(doc) == [
        "[blackouts[0]] environments[0]: 'qa' is not an environment, alias or group "
        "(environments: prod)"
    ]


def test_every_error_of_a_document_is_shown_each_with_its_place() -> None:
    doc = document(approvers=["@riley"], defaults={"nag_evry": "1h"}, scheduler_threads=99)
    doc["environments"]["prod"]["school"] = ""
    assert _errors(doc) == [
        "approvers[0]: '@riley' is not a Slack ID: use the member ID (U…) from the person's "
        "Slack profile (⋮ menu → Copy member ID), or a user group's ID (S…)",
        "[defaults]: unknown key `nag_evry`: did you mean `nag_every`?",
        "[environments.prod] school: '' is not the School Unique ID: letters, digits, '.', '_' "
        "or '-'",
        "scheduler_threads: must be at most 32, not 99",
    ]


def test_the_simulator_moves_with_the_environments_it_serves() -> None:
    settings, _ = load_settings(ProcessEnv.read({}))
    doc = document()
    doc["environments"]["remote"] = {**doc["environments"]["prod"], "aliases": []}
    moved = settings.with_simulator_port(45678)
    assert moved.simulator.port == 45678
    assert {e.base_url for e in moved.environments.values()} == {"http://127.0.0.1:45678"}
    real = parse_settings(doc).with_simulator_port(45678)
    assert real.environments["remote"].base_url == "https://app.coursedog.com"

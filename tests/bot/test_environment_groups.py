"""Environment groups: one window over a named set of environments, through signed requests
and the Coursedog simulator, on each database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import Settings, parse_settings
from bot.domain.commands import parse
from bot.domain.grammar import resolve_environments
from bot.domain.states import WindowState as S
from bot.errors import ConfigError
from bot.services.reports import Report, ReportKind
from bot.services.views import EnvironmentView
from bot.slack import ids, summary
from bot.slack.blocks import render_card
from coursedog.simulator import SchoolState
from tests.bot.test_blocks import assert_valid
from tests.bot.test_blocks import view as card_view
from tests.harness import APPROVER, REQUESTER, Bot, buttons, running_bot, settings_document

COLLEGES = ("bmcc", "bx", "cty", "hunter", "kbcc", "qns", "qcc")


def _college(base_url: str, name: str) -> dict[str, Any]:
    return {
        "label": f"{name.upper()} College",
        "base_url": base_url,
        "school": f"cuny_{name}",
        "email_env": "CD_EMAIL",
        "password_env": "CD_PASSWORD",
        "driver": "api",
    }


def _settings(base_url: str) -> Settings:
    doc = settings_document(base_url)
    doc["environments"].update({name: _college(base_url, name) for name in COLLEGES})
    doc["groups"] = {"all-colleges": list(COLLEGES), "pair": ["production", "staging"]}
    doc["switches_per_host"] = 3
    return parse_settings(doc)


def _schools(locked: str | None = None) -> dict[str, SchoolState]:
    """Each college with its own schedule: nightly on for all, real-time on for every other."""
    schools = {
        "state_u_prod": SchoolState(nightly=True, realtime=True),
        "state_u_staging": SchoolState(nightly=True, realtime=False),
        "state_u_sandbox": SchoolState(nightly=False, realtime=False),
    }
    for i, name in enumerate(COLLEGES):
        schools[f"cuny_{name}"] = SchoolState(
            nightly=True, realtime=i % 2 == 0, locked=name == locked
        )
    return schools


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    with running_bot(database_url, schools=_schools(), settings_factory=_settings) as running:
        yield running


def _ephemeral(response: Any) -> str:
    assert response.status_code == 200, response.text
    return str(response.json().get("text", ""))


def test_one_window_over_a_group_switches_each_off_and_restores_each_to_its_own(
    bot: Bot,
) -> None:
    reply = _ephemeral(bot.command(REQUESTER, "start all-colleges 2h CUNYfirst upgrade"))
    assert "MW-1" in reply
    card = bot.wait_card(1)
    assert len(bot.cards()) == 1
    shown = str(card.blocks)
    assert "7 environments" in shown and all(f"`{c}`" in shown for c in COLLEGES)

    bot.click(APPROVER, ids.APPROVE, "1")
    assert bot.settle()
    for name in COLLEGES:
        school = bot.sim.school(f"cuny_{name}")
        assert (school.nightly, school.realtime) == (False, False), name
    assert bot.sim.school("state_u_prod").writes == 0  # not in the group
    thread = bot.thread(1)
    summary = [t for t in thread if "of 7 environments" in t]
    assert len(summary) == 1
    assert "7 of 7 environments have merges off, verified by reading back" in summary[0]
    assert "7 switched off" in summary[0] and "need a person" not in summary[0]
    card = bot.card(1)
    posted = next(m for m in bot.slack.thread(card.channel, card.ts) if m.text == summary[0])
    assert not posted.text.startswith(":")  # the notification reads without emoji codes
    assert posted.blocks[0]["text"]["text"].startswith(":no_entry: MW-1: 7 of 7 environments")
    assert not any("switched off and verified by reading back. Was" in t for t in thread)
    assert buttons(bot.card(1)) == [ids.EXTEND_60, ids.END_NOW]
    assert "7 off (verified)" in str(bot.card(1).blocks)
    dms = [m.text for m in bot.slack.direct_messages(REQUESTER)]
    assert [t for t in dms if "MW-1: merges off" in t] == [
        next(t for t in dms if "merges off and verified on 7 of 7 environments." in t)
    ]

    _ephemeral(bot.command(REQUESTER, "end MW-1"))
    assert bot.settle()
    for i, name in enumerate(COLLEGES):
        school = bot.sim.school(f"cuny_{name}")
        assert (school.nightly, school.realtime) == (True, i % 2 == 0), name
    restored = [t for t in bot.thread(1) if "environments are back as they were" in t]
    assert len(restored) == 1 and "7 of 7" in restored[0] and "7 restored" in restored[0]
    assert "7 restored (verified)" in str(bot.card(1).blocks)


def test_a_group_with_one_environment_locked_says_who_needs_a_person(
    database_url: str,
) -> None:
    with running_bot(
        database_url, schools=_schools(locked="qns"), settings_factory=_settings
    ) as bot:
        _ephemeral(bot.command(REQUESTER, "start all-colleges 1h"))
        bot.wait_card(1)
        bot.click(APPROVER, ids.APPROVE, "1")
        assert bot.settle()
        thread = bot.thread(1)
        summary = next(t for t in thread if "of 7 environments" in t)
        assert "6 of 7 environments have merges off" in summary
        assert "1 need a person: `qns` (" in summary
        # The locked one is told in its own message, after the summary.
        own = [t for t in thread if "`qns` (QNS College)" in t]
        assert own and thread.index(own[0]) > thread.index(summary)
        assert bot.sim.school("cuny_qns").nightly is True
        assert bot.sim.school("cuny_bmcc").nightly is False
        # The requester: one message for the six, and the one that needs them on its own.
        dms = [m.text for m in bot.slack.direct_messages(REQUESTER)]
        off = [t for t in dms if "MW-1: merges off" in t]
        assert len(off) == 1, dms
        assert "merges off and verified on 6 of 7 environments; 1 need you: `qns`" in off[0]
        assert sum("needs you on `qns`" in t for t in dms) == 1
        assert not any("merges on `bmcc`" in t for t in dms)
        assert len(dms) == 3  # approved, the six, qns


def test_a_group_and_environments_mix_in_one_window_each_once(bot: Bot) -> None:
    _ephemeral(bot.command(REQUESTER, "start pair,prod,sandbox 30m"))
    view = bot.runtime.windows.get(1)
    assert view.environment_names == ("prod", "staging", "sandbox")


def test_status_of_a_group_shows_each_of_its_environments_in_order(bot: Bot) -> None:
    assert bot.command(REQUESTER, "status all-colleges").status_code == 200
    blocks = bot.responses()[-1]["blocks"]
    assert_valid(blocks)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert [t.split("\n")[0] for t in sections] == [
        f"*`{c}`* {c.upper()} College" for c in COLLEGES
    ]
    assert sections[0].endswith("nightly on, real-time on")  # bmcc
    assert sections[1].endswith("nightly on, real-time off")  # bx
    assert "`prod`" not in str(blocks)


def test_status_of_a_group_beside_an_environment_shows_each_once(bot: Bot) -> None:
    assert bot.command(REQUESTER, "status Production,pair").status_code == 200
    shown = str(bot.responses()[-1]["blocks"])
    assert shown.count("*`prod`* Production") == 1 and "*`staging`* Staging" in shown
    assert "`sandbox`" not in shown


MANY = tuple(f"community-college-{i:03}" for i in range(60))


def _many(base_url: str) -> Settings:
    doc = settings_document(base_url)
    doc["environments"].update({name: _college(base_url, name) for name in MANY})
    doc["groups"] = {"everyone": list(MANY)}
    return parse_settings(doc)


def test_status_of_a_group_of_sixty_is_summed_up_by_state_within_slacks_limits(
    database_url: str,
) -> None:
    schools = {f"cuny_{name}": SchoolState(nightly=True, realtime=True) for name in MANY}
    schools["cuny_community-college-007"] = SchoolState(nightly=False, realtime=False)
    schools["cuny_community-college-042"] = SchoolState(nightly=True, realtime=False)
    schools["cuny_community-college-043"] = SchoolState(nightly=True, realtime=False)
    with running_bot(database_url, schools=schools, settings_factory=_many) as bot:
        assert bot.command(REQUESTER, "status everyone").status_code == 200
        blocks = bot.responses()[-1]["blocks"]
    assert_valid(blocks)
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert all(len(t) <= 3000 for t in texts)
    common, alone, pair = texts
    assert common.startswith("*57 of 60:* `community-college-000`, `community-college-001`")
    assert " …and " in common and common.endswith(
        " more\n:large_green_circle: nightly on, real-time on"
    )
    # What differs comes after, fewest first, each environment with its own words.
    assert alone.startswith("*`community-college-007`* COMMUNITY-COLLEGE-007 College\n:no_entry:")
    assert "No window explains this" in alone
    assert pair == (
        "*2 of 60:* `community-college-042`, `community-college-043`\n"
        ":large_green_circle: nightly on, real-time off"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("end all-colleges", "`all-colleges` is a group of 7 environments; end one window"),
        ("history all-colleges", "is a group of 7 environments; `history` takes one"),
        ("start colleges 2h", "Groups: `all-colleges`, `pair`."),
    ],
)
def test_a_group_where_one_environment_is_asked_for_is_refused_saying_why(
    bot: Bot, text: str, expected: str
) -> None:
    assert expected in _ephemeral(bot.command(REQUESTER, text))
    assert bot.settle() and bot.cards() == []


def test_help_names_the_groups(bot: Bot) -> None:
    shown = str(bot.command(REQUESTER, "help").json()["blocks"])
    assert "*Groups*" in shown and "`all-colleges`: 7 environments" in shown


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ({"prod": ["staging"]}, "groups.prod: the name is taken by the environment prod"),
        ({"production": ["staging"]}, "groups.production: the name is taken by the environment"),
        ({"none": []}, "groups.none: name at least one environment"),
        ({"qa-all": ["qa"]}, "groups.qa-all: no environment 'qa' (known: prod, sandbox"),
        ({"twice": ["prod", "production"]}, "groups.twice: prod is listed twice"),
        ({"Bad Name": ["prod"]}, "[groups] \"Bad Name\": 'Bad Name' is not a short lower-case"),
    ],
)
def test_a_group_that_cannot_be_used_is_a_configuration_error_naming_it(
    groups: dict[str, list[str]], expected: str
) -> None:
    doc = settings_document("http://127.0.0.1:1", groups=groups)
    with pytest.raises(ConfigError) as caught:
        parse_settings(doc)
    assert expected in str(caught.value)


def test_a_groups_members_may_be_named_by_alias_and_resolve_to_environments() -> None:
    settings = parse_settings(
        settings_document("http://127.0.0.1:1", groups={"both": ["Production", "staging"]})
    )
    names = settings.environment_names()
    assert names.groups == {"both": ("prod", "staging")}
    assert "both" not in names  # a group is not an environment
    assert resolve_environments("sandbox,both,prod", names) == ("sandbox", "prod", "staging")


def _report(env: str, kind: ReportKind, detail: str = "") -> Report:
    return Report(1, env, kind, detail=detail)


def test_routine_outcomes_of_a_window_are_summed_up_only_from_three() -> None:
    two = [_report("a", ReportKind.SWITCHED_OFF), _report("b", ReportKind.VERIFIED_OFF)]
    assert summary.split(two) == ([], two)
    three = [*two, _report("c", ReportKind.ALREADY_OFF)]
    failed = _report("d", ReportKind.OFF_FAILED, "could not read the schedule: " + "x" * 100)
    other = Report(2, "a", ReportKind.RESTORED)
    summaries, rest = summary.split([*three, failed, other])
    assert rest == [failed, other]
    [told] = summaries
    text = summary.render_summary(told, 5)
    assert text.startswith(":no_entry: MW-1: 3 of 5 environments have merges off")
    assert "(1 switched off, 1 found off, 1 had no merge on)" in text
    assert "`a`, `b`, `c`" in text
    assert "1 need a person: `d` (could not read the schedule: xxx" in text
    assert "…)" in text and "x" * 60 not in text


def test_a_card_over_many_environments_lists_them_by_status_within_slacks_limit() -> None:
    names = [f"community-college-{i:03}" for i in range(120)]
    environments = tuple(
        EnvironmentView(n, "failed" if n == "community-college-007" else "off", None) for n in names
    )
    view = replace(card_view(S.ACTIVE), environments=environments)
    blocks = render_card(view, {}, datetime(2026, 12, 7, tzinfo=UTC))
    field = blocks[1]["fields"][0]["text"]
    assert field.startswith(
        "*Environments*\n120 environments\n1 could not switch off: `community-college-007`\n"
        "119 off (verified): `community-college-000`, "
    )
    assert len(field) <= 2000 and field.endswith(", and more")
    assert_valid(blocks)


def test_the_form_offers_the_groups_and_a_group_chosen_there_makes_one_window(bot: Bot) -> None:
    bot.command(REQUESTER, "")
    options = bot.slack.views[-1]["blocks"][0]["element"]["options"]
    offered = [o["value"] for o in options]
    assert offered[-2:] == ["all-colleges", "pair"] and "cty" in offered
    group = next(o for o in options if o["value"] == "all-colleges")
    assert group["text"]["text"].startswith("all-colleges — group: bmcc, bx")
    assert len(group["text"]["text"]) <= 75
    response = bot.submit_form(REQUESTER, envs=["all-colleges", "prod"], length="1h")
    assert response.status_code == 200
    bot.wait_card(1)
    assert bot.runtime.windows.get(1).environment_names == (*COLLEGES, "prod")


@pytest.mark.parametrize(
    "text",
    [
        "schedule both 2026-12-12 22:00 2h Banner",
        "schedule both every sat 02:30 1h weekly",
        "blackout add both 2026-12-20 until 2027-01-02 Winter break",
    ],
)
def test_a_group_goes_wherever_a_list_of_environments_does(text: str) -> None:
    settings = parse_settings(
        settings_document("http://127.0.0.1:1", groups={"both": ["prod", "staging"]})
    )
    parsed = parse(
        text,
        settings.environment_names(),
        now=datetime(2026, 12, 7, 12, tzinfo=UTC),
        zone_of=settings.time_zone,
    )
    assert getattr(parsed, "environments") == ("prod", "staging")  # noqa: B009

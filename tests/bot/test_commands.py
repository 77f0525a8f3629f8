"""status, list and history through the front door."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack import ids
from coursedog.simulator_faults import Fault
from tests.harness import APPROVER, REQUESTER, STRANGER, Bot


def blocks_text(body: dict[str, Any]) -> str:
    return str(body.get("blocks", "")) + str(body.get("text", ""))


def respond_text(bot: Bot) -> str:
    assert bot.responses(), "nothing was posted to the response_url"
    return blocks_text(bot.responses()[-1])


def test_status_shows_live_switches_holder_owner_and_baseline(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h Banner patch")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    response = bot.command(STRANGER, "status")  # everyone may read
    assert response.status_code == 200
    text = respond_text(bot)
    assert "nightly off, real-time off" in text and "Held off by *MW-1* (active)" in text
    assert f"owner <@{REQUESTER}>" in text and "Restores to: nightly on, real-time on" in text
    assert "`staging`" in text and "nightly on, real-time off" in text
    assert "No window explains this" in text  # the sandbox has everything off and no window


def test_status_of_one_environment_and_a_coursedog_outage(bot: Bot) -> None:
    bot.sim.inject(
        Fault(kind="status", method="GET", path_contains="integrationSchedule", status=503, times=5)
    )
    bot.command(REQUESTER, "status production")
    text = respond_text(bot)
    assert "`prod`" in text and "`staging`" not in text
    assert "could not read the switches" in text and "503" in text


def test_status_of_one_environment_is_its_section_between_the_header_and_the_time(
    bot: Bot,
) -> None:
    bot.command(REQUESTER, "status staging")
    blocks = bot.responses()[-1]["blocks"]
    assert [b["type"] for b in blocks] == ["header", "section", "context"]
    assert blocks[0]["text"]["text"] == "Coursedog merge switches"
    assert blocks[1]["text"]["text"] == (
        "*`staging`* Staging\n:large_green_circle: nightly on, real-time off"
    )
    assert blocks[2]["elements"][0]["text"].startswith("Read from Coursedog at <!date^")


def test_status_of_a_comma_list_shows_each_named_environment_once(bot: Bot) -> None:
    bot.command(REQUESTER, "status sandbox,production,prod")
    blocks = bot.responses()[-1]["blocks"]
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert [t.split("\n")[0] for t in sections] == ["*`sandbox`* Sandbox", "*`prod`* Production"]
    assert "nightly off, real-time off" in sections[0] and "nightly on, real-time on" in sections[1]
    assert "`staging`" not in str(blocks)


def test_status_of_an_unknown_name_gets_starts_message(bot: Bot) -> None:
    refused = bot.command(REQUESTER, "status prod,nowhere").json()["text"]
    assert refused == bot.command(REQUESTER, "start prod,nowhere 2h").json()["text"]
    assert "There is no environment called `nowhere`. Known: `prod`, `sandbox`" in refused
    assert bot.responses() == []  # nothing was read


def test_list_groups_windows(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h first")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    bot.command(REQUESTER, "start staging 1h second")
    bot.wait_card(2)
    bot.command(REQUESTER, "start sandbox 1h third")
    bot.deny(APPROVER, 3, message=bot.wait_card(3))
    default = blocks_text(bot.command(REQUESTER, "list").json())
    assert "Active windows" in default and "*MW-1*" in default
    assert "Upcoming windows" in default and "*MW-2*" in default and "MW-3" not in default
    recent = blocks_text(bot.command(REQUESTER, "LIST recent").json())
    assert "*MW-3*" in recent and "denied" in recent and "MW-1" not in recent


def test_list_with_nothing_says_so(bot: Bot) -> None:
    body = bot.command(REQUESTER, "list active").json()
    assert "No active windows." in blocks_text(body)


def test_history_for_an_environment(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 2h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    bot.command(REQUESTER, "start staging 1h")
    text = blocks_text(bot.command(REQUESTER, "history prod 5").json())
    assert "History of prod" in text and "switched merges in Coursedog" in text and "MW-1" in text
    assert "noted the switches to restore afterwards" in text and "baseline" not in text
    assert "MW-2" not in text
    everything = blocks_text(bot.command(REQUESTER, "history").json())
    assert "MW-2" in everything


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status nowhere", "no environment called `nowhere`"),
        ("status prod staging", "`status prod,staging` (commas, no spaces)"),
        ("status ,", "Name at least one environment, for example `status prod`."),
        ("list soon", "`list active`, `list upcoming` or `list recent`"),
        ("history prod 500", "between 1 and 50"),
        ("history prod staging", "Use `history [env] [N]`"),
    ],
)
def test_read_commands_refuse_bad_input(bot: Bot, text: str, expected: str) -> None:
    assert expected in bot.command(REQUESTER, text).json()["text"]

"""The request form: opened by a bare /sis-maint; every wrong field answered at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.slack import ids
from tests.harness import REQUESTER, Bot, ManualClock, running_bot

NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
AT = ids.WHEN_AT


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    with running_bot(database_url, clock=ManualClock(NOW)) as running:
        yield running


def at(hour: int, day: int = 5) -> int:
    return int(datetime(2026, 12, day, hour, 0, tzinfo=UTC).timestamp())


def test_a_bare_command_opens_the_form_at_once(bot: Bot) -> None:
    response = bot.command(REQUESTER, "")
    assert response.status_code == 200 and response.text == ""
    opened = bot.slack.calls_to("views.open")
    assert len(opened) == 1 and opened[0].args["trigger_id"].startswith("trigger-")
    view = bot.slack.views[-1]
    View(**view).validate_json()
    options = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == ["prod", "staging", "sandbox"]


CHOICE = {ids.B_ENVS: ("Environments", False), ids.B_WHEN: ("Start", False)}
ABOUT = {ids.B_REASON: ("Reason", True), ids.B_TICKET: ("Ticket reference", True)}


def labels(view: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Each input block's label and whether Slack shows it as optional."""
    return {b["block_id"]: (b["label"]["text"], b["optional"]) for b in view["blocks"]}


def test_the_fields_say_what_a_start_as_soon_as_approved_needs(bot: Bot) -> None:
    bot.command(REQUESTER, "")
    view = bot.slack.views[-1]
    assert labels(view) == {**CHOICE, ids.B_LENGTH: ("Duration", False), **ABOUT}
    when = view["blocks"][1]
    assert when["dispatch_action"] and when["element"]["initial_option"]["value"] == ids.WHEN_NOW


def test_choosing_a_start_redraws_the_form_with_the_fields_that_start_needs(bot: Bot) -> None:
    bot.command(REQUESTER, "")
    opened = bot.slack.calls_to("views.open")[0]
    assert bot.choose_start(REQUESTER, AT).status_code == 200
    (update,) = bot.slack.calls_to("views.update")
    assert update.args["view_id"] == "V00000001" and update.args["hash"] == "h1"
    view = bot.slack.views[-1]
    View(**view).validate_json()
    assert labels(view) == {
        **CHOICE,
        ids.B_START: ("Start date and time", False),
        ids.B_LENGTH: ("Duration", True),
        ids.B_END: ("End date and time", True),
        **ABOUT,
    }
    assert view["blocks"][1]["element"]["initial_option"]["value"] == AT
    assert "one of the two" in view["blocks"][3]["hint"]["text"]
    bot.choose_start(REQUESTER, ids.WHEN_NOW)
    assert bot.slack.views[-1]["blocks"] == bot.slack.views[0]["blocks"]
    assert opened.args["trigger_id"].startswith("trigger-")


def test_a_choice_without_its_form_redraws_nothing(bot: Bot) -> None:
    assert bot.choose_start(REQUESTER, AT, view_id="").status_code == 200
    assert bot.slack.calls_to("views.update") == []


@pytest.mark.parametrize(
    ("fields", "block", "message"),
    [
        ({"length": "2h"}, ids.B_ENVS, "Pick at least one environment"),
        ({"envs": ["prod"]}, ids.B_LENGTH, "Say how long"),
        ({"envs": ["prod"], "length": "two hours"}, ids.B_LENGTH, "is not a duration"),
        ({"envs": ["prod"], "length": "2h", "when": ids.WHEN_AT}, ids.B_START, "Pick the start"),
        ({"envs": ["prod"], "length": "2h", "end": at(20)}, ids.B_LENGTH, "not both"),
        ({"envs": ["prod"], "end": at(20)}, ids.B_END, "needs a start time"),
        (
            {"envs": ["prod"], "when": ids.WHEN_AT, "start": at(20), "end": at(19)},
            ids.B_END,
            "after the start",
        ),
        (
            {"envs": ["prod"], "when": ids.WHEN_AT, "start": at(14), "length": "1h"},
            ids.B_START,
            "in the past",
        ),
        ({"envs": ["prod"], "length": "5d"}, ids.B_LENGTH, "longer than prod allows"),
        ({"envs": ["nowhere"], "length": "1h"}, ids.B_ENVS, "no environment called"),
        ({"envs": ["prod"], "length": "1h", "reason": "x" * 501}, ids.B_REASON, "under 500"),
    ],
)
def test_invalid_fields_are_shown_on_the_field(
    bot: Bot, fields: dict[str, object], block: str, message: str
) -> None:
    response = bot.submit_form(REQUESTER, **fields)
    assert response.status_code == 200
    body = response.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [block] and message in body["errors"][block]
    assert bot.cards() == []


def test_every_field_that_is_wrong_is_shown_in_one_answer(bot: Bot) -> None:
    body = bot.submit_form(
        REQUESTER,
        envs=["nowhere"],
        when=AT,
        length="two hours",
        reason="x" * 501,
        ticket="t" * 201,
    ).json()
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert set(errors) == {ids.B_ENVS, ids.B_START, ids.B_LENGTH, ids.B_REASON, ids.B_TICKET}
    assert "no environment called `nowhere`" in errors[ids.B_ENVS]
    assert "Pick the start" in errors[ids.B_START]
    assert "is not a duration" in errors[ids.B_LENGTH]
    assert "under 500" in errors[ids.B_REASON] and "under 200" in errors[ids.B_TICKET]
    assert bot.cards() == []


def test_a_missing_start_is_not_blamed_on_the_end_as_well(bot: Bot) -> None:
    body = bot.submit_form(REQUESTER, when=AT, end=at(20)).json()
    assert body["errors"].keys() == {ids.B_ENVS, ids.B_START}


def test_a_valid_form_requests_a_window_with_its_ticket(bot: Bot) -> None:
    response = bot.submit_form(
        REQUESTER,
        envs=["prod", "staging"],
        when=ids.WHEN_AT,
        start=at(23),
        end=at(3, day=6),
        reason="Banner upgrade <!channel>",
        ticket="CHG0012345",
    )
    assert response.status_code == 200 and response.text == ""
    card = bot.wait_card(1)
    text = str(card.blocks)
    assert "CHG0012345" in text and "&lt;!channel&gt;" in text and "<!channel>" not in text
    window = bot.runtime.windows.get(1)
    assert window.environment_names == ("prod", "staging")
    assert window.starts_at == datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
    assert window.ends_at == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert "MW-1" in bot.slack.direct_messages(REQUESTER)[-1].text


def test_the_card_is_posted_even_if_the_confirmation_cannot_be_sent(bot: Bot) -> None:
    original = bot.slack._chat_postMessage

    def refuse_direct_messages(args: dict[str, object]) -> dict[str, object]:
        if str(args.get("channel", "")).startswith("U"):
            return {"ok": False, "error": "cannot_dm_bot"}
        return original(args)

    bot.slack._chat_postMessage = refuse_direct_messages  # type: ignore[method-assign]
    bot.submit_form(REQUESTER, envs=["prod"], length="1h")
    assert bot.wait_card(1) and bot.runtime.windows.get(1).state == "requested"


def test_an_impossible_date_is_refused_on_the_form_not_dropped(bot: Bot) -> None:
    body = bot.submit_form(
        REQUESTER, envs=["prod"], when=AT, start="10000000000000", length="1h"
    ).json()
    assert body["response_action"] == "errors" and ids.B_START in body["errors"]

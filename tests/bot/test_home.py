"""The App Home tab: published when opened, kept current, answers its own clicks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.models.views import View

from bot.slack import ids
from bot.slack.home import HomePublisher
from tests.harness import APPROVER, REQUESTER, Bot, ManualClock, running_bot


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    with running_bot(database_url) as running:
        yield running


def home_actions(view: dict[str, object]) -> list[tuple[str, str]]:
    found = []
    for block in view["blocks"]:  # type: ignore[attr-defined]
        if block.get("type") == "actions":
            found += [(e["action_id"], e["value"]) for e in block["elements"]]
    return found


def test_opening_the_home_tab_publishes_environments_and_windows(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h Banner")
    bot.wait_card(1)
    assert bot.open_home(APPROVER).status_code == 200
    view = bot.slack.home[APPROVER]
    View(**view).validate_json()
    text = str(view["blocks"])
    assert "`prod`" in text and "nightly on, real-time on" in text and "*MW-1*" in text
    assert home_actions(view) == [(ids.APPROVE, "1"), (ids.DENY, "1")]


def test_home_is_refreshed_after_a_change_and_answers_clicks_on_itself(bot: Bot) -> None:
    bot.command(REQUESTER, "start prod 1h")
    bot.wait_card(1)
    bot.open_home(REQUESTER)
    bot.click_home(REQUESTER, ids.APPROVE, "1")  # a requester cannot approve their own
    notice = str(bot.slack.home[REQUESTER]["blocks"][0])
    assert "You are not an approver for prod" in notice
    bot.click_home(APPROVER, ids.APPROVE, "1")
    view = bot.slack.home[REQUESTER]
    ends_at = bot.runtime.windows.get(1).ends_at
    assert ends_at is not None
    # Extend carries the end it was shown with, so a press that arrives twice extends once.
    shown = f"1@{int(ends_at.timestamp())}"
    assert home_actions(view) == [(ids.EXTEND_60, shown), (ids.REENABLE, "1")]
    bot.click_home(REQUESTER, ids.REENABLE, "1")
    assert bot.sim.school("state_u_prod").nightly is True
    blocks = str(bot.slack.home[REQUESTER]["blocks"])
    assert "*MW-1*" in blocks.split("Recently ended")[1]


def test_cancel_from_the_home_tab(bot: Bot) -> None:
    bot.command(REQUESTER, "schedule prod tomorrow 22:00 1h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    bot.open_home(REQUESTER)
    assert home_actions(bot.slack.home[REQUESTER]) == [(ids.CANCEL, "1")]
    bot.click_home(REQUESTER, ids.CANCEL, "1")
    assert bot.runtime.windows.get(1).state == "cancelled"
    assert "was cancelled by" in bot.thread(1)[-1]


def test_home_shows_the_switches_as_they_are_after_a_change(bot: Bot) -> None:
    bot.open_home(REQUESTER)  # reads prod as on, and remembers it briefly
    bot.command(REQUESTER, "start prod 1h")
    bot.click(APPROVER, ids.APPROVE, "1", bot.wait_card(1))
    text = str(bot.slack.home[REQUESTER]["blocks"])
    assert "nightly off, real-time off" in text.split("`staging`", maxsplit=1)[0]


class FailingOnce:
    """A status service whose first refresh fails."""

    def __init__(self) -> None:
        self.forgotten = 0

    def forget(self) -> None:
        self.forgotten += 1
        if self.forgotten == 1:
            raise RuntimeError("the ledger cannot be read")


def test_a_refresh_that_fails_is_counted_and_done_again() -> None:
    status = FailingOnce()
    home = HomePublisher(WebClient(), status, ManualClock(), {})  # type: ignore[arg-type]
    home.start()
    try:
        home.refresh_viewers()
        assert home.wait_idle(10)  # idle only once a refresh completed
        assert home.is_alive()
    finally:
        home.stop()
    assert status.forgotten == 2
    pulse = home.heartbeat.read()
    assert (pulse.failures, pulse.failing, pulse.last_error) == (1, 0, "RuntimeError")

"""An API caller is no Slack member: what sis-maint would tell a requester in a direct message
goes to the approvals channel, naming the token, and nothing is sent to a user id that is not
one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.services import requester_news
from bot.slack import ids
from storage.models import PendingReport
from tests.bot.api.client import api_bot
from tests.harness import APPROVALS, APPROVER, ManualClock


def test_an_expired_api_request_is_told_in_the_approvals_channel(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = ManualClock()
    with api_bot(database_url, monkeypatch, clock=clock) as api:
        created = api.call("POST", "/windows", json={"environments": ["prod"], "duration": "1h"})
        number = created.json()["id"]
        clock.advance(timedelta(hours=1, minutes=1))
        api.bot.tick()
        assert api.call("GET", f"/windows/{number}").json()["state"] == "expired"
        told = [
            m.text
            for m in api.bot.slack.messages.values()
            if m.channel == APPROVALS and m.thread_ts is None and not m.text.startswith("MW-")
        ]
        assert len(told) == 1
        assert told[0].startswith("API token `snow`: ")
        assert f"MW-{number} expired" in told[0]
        assert all(not m.channel.startswith("api:") for m in api.bot.slack.messages.values())


def test_an_api_window_approved_in_slack_sends_no_direct_message_and_owes_none(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with api_bot(database_url, monkeypatch) as api:
        created = api.call("POST", "/windows", json={"environments": ["prod"], "duration": "1h"})
        number = created.json()["id"]
        api.bot.wait_card(number)
        api.bot.click(APPROVER, ids.APPROVE, str(number))
        assert api.bot.settle()
        assert "switched off and verified" in "\n".join(api.bot.thread(number))
        with api.bot.runtime.sessions.begin() as session:
            keys = session.scalars(select(PendingReport.dedup_key)).all()
        assert [k for k in keys if k.startswith(requester_news.PREFIX)] == []
        posts = api.bot.slack.calls_to("chat.postMessage")
        assert [c for c in posts if str(c.args.get("channel", "")).startswith("api:")] == []

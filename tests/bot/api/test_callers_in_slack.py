"""An API caller is no Slack member: what sis-maint would tell a requester in a direct message
goes to the approvals channel, naming the token, and nothing is sent to a user id that is not
one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.bot.api.client import api_bot
from tests.harness import APPROVALS, ManualClock


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

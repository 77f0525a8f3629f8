"""The history names every event in words a registrar reads, and cuts long details between words."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from bot.services import comments, idle_watch, plans
from bot.services.status import HistoryEntry
from bot.slack.event_words import EVENT_WORDS, event_words
from bot.slack.overview import DETAIL_LIMIT, render_history
from storage import contracts

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
# Each audit action written as a string literal, where the ledger is written.
_LITERAL = re.compile(r'(?:action=\(?\s*|_audit\([^)]*?)"([a-z_]+)"')


def written_actions() -> set[str]:
    """Every action name the code hands to the audit trail."""
    found: set[str] = set()
    for folder in ("bot/services", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            found.update(_LITERAL.findall(text))
            # The other branch of a conditional action: `"a" if ... else "b"`.
            found.update(re.findall(r'action=\(?\s*"[a-z_]+"[^)\n]*?else\s+"([a-z_]+)"', text))
    computed = {
        idle_watch.UNEXPLAINED,
        idle_watch.EXPLAINED,
        contracts.LEARNED,
        contracts.VERIFIED,
        f"{plans.SCHEDULE_WRITE}_abandoned",
        f"{comments.OPERATION}_abandoned",
        "activity_comment_failed",
        "activity_comment_handed_over",
        "activity_commented",
    }
    return found | computed


def test_every_action_the_ledger_records_has_words() -> None:
    actions = written_actions()
    assert {"baseline_recorded", "denied", "schedule_write_failed", "series_ended"} <= actions
    assert actions - set(EVENT_WORDS) == set()
    assert all("_" not in words for words in EVENT_WORDS.values())


def test_an_action_without_words_is_shown_with_spaces() -> None:
    assert event_words("baseline_recorded") == "noted the switches to restore afterwards"
    assert event_words("something_new") == "something new"


def test_history_uses_the_words_and_cuts_a_long_detail_between_words() -> None:
    detail = "found nightly on, realtime on; " + "restores what was last seen " * 20
    entry = HistoryEntry(NOW, "system", "baseline_recorded", 3, "prod", detail)
    text = str(
        render_history([entry], "prod", "America/Chicago", datetime(2026, 12, 5, tzinfo=UTC))
    )
    assert "noted the switches to restore afterwards · MW-3" in text
    assert "baseline recorded" not in text
    shown = text.split(" · `prod` · ")[1].split("'", maxsplit=1)[0]
    kept = shown.removesuffix("…")
    assert shown.endswith("…") and len(shown) <= DETAIL_LIMIT
    assert detail.startswith(kept) and detail[len(kept)] == " "  # no word cut in two

"""Shortening text for Slack: between words, with an ellipsis."""

from __future__ import annotations

import pytest

from bot.slack.text import shorten


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("Banner patch", 20, "Banner patch"),
        ("Banner patch", 12, "Banner patch"),
        ("Banner upgrade tonight", 18, "Banner upgrade…"),
        ("Banner upgrade, then rebuild", 17, "Banner upgrade…"),  # no comma before the ellipsis
        ("x" * 30, 10, "x" * 9 + "…"),  # one long word is cut, as nothing else fits
        ("ab " + "x" * 30, 10, "ab " + "x" * 6 + "…"),  # a cut at the space would lose most
    ],
)
def test_shorten_cuts_between_words(text: str, limit: int, shown: str) -> None:
    assert shorten(text, limit) == shown
    assert len(shorten(text, limit)) <= limit

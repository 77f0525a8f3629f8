"""Durations as people type them, and as they spell them out in words."""

from __future__ import annotations

import pytest

from bot.domain.durations import spelled_duration
from bot.domain.grammar import parse_command
from bot.errors import InputError

ENVS = {"prod": "prod"}


@pytest.mark.parametrize(
    ("words", "compact"),
    [
        ("2 hours", "2h"),
        ("1 hour 30 minutes", "1h30m"),
        ("1 hr and 30 mins", "1h30m"),
        ("1h 30m", "1h30m"),
        ("90 min", "90m"),
        ("1 day, 2 hours", "1d2h"),
        ("2hours", "2h"),
    ],
)
def test_a_duration_spelled_in_words_reads_as_one_word(words: str, compact: str) -> None:
    assert spelled_duration(words.split()) == compact


@pytest.mark.parametrize(
    "words",
    ["2 hours please", "hours 2", "2 h 2 h", "30 minutes 1 hour", "2 fortnights", "soon", ""],
)
def test_words_that_are_not_a_duration_are_not_read_as_one(words: str) -> None:
    assert spelled_duration(words.split()) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("extend MW-7 2 hours", "Write the duration as one word: `extend MW-7 2h`."),
        ("extend mw7 1 hour 30 minutes", "`extend MW-7 1h30m`"),
        ("extend MW-7", "Say by how much: `extend MW-7 1h`"),
        ("extend MW-7 a while longer", "Say by how much: `extend MW-7 1h`"),
        ("extend 2h", "Say which window and by how much: `extend MW-12 1h`."),
    ],
)
def test_an_extend_refusal_shows_the_window_asked_about(text: str, says: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_command(text, ENVS)
    assert says in str(refused.value)
    if text != "extend 2h":  # a window was named: the example names it, not another
        assert "MW-12" not in str(refused.value)

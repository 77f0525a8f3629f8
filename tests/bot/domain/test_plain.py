"""Control characters in free text are refused with the field named, not stored."""

from __future__ import annotations

import pytest

from bot.domain.plain import check_text
from bot.errors import InputError


@pytest.mark.parametrize("text", ["Banner\x00patch", "a\x07b", "\x1b[31m"])
def test_control_characters_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InputError, match=r"control character \(U\+00") as caught:
        check_text(text, "reason", "reason")
    assert caught.value.field == "reason"


@pytest.mark.parametrize("text", ["Banner patch", "line one\nline two\ttab", "Ünïcödé ✓ 改"])
def test_ordinary_text_passes(text: str) -> None:
    check_text(text, "reason", "reason")

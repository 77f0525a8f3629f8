"""Shared by the property-based fuzz tests: how many inputs to try, and what a good refusal is.

``SIS_MAINT_FUZZ_SCALE`` multiplies every count (e.g. ``10`` for a long run before a release).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from bot.errors import InputError

_SCALE = float(os.environ.get("SIS_MAINT_FUZZ_SCALE", "1"))
MAX_MESSAGE = 400
FIELDS = {"environments", "start", "end", "duration", "reason", "ticket"}
GENERIC = ("something unexpected", "went wrong", "invalid input", "bad input", "error occurred")
# A specific message shows what it is about: a quoted word or example, or a number or limit.
SPECIFIC = re.compile(r"`[^`]+`|\d|“[^”]+”")


@dataclass(frozen=True)
class Counts:
    """Examples per fuzz test."""

    grammar_text: int = int(2000 * _SCALE)
    grammar_words: int = int(3000 * _SCALE)
    form: int = int(1500 * _SCALE)
    envelope: int = int(3000 * _SCALE)
    envelope_shaped: int = int(1000 * _SCALE)
    http_form: int = int(300 * _SCALE)
    http_bodies: int = int(400 * _SCALE)


FUZZ = Counts()


def assert_specific(exc: InputError, given: object = None) -> None:
    """A refusal a person can act on: short, not a generic fallback, about something named."""
    message = str(exc)
    context = f"message {message!r} for input {given!r}"
    assert message and message == message.strip(), context
    assert len(message) <= MAX_MESSAGE, context
    assert not any(g in message.lower() for g in GENERIC), context
    # On a form the field it is shown on says what it is about; elsewhere the text must.
    assert exc.field is not None or SPECIFIC.search(message), context
    assert exc.field is None or exc.field in FIELDS, context

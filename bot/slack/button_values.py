"""What a button carries in its ``value``: written and read here, and nowhere else.

Each kind of value is a small frozen type with ``encode`` (for the card) and ``decode`` (for
the click), which refuses a malformed value with a ``ButtonValueError`` that says what the
button should have named. The formats are those cards have always carried, so a card posted
long ago still works:

- a window: ``"12"``; for Extend, also the end the card showed: ``"12@1700000000"``;
- one environment of a window (the checklist opened early): ``"12|prod"``;
- a checklist step: ``"12|prod|off|nightly"`` (window, environment, phase, step).

Slack sends back only what the bot wrote, so a malformed value is a card of another format or
a damaged request, never a person's typing; environments are checked against the configured
ones all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.requests import LATEST
from bot.errors import InputError

MAX_WINDOW_ID = 10**9
# The phases of a checklist (see bot.services.assisted).
PHASES = ("off", "restore")


class ButtonValueError(InputError):
    """A button's value is not one the bot writes."""


def digits(text: str, most: int) -> bool:
    """ASCII digits only (``isdigit`` alone passes ``²``, which ``int`` refuses), not too many."""
    return text.isascii() and text.isdigit() and len(text) <= most


def _window_id(raw: str, what: str) -> int:
    if not digits(raw, 9) or not 0 < int(raw) < MAX_WINDOW_ID:
        raise ButtonValueError(f"That button does not name a {what}.")
    return int(raw)


@dataclass(frozen=True)
class WindowButton:
    """A window, and for Extend the end (UNIX seconds) the card showed, so that the same press
    arriving several times extends once."""

    window_id: int
    shown_end: int | None = None

    @classmethod
    def showing(cls, window_id: int, shown_end: datetime | None = None) -> WindowButton:
        """The button of ``window_id``, with the end the card shows (Extend only)."""
        return cls(window_id, None if shown_end is None else int(shown_end.timestamp()))

    def encode(self) -> str:
        """``"12"`` or ``"12@1700000000"``."""
        if self.shown_end is None:
            return str(self.window_id)
        return f"{self.window_id}@{self.shown_end}"

    @classmethod
    def decode(cls, raw: str, what: str = "window") -> WindowButton:
        """Read a value ``encode`` wrote; ``what`` the button names (a window, a series)."""
        number, at, end = raw.partition("@")
        window_id = _window_id(number, what)
        if at and not (digits(end, 11) and int(end) < LATEST):
            raise ButtonValueError("That button carries an end time that is not one.")
        return cls(window_id, int(end) if end else None)


@dataclass(frozen=True)
class WindowEnvironmentButton:
    """One environment of a window (Open the checklist now)."""

    window_id: int
    environment: str

    def encode(self) -> str:
        """``"12|prod"``."""
        return f"{self.window_id}|{self.environment}"

    @classmethod
    def decode(cls, raw: str, known: Mapping[str, str]) -> WindowEnvironmentButton:
        """Read a value ``encode`` wrote; ``known`` maps a name as written to the environment."""
        window, bar, environment = raw.partition("|")
        if not bar or not digits(window, 9) or environment not in known:
            raise ButtonValueError("That button does not name a window's environment.")
        return cls(_window_id(window, "window's environment"), known[environment])


@dataclass(frozen=True)
class StepButton:
    """One step of a by-hand checklist: the window, environment, phase and step."""

    window_id: int
    environment: str
    phase: str
    step: str

    def encode(self) -> str:
        """``"12|prod|off|nightly"``."""
        return f"{self.window_id}|{self.environment}|{self.phase}|{self.step}"

    @classmethod
    def decode(cls, raw: str, known: Mapping[str, str]) -> StepButton:
        """Read a value ``encode`` wrote; ``known`` maps a name as written to the environment."""
        parts = raw.split("|")
        if len(parts) != 4:
            raise ButtonValueError("That button press arrived incomplete; try again.")
        window, environment, phase, step = parts
        if not digits(window, 9) or environment not in known or phase not in PHASES:
            raise ButtonValueError("That button does not name a checklist step.")
        return cls(_window_id(window, "checklist step"), known[environment], phase, step)

"""How many approvers a window needs, who has approved, and whether one more may.

An environment may ask for more than one approver (``approvals_required``); a window over
several asks for the most any of them does. Nobody approves twice and the requester never does
(bot.services.access refuses the requester before this is asked).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import Conflict


@dataclass(frozen=True)
class Approvals:
    """The approvals a window has, in order, out of the number it needs."""

    by: tuple[str, ...]
    required: int

    @property
    def missing(self) -> int:
        """How many more approvers must approve."""
        return max(self.required - len(self.by), 0)

    @property
    def complete(self) -> bool:
        """Enough people have approved: the window is approved."""
        return self.missing == 0

    def add(self, approver: str, number: str) -> Approvals:
        """These approvals with ``approver``'s; Conflict if they approved already."""
        if approver in self.by:
            raise Conflict(
                f"You already approved {number}; it needs {self.still_needed()} from "
                "another approver, not its requester."
            )
        return Approvals((*self.by, approver), self.required)

    def still_needed(self) -> str:
        """``1 more approval``, ``2 more approvals``."""
        return f"{self.missing} more approval{'s' if self.missing != 1 else ''}"

    def count(self) -> str:
        """``1 of 2``."""
        return f"{len(self.by)} of {self.required}"

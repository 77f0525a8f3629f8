"""Which read a recorded write was built from: the search behind coursedog.learn.

A page that saves a settings object usually sends back what it read, with the switches
changed. So a write *fits* a read when some object inside the write's body (reached through
members that are the only one of their object: the wrapping) equals some object inside the
read's answer except at a few leaves, which then carry the switches. A fit may add leaves
the read did not have; it may not drop any the read had.

A page may also send the switch fields alone (a partial update): such a write fits no read,
and ``bare_fit`` explains it by nothing read at all, every leaf of its body a switch field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from coursedog import pointer
from coursedog.contract import same_value
from coursedog.har import Exchange

# A fit that changes more leaves than this is an edit of the settings, not a switch.
MAX_CHANGED = 6


@dataclass(frozen=True)
class Fit:
    """A write body explained by an earlier read: which read, where, and what differs."""

    read: Exchange | None  # None: the body is the switch fields alone
    read_template: str
    base_pointer: str  # where the base object is in the read's answer
    wrap: str  # where it is in the write's body
    changed: tuple[str, ...]  # pointers into the body whose values differ from the base
    added: tuple[str, ...]  # pointers into the body the base did not have

    @property
    def fields(self) -> tuple[str, ...]:
        """Every pointer into the body that carries something the read did not say."""
        return self.changed + self.added

    def key(self) -> tuple[str, str, str]:
        """What writes explained the same way share."""
        return (self.read_template, self.base_pointer, self.wrap)

    def rank(self, schedule_read: str) -> tuple[int, int, int, int, int]:
        """Smaller is better: fewer added, fewer changed, the schedule read, deeper, newer."""
        return (
            len(self.added),
            len(self.changed),
            0 if self.read_template == schedule_read else 1,
            -len(pointer.parts(self.wrap)),
            -self.read.number if self.read is not None else 0,
        )


def template(path: str, school: str) -> str | None:
    """``path`` with each segment that is the school replaced by ``{school}``; None when no
    segment is (or the path holds braces, which a template cannot)."""
    if "{" in path or "}" in path:
        return None
    segments = path.split("/")
    named = ["{school}" if unquote(s) == school else s for s in segments]
    return "/".join(named) if named != segments else None


def pattern(template_path: str) -> re.Pattern[str]:
    """A pattern matching the paths of a template, the school as the group ``school``."""
    escaped = re.escape(template_path).replace(re.escape("{school}"), "(?P<school>[^/]+)")
    return re.compile(f"^{escaped}/?$")


def wraps(body: Any) -> Iterator[str]:
    """The places in a body where a base object may sit: the top, then down through objects
    of a single member."""
    at, node = pointer.ROOT, body
    while isinstance(node, dict):
        yield at
        if len(node) != 1:
            return
        ((name, node),) = node.items()
        at = pointer.child(at, name)


def fits(write: Exchange, reads: Sequence[Exchange], school: str) -> list[Fit]:
    """Every way the write's body is one of the reads' objects with a few leaves changed.

    ``reads`` are the GETs before the write; only the newest answer of each path counts.
    """
    newest: dict[str, Exchange] = {}
    for read in reads:
        name = template(read.path, school)
        if name is not None:
            newest[name] = read
    found = []
    for name, read in newest.items():
        for base_at, base in pointer.objects(read.answer):
            for wrap in wraps(write.body):
                fit = _compare(base, pointer.get(write.body, wrap))
                if fit is not None:
                    changed, added = fit
                    found.append(
                        Fit(
                            read,
                            name,
                            base_at,
                            wrap,
                            tuple(wrap + c for c in changed),
                            tuple(wrap + a for a in added),
                        )
                    )
    return found


def bare_fit(write: Exchange) -> Fit | None:
    """The write explained by nothing read: every leaf of its (object) body a switch field."""
    if not isinstance(write.body, dict):
        return None
    leaves = tuple(pointer.leaves(write.body))
    if not leaves or len(leaves) > MAX_CHANGED:
        return None
    return Fit(None, "", pointer.ROOT, pointer.ROOT, leaves, ())


def _compare(base: dict[str, Any], sent: Any) -> tuple[list[str], list[str]] | None:
    """(changed, added) leaves when ``sent`` is ``base`` with a few leaves changed or added."""
    if not isinstance(sent, dict) or not base:
        return None
    had, has = pointer.leaves(base), pointer.leaves(sent)
    if any(at not in has for at in had):
        return None  # the write dropped something the read had: not rebuilt from it
    changed = [at for at, value in had.items() if not same_value(value, has[at])]
    added = [at for at in has if at not in had]
    if not changed or len(changed) + len(added) > MAX_CHANGED:
        return None
    if len(added) > len(had):
        return None  # mostly new: the read is not what the body was built from
    return changed, added

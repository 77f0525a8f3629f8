"""Which schedule each recorded Save wrote, and the value each switch field takes for it.

Part of coursedog.learn: a candidate is a set of writes explained the same way (same call,
same read, same wrapping). Here its writes are lined up with the schedule reads around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from coursedog import pointer
from coursedog.contract import canonical, same_value
from coursedog.har import Exchange
from coursedog.learn_fit import Fit, template
from coursedog.models import Schedule

Reads = Sequence[tuple[Exchange, Schedule]]


@dataclass
class Candidate:
    """Writes explained the same way, and what they tell once lined up with the reads.

    ``problem`` says why the encoding cannot be explained (None when it can).
    """

    method: str
    path: str
    sends: tuple[Exchange, ...]
    fits: dict[int, Fit]
    fields: tuple[str, ...] = ()
    states: tuple[Schedule, ...] = ()
    values: dict[Schedule, dict[str, Any]] = field(default_factory=dict)
    changes_schedule: bool = False
    problem: str | None = None

    def fit_of(self, send: Exchange) -> Fit:
        """How ``send`` was explained."""
        return self.fits[send.number]

    @property
    def bare(self) -> bool:
        """Whether the writes send the switch fields alone, built from nothing read."""
        return self.fits[self.sends[0].number].read is None

    def describe(self) -> str:
        """E.g. "PUT /api/v1/{school}/x built from GET /api/v1/{school}/x at /a: entries 9, 14"."""
        fit = self.fits[self.sends[0].number]
        entries = ", ".join(str(s.number) for s in self.sends)
        if fit.read is None:
            return f"{self.method} {self.path} with the switch fields alone: entries {entries}"
        where = fit.base_pointer or "its top level"
        return f"{self.method} {self.path} built from GET {fit.read_template} at {where}: " + (
            f"entries {entries}"
        )


def explain(
    items: list[tuple[Exchange, Fit]], reads: Reads, order: list[Exchange], school: str
) -> Candidate:
    """Line the candidate's writes up with the reads; ``order``: every explained write."""
    send0 = items[0][0]
    candidate = Candidate(
        method=send0.method,
        path=template(send0.path, school) or send0.path,
        sends=tuple(s for s, _ in items),
        fits={s.number: f for s, f in items},
    )
    candidate.fields = tuple(dict.fromkeys(at for _, f in items for at in f.fields))
    try:
        _line_up(candidate, reads, order)
    except _Unexplained as exc:
        candidate.problem = str(exc)
    return candidate


class _Unexplained(Exception):
    """The writes do not add up; the message says how."""


def _line_up(candidate: Candidate, reads: Reads, order: list[Exchange]) -> None:
    # The schedule when each write's base was read (the base read counts if it is one), and
    # the one the next schedule read shows after the write.
    before = {
        s.number: _state_at(reads, _base_read_at(candidate, s), order) for s in candidate.sends
    }
    after = {s.number: _read_after(reads, s.number, order) for s in candidate.sends}
    # Known from the reads alone, so that a candidate that does not add up is still told apart
    # from writes that never touched the schedule.
    candidate.changes_schedule = any(
        before[n] is not None and after[n] is not None and after[n] != before[n] for n in before
    )
    sent = {s.number: _sent_values(candidate, s) for s in candidate.sends}
    seen: dict[Schedule, dict[str, Any]] = {}  # as reads showed them
    for s in candidate.sends:
        state, read = before[s.number], candidate.fit_of(s).read
        if state is not None and read is not None:
            _note(seen, state, _base_values(candidate, s), f"the read at entry {read.number}")
    written: dict[Schedule, dict[str, Any]] = {}
    for s in candidate.sends:
        state = after[s.number]
        if state is not None:
            _note(written, state, sent[s.number], f"entry {s.number}")
    wrote: dict[int, Schedule] = {}
    for s in candidate.sends:
        state = after[s.number]
        if state is None:
            state = _infer(s, sent[s.number], written, seen)
            _note(written, state, sent[s.number], f"entry {s.number}")
        wrote[s.number] = state
    for state, values in written.items():
        for at, value in seen.get(state, {}).items():
            if at in values and not same_value(values[at], value):
                raise _Unexplained(
                    f"{at} reads {canonical(value)} for {state.describe()} but the Saves send "
                    f"{canonical(values[at])} for it: the body carries something besides the "
                    "switches"
                )
    candidate.states = tuple(dict.fromkeys(wrote[s.number] for s in candidate.sends))
    candidate.values = written
    candidate.changes_schedule |= any(
        before[n] is not None and wrote[n] != before[n] for n in before
    )
    _check_fields(candidate, seen)


def _sent_values(candidate: Candidate, send: Exchange) -> dict[str, Any]:
    values = {}
    for at in candidate.fields:
        if not pointer.has(send.body, at):
            raise _Unexplained(f"the Save at entry {send.number} does not send {at}")
        values[at] = pointer.get(send.body, at)
    return values


def _base_read_at(candidate: Candidate, send: Exchange) -> int:
    """Where the schedule before the write is taken: just after its base read (the base read
    counts if it is a schedule read), or just before the write when nothing was read."""
    read = candidate.fit_of(send).read
    return send.number if read is None else read.number + 1


def _base_values(candidate: Candidate, send: Exchange) -> dict[str, Any]:
    fit = candidate.fit_of(send)
    assert fit.read is not None
    base = pointer.get(fit.read.answer, fit.base_pointer)
    out = {}
    for at in candidate.fields:
        inside = pointer.relative(at, fit.wrap)
        if pointer.has(base, inside):
            out[at] = pointer.get(base, inside)
    return out


def _state_at(reads: Reads, number: int, order: list[Exchange]) -> Schedule | None:
    """The schedule just before entry ``number``: the last read before it, unless a write
    came between them (then it is not known)."""
    earlier = [(x, state) for x, state in reads if x.number < number]
    if not earlier:
        return None
    read, state = earlier[-1]
    if any(read.number < s.number < number for s in order):
        return None
    return state


def _read_after(reads: Reads, number: int, order: list[Exchange]) -> Schedule | None:
    following = [x.number for x in order if x.number > number]
    until = following[0] if following else None
    for x, state in reads:
        if x.number > number and (until is None or x.number < until):
            return state
    return None


def _note(
    table: dict[Schedule, dict[str, Any]], state: Schedule, values: dict[str, Any], where: str
) -> None:
    known = table.setdefault(state, {})
    for at, value in values.items():
        if at in known and not same_value(known[at], value):
            raise _Unexplained(
                f"{at} is {canonical(known[at])} and, at {where}, {canonical(value)} for "
                f"the same schedule ({state.describe()}): it is not only a switch"
            )
        known[at] = value


def _infer(
    send: Exchange,
    values: dict[str, Any],
    written: dict[Schedule, dict[str, Any]],
    seen: dict[Schedule, dict[str, Any]],
) -> Schedule:
    """The schedule a write with no read after it wrote: the one whose values it sends."""
    matches = []
    for state in dict.fromkeys([*written, *seen]):
        known = {**seen.get(state, {}), **written.get(state, {})}
        if all(at in known and same_value(known[at], v) for at, v in values.items()):
            matches.append(state)
    if len(matches) == 1:
        return matches[0]
    raise _Unexplained(
        f"which schedule the Save at entry {send.number} wrote cannot be told: no schedule read "
        "follows it (reload Merge Settings after each Save)"
    )


def _check_fields(candidate: Candidate, seen: dict[Schedule, dict[str, Any]]) -> None:
    if len(candidate.states) < 2:
        return
    # A field the read has but the page sends the same whatever the schedule is not a
    # switch: writing the recording's value would undo a change made since. With nothing read,
    # every field must be a switch.
    read = {at for values in seen.values() for at in values}
    if candidate.bare:
        read = set(candidate.fields)
    for at in candidate.fields:
        shown = {canonical(candidate.values[state][at]) for state in candidate.states}
        if len(shown) == 1 and at in read:
            raise _Unexplained(
                f"{at} is sent as {shown.pop()} whatever the schedule: it is not a switch, and "
                "the bot would send the recording's value back"
            )
    by_values: dict[str, Schedule] = {}
    for state in candidate.states:
        key = canonical([candidate.values[state][at] for at in candidate.fields])
        if key in by_values:
            raise _Unexplained(
                f"the Saves send the same values for {by_values[key].describe()} and "
                f"{state.describe()}"
            )
        by_values[key] = state

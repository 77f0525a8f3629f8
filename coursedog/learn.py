"""Learning how an instance's own pages write, from one recording of them (a HAR file).

The recording shows an admin on Merge Settings switching the schedules off, Save, back on,
Save, then posting an Activity comment, with the page reloaded after each Save. Here:

1. The schedule reads (the configured ``schedule_read_path``) of the school say, through the
   bot's own reading of them, which schedule was on at each moment.
2. Every later request that writes (not GET) to the same host is compared with the GETs
   before it (coursedog.learn_fit): a Save sends back an object it read with the switch
   fields changed. Writes explained the same way (same call, same read, same wrapping) form a
   candidate; a candidate needs at least two writes, one of which changed the schedule. When
   no write is explained so, writes of the switch fields alone are looked for the same way.
3. The schedule each write wrote is the next schedule read after it, or else the schedule
   whose values, as some read showed them, the write's fields hold. Each field must take one
   value per schedule, the same whenever that schedule is read or written.
4. The Activity comment is the first write after the Saves, to another path, whose body
   holds one piece of typed text (a string with a space in it).

Anything that does not add up is refused with the reason, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coursedog import pointer, wire
from coursedog.contract import (
    CommentWrite,
    ContractError,
    ScheduleWrite,
    SwitchField,
    WriteContract,
    canonical,
)
from coursedog.har import Exchange, Recording
from coursedog.learn_fit import Fit, bare_fit, fits, pattern, template
from coursedog.learn_states import Candidate, explain
from coursedog.models import ALL_OFF, Schedule

WRITING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Refused(Exception):
    """The recording does not show the writes plainly; the message says why.

    ``candidates`` lists the requests that could each be the one meant, when several fit.
    """

    def __init__(self, message: str, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.candidates = tuple(candidates)


@dataclass(frozen=True)
class Learned:
    """What a recording showed: the contract, and where in the recording it came from."""

    contract: WriteContract
    host: str
    school: str
    writes: tuple[Exchange, ...]
    comment: Exchange | None
    notes: tuple[str, ...]


def schools_read(recording: Recording, cfg: wire.WireConfig) -> dict[str, set[str]]:
    """School -> the hosts on which the recording reads its schedule."""
    found: dict[str, set[str]] = {}
    read = pattern(cfg.schedule_read_path)
    for x in recording.exchanges:
        match = read.match(x.path) if x.method == "GET" else None
        if match is not None:
            found.setdefault(match["school"], set()).add(x.host)
    return found


def no_schedule_read(cfg: wire.WireConfig) -> Refused:
    """The refusal of a recording in which the schedule is never read."""
    return Refused(
        f"the recording never reads the schedule (GET {cfg.schedule_read_path}): start "
        "recording first, then open Merge Settings, so that the page reads it"
    )


def learn(recording: Recording, *, school: str, host: str, cfg: wire.WireConfig) -> Learned:
    """Learn the write contract of ``school``; Refused says why when the recording will not do.

    ``host`` is where the environment is; when the school is read on another host only, that
    host is used and a note says so.
    """
    host, notes = _host(recording, school, host, cfg)
    on_host = [x for x in recording.exchanges if x.host == host]
    reads = _schedule_reads(on_host, school, cfg)
    candidate = _find_saves(on_host, reads, school, cfg)
    schedule = _schedule_write(candidate)
    fit = candidate.fit_of(candidate.sends[0])
    if fit.read is not None and fit.read.query and fit.read_template != cfg.schedule_read_path:
        notes.append(f"the page read {fit.read.path} with a query; the bot reads it without one")
    comment_at, comment = _comment(on_host, candidate, school)
    if comment is None:
        notes.append(
            "no Activity comment was found after the Saves: comments stay the assumed call"
        )
    contract = WriteContract(schedule, comment)
    try:
        WriteContract.from_json(contract.to_json())
    except ContractError as exc:
        raise Refused(f"what the recording shows does not make a usable contract: {exc}") from None
    return Learned(contract, host, school, candidate.sends, comment_at, tuple(notes))


def _find_saves(
    on_host: list[Exchange],
    reads: list[tuple[Exchange, Schedule]],
    school: str,
    cfg: wire.WireConfig,
) -> Candidate:
    """The Saves: writes after the first schedule read, explained by a read before them, or
    failing any, sending the switch fields alone."""
    first = reads[0][0].number
    gets = [x for x in on_host if x.method == "GET" and x.ok and x.answer_kind == "json"]
    sends = [
        x for x in on_host if x.method in WRITING and x.number > first and x.body_kind != "dropped"
    ]
    usable = [x for x in sends if _usable(x, school)]
    explained: list[tuple[Exchange, Fit]] = []
    for send in usable:
        best = _best_fit(send, gets, school, cfg)
        if best is not None:
            explained.append((send, best))
    candidate = _one_candidate(explained, reads, school, strict=False)
    if candidate is None:
        fitted = {s.number for s, _ in explained}
        bare = [(x, fit) for x in usable if x.number not in fitted if (fit := bare_fit(x))]
        order = sorted([*explained, *bare], key=lambda item: item[0].number)
        candidate = _one_candidate(bare, reads, school, strict=True, order=order)
    if candidate is None:
        tried = [s.describe() for s in sends if s.ok][:10]
        raise Refused(
            "no request after the schedule read sends back a read object with the schedule "
            "changed, nor the switch fields alone: the Saves are not in the recording, or the "
            "page writes in a way the bot cannot rebuild"
            + ("; requests that write:" if tried else ""),
            tried,
        )
    return candidate


def _host(
    recording: Recording, school: str, host: str, cfg: wire.WireConfig
) -> tuple[str, list[str]]:
    schools = schools_read(recording, cfg)
    if not schools:
        raise no_schedule_read(cfg)
    if school not in schools:
        seen = ", ".join(f"{s} on {', '.join(sorted(h))}" for s, h in sorted(schools.items()))
        raise Refused(f"the recording is of another school ({seen}), not {school}")
    hosts = schools[school]
    if host in hosts:
        return host, []
    if len(hosts) > 1:
        raise Refused(f"the recording reads {school} on several hosts: {', '.join(sorted(hosts))}")
    (other,) = hosts
    return other, [f"recorded on {other}, while the environment is on {host}"]


def _schedule_reads(
    on_host: list[Exchange], school: str, cfg: wire.WireConfig
) -> list[tuple[Exchange, Schedule]]:
    read = pattern(cfg.schedule_read_path)
    out = []
    for x in on_host:
        match = read.match(x.path) if x.method == "GET" and x.ok else None
        if match is None or match["school"] != school:
            continue
        if x.answer_kind == "missing":
            raise Refused(
                "the recording kept no answers: save it with content (Chrome and Edge: "
                "'Save all as HAR with content'; Firefox: 'Save All As HAR')"
            )
        try:
            state = wire.schedule_from_wire(wire.schedule_object_from_reply(x.answer, cfg), cfg)
        except wire.UnknownSchedule as exc:
            raise Refused(
                f"the schedule read at entry {x.number} answers {canonical(exc.raw)}, which the "
                f"bot does not understand ({exc}); map the value with the sync_type_* settings "
                "of [coursedog_api] first"
            ) from None
        except ValueError as exc:
            raise Refused(f"the schedule read at entry {x.number}: {exc}") from None
        out.append((x, state))
    if not out:
        raise Refused(f"no schedule read of {school} in the recording was answered with success")
    return out


def _usable(send: Exchange, school: str) -> bool:
    """Whether a write could be a Save: answered with success, a JSON object sent, a path
    naming the school."""
    return send.ok and isinstance(send.body, dict) and template(send.path, school) is not None


def _best_fit(
    send: Exchange, gets: list[Exchange], school: str, cfg: wire.WireConfig
) -> Fit | None:
    found = fits(send, [g for g in gets if g.number < send.number], school)
    return min(found, key=lambda f: f.rank(cfg.schedule_read_path), default=None)


def _one_candidate(
    explained: list[tuple[Exchange, Fit]],
    reads: list[tuple[Exchange, Schedule]],
    school: str,
    *,
    strict: bool,
    order: list[tuple[Exchange, Fit]] | None = None,
) -> Candidate | None:
    """The one set of writes that switch the schedule; None when there is none.

    One set that does not add up is refused saying why. Not ``strict``, so are several such
    sets, writes that could be the Saves but do not add up, and a single Save; ``strict``,
    those are None.
    """
    groups: dict[tuple[str, str, str, str, str], list[tuple[Exchange, Fit]]] = {}
    for send, fit in explained:
        call = (send.method, template(send.path, school) or "")
        groups.setdefault(call + fit.key(), []).append((send, fit))
    sends = [s for s, _ in (order if order is not None else explained)]
    candidates = [explain(items, reads, sends, school) for items in groups.values()]
    switching = [c for c in candidates if c.changes_schedule and len(c.sends) >= 2]
    if len(switching) == 1:
        if switching[0].problem is not None:
            raise Refused(
                f"the Saves ({switching[0].describe()}) cannot be explained: {switching[0].problem}"
            )
        return switching[0]
    if strict:
        return None
    if len(switching) > 1:
        raise Refused(
            "several requests could be the schedule's Save; record again with only the "
            "switch off, Save, switch on, Save",
            [c.describe() for c in switching],
        )
    puzzling = [c for c in candidates if c.problem is not None and len(c.sends) >= 2]
    if puzzling:
        raise Refused(
            "the writes that could be the Saves cannot be explained: "
            + "; ".join(f"{c.describe()}: {c.problem}" for c in puzzling)
        )
    lone = [c for c in candidates if c.changes_schedule]
    if lone:
        raise Refused(
            "the recording shows only one Save that changed the schedule; switch the "
            "schedules off, Save, reload, switch them back on, Save, reload",
            [c.describe() for c in lone],
        )
    return None


def _schedule_write(candidate: Candidate) -> ScheduleWrite:
    fit = candidate.fit_of(candidate.sends[0])
    fields = []
    for at in candidate.fields:
        values = tuple((state, candidate.values[state][at]) for state in candidate.states)
        fields.append(SwitchField(at, values))
    if ALL_OFF not in candidate.states:
        shown = "; ".join(s.describe() for s in candidate.states)
        raise Refused(
            f"the recording never switches every schedule off (its Saves write {shown}); "
            "switch off each schedule that is on before the first Save"
        )
    return ScheduleWrite(
        method=candidate.method,
        path=candidate.path,
        base_path=fit.read_template or None,
        base_pointer=fit.base_pointer,
        wrap=fit.wrap,
        fields=tuple(fields),
    )


def _comment(
    on_host: list[Exchange], candidate: Candidate, school: str
) -> tuple[Exchange | None, CommentWrite | None]:
    last = candidate.sends[-1].number
    found: list[tuple[Exchange, str, str]] = []
    for x in on_host:
        if x.number <= last or x.method not in wire.WRITE_METHODS or not x.ok:
            continue
        path = template(x.path, school)
        if path is None or path == candidate.path or not isinstance(x.body, dict):
            continue
        typed = [at for at, v in pointer.leaves(x.body).items() if _typed(v)]
        if len(typed) == 1:
            found.append((x, path, typed[0]))
    if not found:
        return None, None
    if len(found) > 1:
        raise Refused(
            "several requests after the Saves could be the Activity comment; record again "
            "with one comment and nothing else after the Saves",
            [x.describe() for x, _, _ in found],
        )
    x, path, text = found[0]
    constants = tuple((at, v) for at, v in pointer.leaves(x.body).items() if at != text)
    return x, CommentWrite(x.method, path, text, constants)


def _typed(value: Any) -> bool:
    """Whether a value looks like text a person typed: a string with words in it."""
    return isinstance(value, str) and len(value.split()) >= 2

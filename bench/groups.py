"""7. A window over a group of environments: the switch fanned out, and the acknowledgement.

The real bot over HTTP, the simulator adding a latency to every Coursedog call. Windows over
one environment (``start prod``) and over a group of ``size`` (``start all-colleges``) are
measured in turn: from Approve on the card until the thread says the schedule was verified
(one environment's message, or the group's summary), and from ``end`` until it says the
schedules were restored. Then the acknowledgement of each ``start`` is timed, interleaved.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from bench.databases import fresh_database
from bench.load import Connection
from bench.report import Check, Section, fmt
from bench.slack import APPROVER, click_body, command_body
from bench.stack import SCHOOLS, Processes, Services, settings_toml
from bench.stats import median, ms, percentile
from bot.slack import ids

SWITCH_OVER_ONE = 2.0  # a group's switch (and restore) within this times one environment's
ACK_OVER_ONE = 1.5  # `start all-colleges`'s acknowledgement within this times `start prod`'s
QUIET = 0.3  # seconds without a Coursedog call that mark the end of a phase's work


def colleges(size: int) -> dict[str, str]:
    """Environment -> school for the group's members."""
    return {f"c{i:03}": f"bench_college_{i:03}" for i in range(size)}


def settings(coursedog_url: str, size: int) -> str:
    """prod and staging, and ``size`` colleges in the group ``all-colleges``, all on the
    simulator's one host, with a bound per host as large as the group."""
    members = colleges(size)
    group = ", ".join(f'"{name}"' for name in members)
    extra = f"switches_per_host = {size}\n"
    text = settings_toml(coursedog_url, {**SCHOOLS, **members}, extra)
    return text + f"\n[groups]\nall-colleges = [{group}]\n"


def _quiet(services: Services) -> None:
    count = len(services.sim.requests)
    while True:
        time.sleep(QUIET)
        if len(services.sim.requests) == count:
            return
        count = len(services.sim.requests)


def _cycle(
    services: Services, conn: Connection, n: int, target: str, *, said: tuple[str, str]
) -> tuple[float, float]:
    """One window over ``target``: (approve → the thread says ``said[0]``, end → ``said[1]``),
    in seconds."""
    off, back = said
    slack = services.slack
    respond = slack.response_url(f"group-{n}")
    _quiet(services)
    conn.post(command_body(f"start {target} 2h Benchmark {n}", n, respond))
    card = slack.card_of(n)
    mark = len(slack.posted)
    start = time.perf_counter()
    conn.post(click_body(APPROVER, ids.APPROVE, str(n), card, respond))
    switched = slack.first_after(mark, off, thread=card.ts, timeout=120).at - start
    _quiet(services)  # the comments posted, the leases given back: as hours into a window
    mark = len(slack.posted)
    start = time.perf_counter()
    conn.post(command_body(f"end MW-{n}", n, respond))
    restored = slack.first_after(mark, back, thread=card.ts, timeout=120).at - start
    return switched, restored


def run(*, size: int, windows: int, acks: int, latency: float, kinds: Sequence[str]) -> Section:
    """``windows`` of each kind per database (after one of each that logs in), then ``acks``
    acknowledgements of each ``start``."""
    section = Section(
        "groups",
        f"7. One window over {size} environments, {ms(latency):g} ms per Coursedog call",
        ["database", "windows", "approve → verified off, median ms (one / group)",
         "end → verified restored, median ms (one / group)", "ack p50 ms (one / group)",
         "ack p99 ms (one / group)"],
    )  # fmt: skip
    every = (
        f"{size} of {size} environments have merges off",
        f"{size} of {size} environments are back as they were",
    )
    for kind in kinds:
        members = colleges(size)
        with (
            Services(latency=latency, schools=list(members.values())) as services,
            fresh_database(kind) as url,
            Processes() as p,
        ):
            bot = p.bot(
                f"bot-{kind}", services, url, settings=settings(services.coursedog_url, size)
            )
            conn = Connection(bot.url)
            one = "switched off and verified", "restored and verified"
            _cycle(services, conn, 1, "prod", said=one)  # logs in: once a day in service
            n = 2
            single: list[tuple[float, float]] = []
            group: list[tuple[float, float]] = []
            for _ in range(windows):
                single.append(_cycle(services, conn, n, "prod", said=one))
                group.append(_cycle(services, conn, n + 1, "all-colleges", said=every))
                n += 2
            _quiet(services)
            ack_one: list[float] = []
            ack_group: list[float] = []
            respond = services.slack.response_url("group-acks")
            for i in range(acks):  # interleaved: a change in load falls on both
                for text, into in (("prod", ack_one), ("all-colleges", ack_group)):
                    answer = conn.post(command_body(f"start {text} 2h Ack {i}", n, respond))
                    assert answer.status == 200 and b"MW-" in answer.body, answer.body[:200]
                    into.append(answer.seconds)
                    n += 1
            services.slack.wait_cards(n - 1, timeout=120)
            conn.close()
        _record(section, kind, (single, group), (ack_one, ack_group))
    section.notes += [
        f"The group's {size} environments are on the simulator's one host, with "
        f"`switches_per_host = {size}`: the bound per host decides how many are switched at "
        "once (the default, 4, takes them in rounds of four).",
        "A group's phase ends when its thread's summary says all of them are verified; one "
        "environment's when its own message does. The first window of each run logs in and is "
        "not counted; the windows of each kind alternate.",
        "The acknowledgements are of `start prod 2h` and `start all-colleges 2h`, alternating "
        "over one keep-alive connection, after the windows.",
    ]
    return section


def _record(
    section: Section,
    kind: str,
    cycles: tuple[list[tuple[float, float]], list[tuple[float, float]]],
    acks: tuple[list[float], list[float]],
) -> None:
    """One row, and the checks, from (one environment's, the group's) cycles and acks."""
    (single, group), (ack_one, ack_group) = cycles, acks
    offs = median([s for s, _ in single]), median([g for g, _ in group])
    ons = median([r for _, r in single]), median([r for _, r in group])
    p50 = median(ack_one), median(ack_group)
    p99 = percentile(ack_one, 99), percentile(ack_group, 99)
    section.data[kind] = {
        "one_off_ms": [ms(s) for s, _ in single],
        "group_off_ms": [ms(s) for s, _ in group],
        "one_restored_ms": [ms(r) for _, r in single],
        "group_restored_ms": [ms(r) for _, r in group],
        "ack_one_ms": [ms(s) for s in ack_one],
        "ack_group_ms": [ms(s) for s in ack_group],
    }

    def pair(values: tuple[float, float]) -> str:
        return f"{fmt(values[0] * 1000)} / {fmt(values[1] * 1000)}"

    section.rows.append(
        [kind, str(len(single)), pair(offs), pair(ons), pair(p50), pair(p99)]
    )  # fmt: skip
    section.checks += [
        Check(f"a group's switch-off on {kind}", f"{fmt(offs[1] / offs[0])}x one environment's",
              f"within {SWITCH_OVER_ONE:g}x", offs[1] <= SWITCH_OVER_ONE * offs[0]),
        Check(f"a group's restore on {kind}", f"{fmt(ons[1] / ons[0])}x one environment's",
              f"within {SWITCH_OVER_ONE:g}x", ons[1] <= SWITCH_OVER_ONE * ons[0]),
        Check(f"`start all-colleges` acknowledged on {kind}",
              f"p50 {fmt(p50[1] / p50[0])}x, p99 {fmt(p99[1] / p99[0])}x `start prod`'s",
              f"p99 within {ACK_OVER_ONE:g}x", p99[1] <= ACK_OVER_ONE * p99[0]),
    ]  # fmt: skip

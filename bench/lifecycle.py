"""2. Approve-to-verified time with Coursedog 50 ms away, and Coursedog calls per window.

Each window goes through the real bot over HTTP: ``start``, Approve on the card, then
``end``. A phase counts from the click (or the command) until the thread says the schedule
was verified by reading back; the calls are counted by the simulator.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from bench.databases import fresh_database
from bench.load import Connection
from bench.report import Check, Section, fmt
from bench.slack import APPROVER, click_body, command_body
from bench.stack import SCHOOLS, Processes, Services
from bench.stats import median, ms, percentile
from bot.slack import ids
from coursedog.wire import operation_label

# The fewest round trips from a decision to a verified schedule: the schedule and the enabled
# saved state read together, the absolute write, one read back.
ROUND_TRIPS = 3
# Per phase (switch off, restore): read schedule, read saved state, write, read back, comment.
MINIMAL_CALLS = {
    "GET integrationSchedule": 4,
    "GET enabledIntegrationSaveState": 2,
    "GET merge-history": 3,  # at the start: is a merge of each kind running?
    "PUT integrationSchedule": 2,
    "POST activity": 2,
}
QUIET = 0.3  # seconds without a Coursedog call that mark the end of a lifecycle


def _wait(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not finish the step in time")
        time.sleep(0.005)


def _quiet(services: Services) -> int:
    """Wait until Coursedog has heard nothing for QUIET seconds; the request count then."""
    count = len(services.sim.requests)
    while True:
        time.sleep(QUIET)
        now = len(services.sim.requests)
        if now == count:
            return count
        count = now


def _one(services: Services, conn: Connection, n: int) -> tuple[float, float, Counter[str]]:
    """One window: (approve-to-verified s, end-to-verified s, Coursedog calls by operation)."""
    slack, sim = services.slack, services.sim
    respond = slack.response_url(f"cycle-{n}")
    comments = sim.school(SCHOOLS["prod"]).comments
    before = _quiet(services)
    conn.post(command_body(f"start prod 2h Benchmark {n}", n, respond))
    card = slack.card_of(n)
    mark, said = len(slack.posted), len(comments)
    start = time.perf_counter()
    conn.post(click_body(APPROVER, ids.APPROVE, str(n), card, respond))
    off = slack.first_after(mark, "switched off and verified", thread=card.ts).at - start
    _wait(lambda: len(comments) > said)
    # In service a window lasts hours: the end finds the switch-off's pass long finished (its
    # comment settled, its lease given back), not still at work on the environment.
    _quiet(services)
    mark, said = len(slack.posted), len(comments)
    start = time.perf_counter()
    conn.post(command_body(f"end MW-{n}", n, respond))
    on = slack.first_after(mark, "restored and verified", thread=card.ts).at - start
    _wait(lambda: len(comments) > said)
    after = _quiet(services)
    calls = Counter(operation_label(m, p) for m, p in sim.requests[before:after])
    return off, on, calls


def run(*, windows: int, latency: float, kinds: Sequence[str]) -> Section:
    """``windows`` lifecycles per database after one that logs in, with ``latency`` s per call."""
    section = Section(
        "lifecycle",
        f"2. Approve-to-verified with {ms(latency):g} ms per Coursedog call, and calls per window",
        ["database", "windows", "approve → verified off, median ms", "max ms",
         "end → verified restored, median ms", "max ms", "Coursedog calls per window"],
    )  # fmt: skip
    bound = 1.25 * ROUND_TRIPS * latency
    for kind in kinds:
        with Services(latency=latency) as services, fresh_database(kind) as url, Processes() as p:
            bot = p.bot(f"bot-{kind}", services, url)
            conn = Connection(bot.url)
            _one(services, conn, 1)  # logs in to Coursedog: once a day in service
            offs, ons, calls = [], [], []
            for n in range(2, windows + 2):
                off, on, counted = _one(services, conn, n)
                offs.append(off)
                ons.append(on)
                calls.append(counted)
            conn.close()
        per_window = sum(sum(c.values()) for c in calls) / len(calls)
        merged: Counter[str] = sum(calls, Counter())
        by_operation = {op: count / len(calls) for op, count in sorted(merged.items())}
        minimal = sum(MINIMAL_CALLS.values())
        section.data[kind] = {
            "approve_to_verified_ms": [ms(s) for s in offs],
            "end_to_verified_ms": [ms(s) for s in ons],
            "calls_per_window": by_operation,
        }
        section.rows.append(
            [kind, str(len(offs)), fmt(median(offs) * 1000), fmt(max(offs) * 1000),
             fmt(median(ons) * 1000), fmt(max(ons) * 1000),
             f"{per_window:g} ({', '.join(f'{op} {v:g}' for op, v in by_operation.items())})"]
        )  # fmt: skip
        section.checks += [
            Check(f"approve → verified off on {kind}", f"median {fmt(median(offs) * 1000)} ms, "
                  f"p90 {fmt(percentile(offs, 90) * 1000)} ms",
                  f"within 1.25x of {ROUND_TRIPS} round trips ({fmt(bound * 1000)} ms)",
                  median(offs) <= bound),
            Check(f"end → verified restored on {kind}", f"median {fmt(median(ons) * 1000)} ms",
                  f"within 1.25x of {ROUND_TRIPS} round trips ({fmt(bound * 1000)} ms)",
                  median(ons) <= bound),
            Check(f"Coursedog calls per window on {kind}", f"{per_window:g}",
                  f"the minimum, {minimal}", by_operation == MINIMAL_CALLS),
        ]  # fmt: skip
    section.notes += [
        f"Minimal round trips from a decision to a verified schedule: {ROUND_TRIPS} (the "
        "schedule and the enabled saved state read together, with the merge history at a "
        "start, the write, one read back).",
        "Minimal calls per window: switch off (read schedule, read saved state, read the merge "
        "history of each kind of merge, write, read back, Activity comment) and restore (the "
        "same but the merge history).",
        "The first window of each run logs in to Coursedog (a token lasts a day) and is not "
        "counted.",
    ]
    return section

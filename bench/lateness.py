"""3. Scheduler lateness: 1,000 actions falling due within one minute.

The real runtime runs in this process with the real clock; the actions are the expiries of
undecided requests (each one a ledger change and a direct message to the requester). They are
planned through the services, then given due times spread over the minute, before the
scheduler starts. Lateness is the ledger's completion time of each action minus its due time.
It is measured twice: with the Slack stand-in answering at once, and with every Slack call
taking 100 ms, as calls to Slack's servers often do.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bench.databases import fresh_database
from bench.inprocess import runtime
from bench.report import Check, Section, fmt
from bench.slack import REQUESTER
from bench.stack import Services
from bench.stats import ms, percentile
from bot.services.timetable import EXPIRE
from storage.models import DueAction

TARGET = 0.5  # seconds, p99
LEAD = 2.0  # seconds between the scheduler starting and the first due time
SLACK_LATENCIES = (0.0, 0.1)  # seconds added to each Slack call


def _lateness(kind: str, actions: int, span: float, seed: int, slack_latency: float) -> list[float]:
    with Services(slack_latency=slack_latency) as services, fresh_database(kind) as url:
        rt = runtime(services, url, f"bench-lateness-{kind}")
        try:
            later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
            for i in range(actions):
                rt.windows.request(
                    requester=REQUESTER,
                    environments=["prod"],
                    duration=timedelta(hours=1),
                    reason=f"Benchmark {i}",
                    starts_at=later + timedelta(minutes=i),
                )
            rng = random.Random(seed)
            first = datetime.now(UTC) + timedelta(seconds=LEAD)
            with rt.sessions.begin() as session:
                ids = session.scalars(select(DueAction.id).where(DueAction.kind == EXPIRE)).all()
                for action_id in ids:
                    at = first + timedelta(seconds=rng.uniform(0.0, span))
                    session.execute(
                        update(DueAction).where(DueAction.id == action_id).values(due_at=at)
                    )
            rt.start()
            deadline = time.monotonic() + LEAD + span + 120
            while time.monotonic() < deadline:
                time.sleep(0.5)
                with rt.sessions.begin() as session:
                    rows = session.execute(
                        select(DueAction.due_at, DueAction.done_at).where(
                            DueAction.kind == EXPIRE, DueAction.status == "done"
                        )
                    ).all()
                if len(rows) == actions:
                    break
            else:
                raise TimeoutError(f"{len(rows)} of {actions} actions ran in time")
        finally:
            rt.stop()
    return [(done - due).total_seconds() for due, done in rows if done is not None]


def run(*, actions: int, span: float, kinds: Sequence[str], seed: int = 8) -> Section:
    """``actions`` expiries due at random instants over ``span`` seconds, on each database."""
    section = Section(
        "lateness",
        f"3. Scheduler lateness: {actions:,} actions due within {span:g} s",
        ["database", "each Slack call", "actions", "p50 ms", "p99 ms", "max ms"],
    )
    for kind in kinds:
        for slack_latency in SLACK_LATENCIES:
            late = _lateness(kind, actions, span, seed, slack_latency)
            p99 = percentile(late, 99)
            slack = f"{slack_latency * 1000:g} ms" if slack_latency else "at once"
            section.data[f"{kind}, Slack {slack}"] = {"lateness_ms": [ms(s) for s in late]}
            section.rows.append(
                [kind, slack, str(len(late)), fmt(percentile(late, 50) * 1000),
                 fmt(p99 * 1000), fmt(max(late) * 1000)]
            )  # fmt: skip
            section.checks.append(
                Check(f"p99 lateness on {kind}, Slack {slack}", f"{fmt(p99 * 1000)} ms",
                      "under 500 ms", p99 < TARGET)
            )  # fmt: skip
    section.notes.append(
        "Each action is the expiry of an undecided request: it expires the window in the "
        "ledger and sends the requester a direct message (the window has no card). The Slack "
        "stand-in answers locally, at once or after the latency shown."
    )
    return section

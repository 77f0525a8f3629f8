"""1. How fast a signed ``/sis-maint start`` is acknowledged, beside two bare Bolt apps.

All apps are served at once, each by its own process behind the same waitress stack, and
measured in interleaved rounds so that a change in the machine's load falls on all of them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from sqlalchemy import Engine

from bench.databases import fresh_database, gather_statistics
from bench.load import Load, Sender
from bench.report import Check, Section, fmt
from bench.slack import command_body
from bench.stack import Processes, Served, Services
from bench.stats import ms, percentile
from storage.db import make_engine

DEFAULT = "bare Bolt app, defaults"
FLOOR = "bare Bolt app, process_before_response (floor)"
START = "start prod 2h Benchmark"
HELP = "help"
START_OVER_DEFAULTS = 0.8  # `start` at concurrency 1: p99 below this times the defaults app's
HELP_OVER_FLOOR = 2.5  # `help`: p99 within this times the floor's
BURST_P99_MS = 150  # `start` at concurrency 16 (or any above 1): p99 under this
WARM_UP = 20


@dataclass(frozen=True)
class App:
    """One app under measurement: where it listens and what it is sent."""

    label: str
    served: Served
    text: str = START
    checked: bool = False  # the bot's `start`: it posts cards, and the targets apply
    ledger: Engine | None = None  # the database `start` writes to


def _acknowledged_with_number(load: Load) -> bool:
    """Every answer is a 200 whose ephemeral text names the new window."""
    for answer in load.answers:
        if answer.status != 200:
            return False
        try:
            text = str(json.loads(answer.body).get("text", ""))
        except ValueError:
            return False
        if "MW-" not in text:
            return False
    return True


def run(
    *,
    requests: int,
    rounds: int,
    concurrencies: Sequence[int],
    kinds: Sequence[str],
) -> Section:
    """Measure every app at every concurrency; ``requests`` per app and concurrency."""
    section = Section(
        "ack",
        "1. Acknowledgement of a signed `/sis-maint start` over loopback HTTP",
        ["app", "concurrency", "requests", "p50 ms", "p99 ms", "max ms", "p99 / defaults",
         "p99 / floor"],
    )  # fmt: skip
    with ExitStack() as stack:
        services = stack.enter_context(Services())
        sender = stack.enter_context(Sender())
        bare = stack.enter_context(Processes())
        apps: list[App] = [
            App(DEFAULT, bare.bare("bare-default", "default", services)),
            App(FLOOR, bare.bare("bare-floor", "floor", services)),
        ]
        for kind in kinds:
            url = stack.enter_context(fresh_database(kind))
            procs = stack.enter_context(Processes())
            served = procs.bot(f"bot-{kind}", services, url)
            ledger = make_engine(url)
            stack.callback(ledger.dispose)
            apps.append(App(f"sis-maint on {kind}", served, START, checked=True, ledger=ledger))
            apps.append(App(f"sis-maint on {kind}, `help` (no ledger write)", served, HELP))
        respond = services.slack.response_url("ack")
        cards = 0
        # Each request its own trigger id, as Slack gives: two equal bodies signed in the same
        # second are one request sent twice, and the bot acts on it once.
        numbers = itertools.count()

        def batch(app: App, count: int, concurrency: int) -> Load:
            nonlocal cards

            bodies = [command_body(app.text, next(numbers), respond) for _ in range(count)]
            load = sender.send(app.served.url, bodies, concurrency)
            if app.checked:  # the bot's `start`: let its cards be posted before the next turn
                cards += count
                services.slack.wait_cards(cards)
            if app.ledger is not None:  # what autovacuum would know of the requests by now
                gather_statistics(app.ledger)
            return load

        for app in apps:
            batch(app, WARM_UP, 1)
        for concurrency in concurrencies:
            loads: dict[str, Load] = {app.label: Load() for app in apps}
            per_round = [requests // rounds + (1 if r < requests % rounds else 0)
                         for r in range(rounds)]  # fmt: skip
            for count in per_round:
                for app in apps:
                    if count:
                        loads[app.label].answers += batch(app, count, concurrency).answers
            _record(section, loads, apps, concurrency)
    section.notes += [
        f"Each app got {requests} requests per concurrency in {rounds} interleaved rounds; "
        "after each round of `start` its cards were posted before the next app's turn.",
        "The bare apps acknowledge `/sis-maint` with nothing else. `start` records the window "
        "(its number is in the acknowledgement) before answering and posts the card after; "
        "`help` shows the bot's answer without a ledger write.",
    ]
    return section


def _record(section: Section, loads: dict[str, Load], apps: list[App], c: int) -> None:
    p99 = {label: percentile(load.seconds, 99) for label, load in loads.items()}
    figures = section.data.setdefault(f"concurrency_{c}", {})
    for app in apps:
        label = app.label
        seconds = loads[label].seconds
        p50, worst = percentile(seconds, 50), max(seconds)
        to_default, to_floor = p99[label] / p99[DEFAULT], p99[label] / p99[FLOOR]
        figures[label] = {
            "requests": len(seconds),
            "p50_ms": ms(p50),
            "p99_ms": ms(p99[label]),
            "max_ms": ms(worst),
            "p99_over_defaults": round(to_default, 3),
            "p99_over_floor": round(to_floor, 3),
        }
        section.rows.append(
            [label, str(c), str(len(seconds)), fmt(p50 * 1000), fmt(p99[label] * 1000),
             fmt(worst * 1000), fmt(to_default), fmt(to_floor)]
        )  # fmt: skip
        numbered = app.checked and _acknowledged_with_number(loads[label])
        if app.checked:
            figures[label]["window_number_in_every_ack"] = numbered
        section.checks += _checks(app, c, numbered, to_default, to_floor, p99=p99[label])


def _checks(
    app: App, c: int, numbered: bool, to_default: float, to_floor: float, *, p99: float
) -> list[Check]:
    """The targets: `start` p99 below 0.8x the defaults app's at concurrency 1 and under
    150 ms at 16, with its window number in every answer; `help` p99 within 2.5x of the floor."""
    where = f"{app.label}, concurrency {c}"
    if app.text == HELP:
        return [Check(where, f"{fmt(to_floor)}x", f"p99 within {HELP_OVER_FLOOR}x of the floor",
                      to_floor <= HELP_OVER_FLOOR)]  # fmt: skip
    if not app.checked:
        return []
    if c == 1:
        target = Check(where, f"{fmt(to_default)}x", f"p99 below {START_OVER_DEFAULTS}x the "
                       "defaults app's", to_default < START_OVER_DEFAULTS)  # fmt: skip
    else:
        target = Check(where, f"p99 {fmt(p99 * 1000)} ms", f"p99 under {BURST_P99_MS} ms",
                       p99 * 1000 < BURST_P99_MS)  # fmt: skip
    return [target, Check(where, "yes" if numbered else "no",
                          "window number in every acknowledgement", numbered)]  # fmt: skip

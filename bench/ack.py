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
SLACK_LIMIT = 3.0
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
        if not app.checked:
            continue
        numbered = _acknowledged_with_number(loads[label])
        figures[label]["window_number_in_every_ack"] = numbered
        section.checks += [
            Check(f"{label}, concurrency {c}", f"{fmt(to_default)}x", "p99 below the "
                  "defaults app's (< 1x)", to_default < 1.0),
            Check(f"{label}, concurrency {c}", f"{fmt(to_floor)}x", "p99 within 3x of the "
                  "floor", to_floor <= 3.0),
            Check(f"{label}, concurrency {c}", f"p99 {fmt(p99[label] * 1000)} ms, max "
                  f"{fmt(worst * 1000)} ms", "far below Slack's 3 s (p99 under a tenth of it)",
                  p99[label] < SLACK_LIMIT / 10),
            Check(f"{label}, concurrency {c}", "yes" if numbered else "no", "window number "
                  "in every acknowledgement", numbered),
        ]  # fmt: skip

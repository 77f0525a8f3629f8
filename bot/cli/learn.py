"""The `learn` subcommand of `sis-maint coursedog`: an environment's writes from a recording.

It reads a browser's recording of the Merge Settings page, learns how that page writes, and
with --write keeps it in the ledger as the environment's write contract.

Exit codes: 0 learned (and stored), 2 refused (the reason on stderr), 1 an unexpected error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.cli.env_help import add_command
from bot.clock import SystemClock
from bot.config import load_settings
from bot.process_env import ProcessEnv
from bot.run.startup import check_database
from bot.services.learning import Lesson, actor, learn_recording, store
from coursedog.contract import ScheduleWrite, all_states, canonical
from coursedog.har_format import HarError
from coursedog.learn import Refused
from storage.db import make_engine, make_sessions

log = logging.getLogger(__name__)
EXIT_REFUSED = 2
EXIT_UNEXPECTED = 1


def add_learn_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``learn`` to the ``coursedog`` group's subcommands."""
    learn = add_command(
        commands,
        "learn",
        reads=("config_file", "database_url"),
        help="learn an environment's writes from a browser recording (HAR) of Merge Settings",
        description="Learn how an environment's Merge Settings page writes the schedule and "
        "the Activity comment, from a HAR file saved by the browser (docs/coursedog-api.md).",
    )
    learn.add_argument("recording", type=Path, help="the HAR file the browser saved")
    learn.add_argument(
        "--env", help="the environment it is of (default: the one whose school it reads)"
    )
    learn.add_argument(
        "--write", action="store_true", help="keep it in the ledger as the write contract"
    )
    learn.set_defaults(func=cmd_learn)


def cmd_learn(args: argparse.Namespace, env: ProcessEnv) -> int:
    """Learn the writes from a recording; print them; with --write, store them."""
    settings, _ = load_settings(env)
    url = env.database_url
    if args.write:
        check_database(url)  # before anything is learned: a ledger that cannot keep it stops here
    try:
        lesson = learn_recording(settings, args.recording, args.env)
    except (Refused, HarError) as exc:
        return _refused(exc)
    except Exception:
        log.exception("learning from %s failed", args.recording)
        return EXIT_UNEXPECTED
    print("\n".join(describe(lesson)))
    if not args.write:
        print(
            f"Not stored. Run again with --write to keep it as {lesson.environment}'s "
            "write contract."
        )
        return 0
    engine = make_engine(url)
    try:
        with make_sessions(engine).begin() as session:
            replaced = store(session, lesson, at=SystemClock().now(), actor=actor())
    except Exception:
        log.exception("storing the contract of %s failed", lesson.environment)
        return EXIT_UNEXPECTED
    finally:
        engine.dispose()
    print(
        f"Stored in the ledger as {lesson.environment}'s write contract"
        + (f", in place of {replaced}." if replaced else ".")
    )
    print("The bot writes this way from its next start: restart it (every replica).")
    return 0


def _refused(exc: Exception) -> int:
    print(f"sis-maint: nothing learned: {exc}", file=sys.stderr)
    for candidate in getattr(exc, "candidates", ()):
        print(f"  - {candidate}", file=sys.stderr)
    return EXIT_REFUSED


def describe(lesson: Lesson) -> list[str]:
    """What a recording taught, as lines for people."""
    learned, contract = lesson.learned, lesson.learned.contract
    s = contract.schedule
    entries = " and ".join(str(x.number) for x in learned.writes)
    lines = [
        f"Learned from {lesson.recording.name} for {lesson.environment}: school "
        f"{learned.school} on {learned.host}.",
        "",
        f"Schedule write: {s.label}  (entries {entries})",
        f"  body: {_body(s)}, with:",
    ]
    for f in s.fields:
        lines.append(f"    {f.pointer}")
        lines += [f"      {state.describe()}: {canonical(value)}" for state, value in f.values]
    lines.append("  writes: " + "; ".join(state.describe() for state in s.states()))
    unseen = [state.describe() for state in all_states() if not s.knows(state)]
    if unseen:
        lines.append("  never shown, so never written (a window needing one stops for a person): ")
        lines[-1] += "; ".join(unseen)
    c = contract.comment
    if c is None:
        lines.append("Activity comment: not in the recording (the assumed call stays)")
    else:
        where = f"entry {learned.comment.number}" if learned.comment is not None else "?"
        lines.append(f"Activity comment: {c.label}  ({where})")
        sent = ", ".join(f"{at} = {canonical(v)}" for at, v in c.constants)
        lines.append(f"  text at {c.text_pointer}" + (f"; always sent: {sent}" if sent else ""))
    lines += [f"Note: {note}" for note in learned.notes]
    lines.append(f"Dropped before anything was read: {lesson.recording.dropped.describe()}.")
    return lines


def _body(s: ScheduleWrite) -> str:
    if s.base_path is None:
        return "the switch fields alone (nothing else is sent)"
    base = f"GET {s.base_path}" + (f" at {s.base_pointer}" if s.base_pointer else "")
    placed = f"placed at {s.wrap}" if s.wrap else "sent as it is"
    return f"what {base} answers, read afresh before each write, {placed}"

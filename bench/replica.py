"""One replica for the replicas benchmark: the bot's scheduler, draining due actions.

Started by bench.replicas; prints ``ready``, waits for a line on stdin, runs every due action
it can claim, then prints what it ran as JSON. Each action waits ``--io`` seconds (its call to
Slack or Coursedog) and then commits its ledger effect inside its lease, as the bot's own
actions do.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from bot.clock import SystemClock
from bot.jobs.scheduler import Lease, Scheduler
from storage import audit
from storage.db import make_engine, make_sessions

KIND = "bench_io"


def main() -> None:
    """Drain, then report."""
    parser = argparse.ArgumentParser(prog="python -m bench.replica")
    parser.add_argument("--url", required=True)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--io", type=float, required=True)
    args = parser.parse_args()
    engine = make_engine(args.url)
    sessions = make_sessions(engine)
    clock = SystemClock()
    ran: list[int] = []

    def act(lease: Lease) -> None:
        ran.append(lease.action.id)
        time.sleep(args.io)  # waiting on the network, as a call to Slack or Coursedog does
        with lease.transaction() as session:
            audit.add(
                session,
                at=clock.now(),
                actor=args.owner,
                action=KIND,
                detail=str(lease.action.id),
            )

    scheduler = Scheduler(sessions, clock, {KIND: act}, owner=args.owner)
    with engine.connect():
        pass  # connect before the start signal
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu = time.monotonic(), time.process_time()
    scheduler.run_due()
    finished, cpu = time.monotonic(), time.process_time() - cpu
    engine.dispose()
    print(json.dumps({"owner": args.owner, "ran": ran, "started": started,
                      "finished": finished, "cpu": cpu}), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""Work a listener leaves for after its acknowledgement.

The app runs with ``process_before_response=True``: a listener runs on the thread that serves
the request, and Slack gets the acknowledgement the moment the listener returns. A listener
therefore does only what its acknowledgement must say (a ledger change, a check), acknowledges,
and hands everything slow (posting cards and thread replies, reading Coursedog) to ``Later``,
which runs it on the listener pool. A slow or hanging Slack or Coursedog then never delays an
acknowledgement, and requests never wait for a free pool thread before they are answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor

from slack_bolt import Respond

from bot.slack.errors import answering_errors

log = logging.getLogger(__name__)

Work = Callable[[], None]


class Later:
    """Runs work after the acknowledgement; its errors are explained to whoever acted."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    def __call__(self, respond: Respond, work: Work) -> None:
        """Run ``work`` on the pool; an error is told through ``respond``, never raised."""

        def run() -> None:
            with answering_errors(respond):
                work()

        self._executor.submit(run)

    def quietly(self, work: Work) -> None:
        """Run ``work`` on the pool when nobody waits for an answer (e.g. an event)."""

        def run() -> None:
            try:
                work()
            except Exception:  # nobody to tell: the log has it
                log.exception("work after an acknowledgement failed")

        self._executor.submit(run)

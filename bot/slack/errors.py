"""The one error handler: typed errors become short messages; the unexpected get a reference."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import App, BoltResponse, Respond

from bot.errors import SisMaintError
from storage.replay import Replayed

log = logging.getLogger(__name__)

# What a copy of a request that has acted already is told (see storage.replay).
ALREADY_DONE = (
    ":information_source: sis-maint had this exact request already and carried it out then; "
    "this copy changed nothing."
)


def explain(error: BaseException) -> str:
    """The message a person sees for ``error``."""
    if isinstance(error, Replayed):
        log.info("answered a copy of a request without acting: %s", error)
        return ALREADY_DONE
    if isinstance(error, SisMaintError):
        return f":no_entry_sign: {error}"
    ref = uuid.uuid4().hex[:8]
    log.error("unexpected error, reference %s", ref, exc_info=error)
    return (
        f":boom: Something unexpected went wrong (reference `{ref}`). "
        "Whoever runs sis-maint can find the details in its log under that reference."
    )


def tell(respond: Respond, error: BaseException) -> None:
    """Send the explanation of ``error`` to the person who acted, visible only to them."""
    try:
        respond(text=explain(error), response_type="ephemeral", replace_original=False)
    except Exception:  # already logged; never fail twice
        log.warning("could not tell the user about an error", exc_info=True)


@contextmanager
def answering_errors(respond: Respond) -> Iterator[None]:
    """For work after the acknowledgement: explain any error to the user instead of raising.

    Bolt loses an acknowledgement that was already given when the listener raises
    afterwards, so listeners never let an error escape once they have acked.
    """
    try:
        yield
    except Exception as exc:  # every error is explained; the unknown are logged
        tell(respond, exc)


def register(app: App) -> None:
    """Install the handler."""

    @app.error
    def on_error(
        error: Exception,
        body: dict[str, Any],
        response: BoltResponse | None,
        respond: Respond | None,
    ) -> BoltResponse | None:
        if response is not None and body.get("command"):
            # Not acknowledged yet: the acknowledgement itself carries the message.
            payload = {"response_type": "ephemeral", "text": explain(error)}
            return BoltResponse(
                status=200,
                body=json.dumps(payload),
                headers={"content-type": "application/json; charset=utf-8"},
            )
        if respond is not None and (body.get("response_url") or body.get("actions")):
            tell(respond, error)
        if response is not None:
            return BoltResponse(status=200, body="")
        return None

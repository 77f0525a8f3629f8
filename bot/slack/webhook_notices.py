"""What the approvals channel is told about a webhook endpoint that stopped taking events, or
took them again (once each per episode; bot.jobs.webhooks)."""

from __future__ import annotations


def endpoint_down(name: str, failing: int, error: str | None) -> str:
    """The endpoint has failed ``failing`` attempts in a row."""
    why = f" (last: {error})" if error else ""
    return (
        f":warning: Webhook endpoint `{name}` has failed {failing} deliveries in a row{why}. "
        "Events for it are kept and retried with backoff; this is said once, and again when "
        "it takes them."
    )


def endpoint_back(name: str) -> str:
    """The endpoint took an event again after being down."""
    return (
        f":white_check_mark: Webhook endpoint `{name}` takes events again; "
        "those it missed are being delivered."
    )

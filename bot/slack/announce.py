"""Announcements shared by listeners: a window ended or was extended."""

from __future__ import annotations

from bot.services.views import WindowView
from bot.slack import messages
from bot.slack.context import SlackDeps
from bot.slack.text import user


def announce_extension(deps: SlackDeps, view: WindowView, actor: str, by: str) -> None:
    """Tell the thread the new end, refresh the card."""
    stamp = int(view.ends_at.timestamp()) if view.ends_at else 0
    deps.notifier.in_thread(view, f"extended:{view.id}:{stamp}", messages.extended(view, actor, by))
    deps.notifier.refresh_card(view)


def announce_end(deps: SlackDeps, view: WindowView, actor: str) -> None:
    """Tell the thread who ended the window, refresh the card, let the reconciler restore.

    The notifier never raises, so the kick always happens, and after the notice: the thread
    then reads in order.
    """
    deps.notifier.in_thread(
        view,
        f"ended:{view.id}",
        f":checkered_flag: {view.number} ended by {user(actor)}. Restoring the schedules "
        "recorded before the window…",
    )
    deps.notifier.refresh_card(view)
    deps.worker.kick(view.environment_names)


def announce_cancel(deps: SlackDeps, view: WindowView, actor: str) -> None:
    """Tell the thread, refresh the card (its buttons go)."""
    deps.notifier.in_thread(
        view,
        f"cancelled:{view.id}",
        f":heavy_multiplication_x: {view.number} was cancelled by {user(actor)}. "
        "Nothing was switched off.",
    )
    deps.notifier.refresh_card(view)

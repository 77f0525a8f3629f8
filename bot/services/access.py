"""Who may do what to a window. Every refusal says why."""

from __future__ import annotations

from bot.config import Settings
from bot.errors import PermissionDenied
from storage.models import Window


def label(window: Window) -> str:
    """MW-12."""
    return f"MW-{window.id}"


def approvers_of(settings: Settings, window: Window) -> frozenset[str]:
    """People who may approve every environment of the window."""
    sets = [settings.approvers_for(env) for env in window.environment_names]
    return frozenset.intersection(*sets) if sets else frozenset()


def check_approver(settings: Settings, window: Window, user: str, verb: str) -> None:
    """Approvers decide, but never on their own request."""
    approvers = approvers_of(settings, window)
    envs = ", ".join(window.environment_names)
    if not approvers:
        raise PermissionDenied(
            f"No approvers are configured for {envs}: "
            "add Slack user ids to `approvers` in the configuration file."
        )
    if user not in approvers:
        raise PermissionDenied(
            f"You are not an approver for {envs}, so you cannot {verb} {label(window)}. "
            "Approvers: " + ", ".join(f"<@{a}>" for a in sorted(approvers))
        )
    if user == window.requester_id:
        raise PermissionDenied(
            f"You requested {label(window)}, so another approver must {verb} it."
        )


def check_may_manage(settings: Settings, window: Window, user: str, verb: str) -> None:
    """The requester or an approver may end, extend or cancel."""
    if user == window.requester_id or user in approvers_of(settings, window):
        return
    raise PermissionDenied(
        f"Only the requester (<@{window.requester_id}>) or an approver can {verb} {label(window)}."
    )

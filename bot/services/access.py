"""Who may do what to a window. Every refusal says why.

Approvers are configured by Slack user id (U…/W…) or user group id (S…); a group's members
come from a GroupDirectory (the Slack one looks them up and caches them briefly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.config import Settings
from bot.errors import PermissionDenied
from storage.models import Window


class GroupLookupError(Exception):
    """A user group's members could not be read; the message says why."""


class GroupDirectory(Protocol):
    """Members of a user group."""

    def members(self, group_id: str) -> frozenset[str]:
        """User ids in the group; raises GroupLookupError when they cannot be read."""
        ...


class NoGroups:
    """A directory for deployments that list approvers by user id only."""

    def members(self, group_id: str) -> frozenset[str]:
        """Always fails: there is nobody to ask."""
        raise GroupLookupError(f"user group {group_id} cannot be looked up here")


def label(window: Window) -> str:
    """MW-12."""
    return f"MW-{window.id}"


class Access:
    """Permission checks for windows."""

    def __init__(self, settings: Settings, groups: GroupDirectory) -> None:
        self._settings = settings
        self._groups = groups

    def approvers_of(self, window: Window) -> frozenset[str]:
        """People who may approve every environment of the window (groups expanded)."""
        return self.resolve(window.environment_names)[0]

    def approvers_for(self, environments: Sequence[str]) -> frozenset[str]:
        """People who may approve on every one of ``environments`` (groups expanded)."""
        return self.resolve(environments)[0]

    def check_approver_for(
        self, environments: Sequence[str], user: str, what: str, *, requester: str | None = None
    ) -> None:
        """Refuse ``what`` (``override a blackout period``) unless ``user`` approves on every one
        of ``environments``; with ``requester``, never their own."""
        approvers, problems = self.resolve(environments)
        envs = ", ".join(environments)
        if user not in approvers:
            known = ", ".join(f"<@{a}>" for a in sorted(approvers)) or "none that could be read"
            why = f" ({'; '.join(problems)})" if problems else ""
            raise PermissionDenied(
                f"Only an approver for {envs} can {what}, and you are not one. "
                f"Approvers: {known}{why}."
            )
        if requester is not None and user == requester:
            raise PermissionDenied(f"You asked for it, so another approver must {what}.")

    def resolve(self, environments: Sequence[str]) -> tuple[frozenset[str], list[str]]:
        """Who approves on every one of ``environments`` (groups expanded), and why anyone
        may be missing (a user group that could not be read)."""
        problems: list[str] = []
        sets = []
        for env in environments:
            users: set[str] = set()
            for entry in self._settings.approvers_for(env):
                if not entry.startswith("S"):
                    users.add(entry)
                    continue
                try:
                    users |= self._groups.members(entry)
                except GroupLookupError as exc:
                    problems.append(str(exc))
            sets.append(frozenset(users))
        return (frozenset.intersection(*sets) if sets else frozenset()), problems

    def check_approver(self, window: Window, user: str, verb: str) -> None:
        """Approvers decide, but never on their own request."""
        approvers, problems = self.resolve(window.environment_names)
        envs = ", ".join(window.environment_names)
        if not approvers and not problems:
            raise PermissionDenied(
                f"No approvers are configured for {envs}: "
                "add Slack user or user group ids to `approvers` in the configuration file."
            )
        if user not in approvers:
            known = ", ".join(f"<@{a}>" for a in sorted(approvers)) or "none that could be read"
            why = f" ({'; '.join(problems)})" if problems else ""
            raise PermissionDenied(
                f"You are not an approver for {envs}, so you cannot {verb} {label(window)}. "
                f"Approvers: {known}{why}."
            )
        if user == window.requester_id:
            raise PermissionDenied(
                f"You requested {label(window)}, so another approver must {verb} it."
            )

    def check_may_manage(self, window: Window, user: str, verb: str) -> None:
        """The requester or an approver may end, extend or cancel."""
        if user == window.requester_id or user in self.approvers_of(window):
            return
        raise PermissionDenied(
            f"Only the requester (<@{window.requester_id}>) or an approver can {verb} "
            f"{label(window)}."
        )

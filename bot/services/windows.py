"""Requesting, deciding and ending windows. These change the ledger only; never Coursedog."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from bot.clock import Clock
from bot.config import Settings
from bot.domain.durations import format_duration
from bot.domain.grammar import EndCommand, StartCommand
from bot.domain.states import HOLDING, WindowState, transition
from bot.errors import Conflict, InputError, NotFound, PermissionDenied
from bot.services.views import WindowView
from storage import ledger
from storage.models import Window, WindowEnvironment

S = WindowState


class WindowService:
    """Everything people do to windows, each in one short transaction."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._settings = settings
        self._sessions = sessions
        self._clock = clock

    def request(self, *, requester: str, command: StartCommand) -> WindowView:
        """Record a request to switch environments off as soon as it is approved."""
        for env in command.environments:
            limit = self._settings.max_duration(env)
            if command.duration > limit:
                raise InputError(
                    f"{format_duration(command.duration)} is longer than {env} allows "
                    f"({format_duration(limit)}). Ask for less, or extend later."
                )
        now = self._clock.now()
        with self._sessions.begin() as session:
            window = Window(
                state=S.REQUESTED,
                requester_id=requester,
                reason=command.reason,
                requested_at=now,
                starts_at=None,
                ends_at=None,
                duration_seconds=int(command.duration.total_seconds()),
                time_zone=self._settings.time_zone(command.environments[0]),
            )
            window.environments = [
                WindowEnvironment(environment=env, position=i, status="pending")
                for i, env in enumerate(command.environments)
            ]
            session.add(window)
            session.flush()
            ledger.add_audit(
                session,
                at=now,
                actor=requester,
                action="requested",
                window_id=window.id,
                detail=command.reason,
                data={
                    "environments": list(command.environments),
                    "duration_seconds": window.duration_seconds,
                },
            )
            return WindowView.of(window)

    def attach_card(self, window_id: int, channel: str, ts: str) -> None:
        """Remember where the approval card was posted (its thread carries the story)."""
        with self._sessions.begin() as session:
            window = self._load(session, window_id)
            window.channel_id, window.card_ts = channel, ts

    def get(self, window_id: int) -> WindowView:
        """A snapshot of one window."""
        with self._sessions.begin() as session:
            return WindowView.of(self._load(session, window_id, lock=False))

    def approve(self, *, window_id: int, approver: str) -> WindowView:
        """Approve a requested window; it becomes active at once."""
        with self._decision(window_id, approver, "approve") as window:
            now = self._clock.now()
            window.state = transition(window.state, S.ACTIVE)
            window.starts_at = now
            window.ends_at = now + timedelta(seconds=window.duration_seconds)
            window.decided_by, window.decided_at = approver, now
        return WindowView.of(window)

    def deny(self, *, window_id: int, approver: str) -> WindowView:
        """Deny a requested window; nothing is switched."""
        with self._decision(window_id, approver, "deny") as window:
            window.state = transition(window.state, S.DENIED)
            window.decided_by, window.decided_at = approver, self._clock.now()
            for row in window.environments:
                row.status = "released"
        return WindowView.of(window)

    def cancel_undelivered(self, window_id: int, reason: str) -> None:
        """Withdraw a request whose approval card could not be posted (nobody could approve it)."""
        with self._unit("cancel") as session:
            window = self._load(session, window_id)
            window.state = transition(window.state, S.CANCELLED)
            for row in window.environments:
                row.status = "released"
            ledger.add_audit(
                session,
                at=self._clock.now(),
                actor="system",
                action="cancelled",
                window_id=window.id,
                detail=reason,
            )

    def end(self, *, actor: str, command: EndCommand) -> WindowView:
        """End a holding window now; the reconciler then restores what was on before."""
        with self._unit("end") as session:
            window = self._resolve_end_target(session, command)
            self._check_may_manage(window, actor, "end")
            if window.state not in HOLDING:
                raise Conflict(
                    f"{window_label(window)} is {window.state}, so there is nothing to end."
                )
            now = self._clock.now()
            window.state = transition(window.state, S.ENDED)
            window.ended_by, window.ended_at = actor, now
            for row in window.environments:
                row.status = "ending"
            ledger.add_audit(session, at=now, actor=actor, action="ended", window_id=window.id)
            session.flush()
            return WindowView.of(window)

    # -- helpers -------------------------------------------------------------------------

    @contextmanager
    def _unit(self, verb: str) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except StaleDataError:
            raise Conflict(
                f"Someone else changed that window at the same moment; {verb} again "
                "if it is still needed."
            ) from None

    @contextmanager
    def _decision(self, window_id: int, approver: str, verb: str) -> Iterator[Window]:
        with self._unit(verb) as session:
            window = self._load(session, window_id)
            if window.state != S.REQUESTED:
                who = f" by <@{window.decided_by}>" if window.decided_by else ""
                raise Conflict(f"{window_label(window)} was already {window.state}{who}.")
            self._check_approver(window, approver, verb)
            yield window
            ledger.add_audit(
                session,
                at=self._clock.now(),
                actor=approver,
                action="approved" if verb == "approve" else "denied",
                window_id=window.id,
            )
            session.flush()

    def _load(self, session: Session, window_id: int, *, lock: bool = True) -> Window:
        window = ledger.get_window(session, window_id, lock=lock)
        if window is None:
            raise NotFound(f"There is no window MW-{window_id}.")
        return window

    def _approvers(self, window: Window) -> frozenset[str]:
        sets = [self._settings.approvers_for(env) for env in window.environment_names]
        return frozenset.intersection(*sets) if sets else frozenset()

    def _check_approver(self, window: Window, user: str, verb: str) -> None:
        approvers = self._approvers(window)
        if not approvers:
            raise PermissionDenied(
                f"No approvers are configured for {', '.join(window.environment_names)}: "
                "add Slack user ids to `approvers` in the configuration file."
            )
        if user not in approvers:
            raise PermissionDenied(
                f"You are not an approver for {', '.join(window.environment_names)}, so you "
                f"cannot {verb} {window_label(window)}. Approvers: "
                + ", ".join(f"<@{a}>" for a in sorted(approvers))
            )
        if user == window.requester_id:
            raise PermissionDenied(
                f"You requested {window_label(window)}, so another approver must {verb} it."
            )

    def _check_may_manage(self, window: Window, user: str, verb: str) -> None:
        if user == window.requester_id or user in self._approvers(window):
            return
        raise PermissionDenied(
            f"Only the requester (<@{window.requester_id}>) or an approver can {verb} "
            f"{window_label(window)}."
        )

    def _resolve_end_target(self, session: Session, command: EndCommand) -> Window:
        if command.window_id is not None:
            return self._load(session, command.window_id)
        env = command.environment or ""
        holding = ledger.windows_on(session, env, HOLDING)
        if not holding:
            raise Conflict(f"No window holds {env} off right now.")
        if len(holding) > 1:
            ids = " and ".join(window_label(w) for w in holding)
            raise InputError(
                f"{env} is held by {ids}; say which one, e.g. `end {window_label(holding[-1])}`."
            )
        window = self._load(session, holding[0].id)
        others = [e for e in window.environment_names if e != env]
        if others:
            raise InputError(
                f"{window_label(window)} also covers {', '.join(others)}; "
                f"`end {window_label(window)}` ends it on all of them."
            )
        return window


def window_label(window: Window | WindowView) -> str:
    """MW-12."""
    return f"MW-{window.id}"

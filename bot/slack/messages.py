"""Thread messages and direct messages: reports, reminders, overdue notices. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain.states import WindowState
from bot.services.reports import Report, ReportKind
from bot.services.views import WindowView
from bot.slack import ids
from bot.slack.button_values import WindowEnvironmentButton
from bot.slack.kit import Block, section
from bot.slack.text import escape, slack_time, user
from bot.slack.window_buttons import window_button
from coursedog.models import MergeRun, Schedule

S = WindowState
LATE = ":turtle: _Late: the bot was not running when this was due._\n"


_REPORTS: dict[ReportKind, str] = {
    ReportKind.SWITCHED_OFF: (
        ":no_entry: {env}: merges switched off and verified by reading back. "
        "Was {before}; now {after}."
    ),
    ReportKind.VERIFIED_OFF: (
        ":no_entry: {env}: merges are off, verified by reading back ({after})."
    ),
    ReportKind.ALREADY_OFF: (
        ":information_source: {env}: no merge schedule was on ({before}); nothing to switch off."
    ),
    ReportKind.SWITCHED_OFF_EARLY: (
        ":raised_hand: {env} was switched off by hand before {number} began: the bot last saw "
        "{after} (at {detail}) and found {before}. At the end it will switch back on {back_on}."
    ),
    ReportKind.BASELINE_QUESTION: (
        ":grey_question: {env}: merges were found {before} when {number} began, but the bot "
        "last saw {after}, and {detail}, so it cannot tell whether they were switched off by hand "
        "for this window. Choose what happens at the end; until someone does, the bot restores "
        "nothing on {env_name}."
    ),
    ReportKind.BASELINE_UNANSWERED: (
        ":grey_question: {env}: {number} has ended, but nobody has chosen whether to switch "
        "back on {back_on} (last seen {after}) or to leave merges as they were found ({before}), "
        "so the bot has restored nothing. Choose:"
    ),
    ReportKind.OFF_FAILED: (
        ":warning: {env}: could not switch merges off: {detail}. The bot retries on its own; "
        "check Merge Settings if the outage is about to begin."
    ),
    ReportKind.OFF_LOCKED: (
        ":lock: {env}: Coursedog refused the change because this school's merge settings are "
        "locked (for example by the term-phases process), so only Coursedog can switch them. "
        "The notice to Coursedog support below asks them to switch the nightly and real-time "
        "merges off for this window. The bot keeps reading and reports here as soon as they are."
    ),
    ReportKind.OFF_UNRECOGNISED: (
        ":question: {env}: Coursedog's merge schedule reads `{text}`: {detail}. The bot wrote "
        "nothing and will not guess whether merges run. A person must check Merge Settings "
        "and switch the merges off by hand for this window. If Coursedog now uses this value, "
        "an admin can map it in the configuration (`[coursedog_api]`). The bot keeps reading "
        "and reports here once it can tell."
    ),
    ReportKind.WRITE_REFUSED: (
        ":raised_hand: {env}: Coursedog refused the bot's write ({detail}). The API user may be "
        "read-only, or the merge settings may be locked; Coursedog's answer does not say which. "
        "For {number} the bot writes nothing more to {env_name}: the checklist below takes a "
        "person through Merge Settings, and the bot verifies each step by reading. If the "
        "settings turn out to be locked, press *Locked: ask Coursedog* on the checklist."
    ),
    ReportKind.RESTORE_UNRECOGNISED: (
        ":question: {env}: could not restore the schedule: Coursedog's merge schedule reads "
        "`{text}`: {detail}. The bot wrote nothing. A person must check Merge Settings and set "
        "it back to {after}; the bot keeps reading and reports here once it can tell."
    ),
    ReportKind.RESTORE_LOCKED: (
        ":lock: {env}: Coursedog refused to restore the schedule because this school's merge "
        "settings are locked, so only Coursedog can switch them. The notice to Coursedog "
        "support below asks them to set them back to {after}. The bot keeps reading and "
        "reports here once they are."
    ),
    ReportKind.SAVE_STATE_CHANGED: (
        ":twisted_rightwards_arrows: {env}: the enabled saved state changed during the window "
        "({detail}), so the bot has not restored anything: the recorded switches ({after}) "
        "belonged to the old one. Choose below; merges stay off until someone does."
    ),
    ReportKind.LEFT_AS_IS: (
        ":white_check_mark: {env}: left as it is, as chosen after the saved state changed: {after}."
    ),
    ReportKind.RESTORED: (
        ":white_check_mark: {env}: schedule restored and verified: {after} "
        "(during the window: {before}). Edits made in Coursedog during the window reach the "
        "SIS with the next merge; the bot reports it here."
    ),
    ReportKind.CONFIRMED_OFF: (
        ":ballot_box_with_check: {env}: merges are off ({after}) as confirmed in the checklist; "
        "without read access the bot cannot verify it. Found before: {before}."
    ),
    ReportKind.CONFIRMED_RESTORED: (
        ":ballot_box_with_check: {env}: schedule set back to {after} as confirmed in the "
        "checklist; without read access the bot cannot verify it. Edits made in Coursedog "
        "during the window reach the SIS with the next merge; check merge history for it."
    ),
    ReportKind.NOTHING_TO_RESTORE: (
        ":information_source: {env}: nothing had been switched off, so nothing to restore."
    ),
    ReportKind.RESTORE_FAILED: (
        ":warning: {env}: could not restore the schedule: {detail}. The bot retries on its "
        "own; until then merges stay off. If this lasts, a person must set it back to {after} "
        "in Merge Settings."
    ),
    ReportKind.HANDED_OVER: ":lock: {env}: stays off, because {detail} still holds it.",
    ReportKind.ASSISTED: (
        ":raised_hand: {env} is switched by hand, with the checklist in the thread of the "
        "window that holds it first: in Coursedog's Merge Settings it must become {after}. "
        "This thread hears when it is."
    ),
    ReportKind.DRIFT_CORRECTED: (
        ":rotating_light: {env}: merges were switched back on during the window ({before}), "
        "most likely by hand. Switched off again and verified: {after}."
    ),
    ReportKind.LATE_WRITE_UNDONE: (
        ":rotating_light: {env}: a change the bot sent at {detail}, whose answer was lost at "
        "the time, reached Coursedog late and set the schedule to {before} after it had been "
        "restored. Restored again and verified: {after}."
    ),
    ReportKind.LATE_WRITE_NOT_UNDONE: (
        ":warning: {env}: a change the bot sent earlier, whose answer was lost at the time, "
        "reached Coursedog late and set the schedule to {before} after it had been restored "
        "({detail}). The bot retries on its own; if this lasts, a person must set it back to "
        "{after} in Merge Settings."
    ),
    ReportKind.COMMENT_FAILED: (
        ":memo: {env}: could not add the comment to Merge Settings > Activity ({detail}). "
        "Please add it by hand:\n>{text}"
    ),
    ReportKind.COMMENT_BY_HAND: (
        ":memo: {env}: please add this comment to Merge Settings > Activity (press Enter to "
        "post it):\n>{text}"
    ),
    ReportKind.UNEXPLAINED_OFF: (
        ":mag: {env}: {what} ({after}) and no maintenance window explains it. Nothing was "
        "changed; if this is unintended, switch {them} back on in Merge Settings, since edits "
        "made in Coursedog are not reaching the SIS {how}."
    ),
}
# Merges found off shortly before an approved window starts: most likely switched off early.
_OFF_BEFORE_WINDOW = (
    ":mag: {env}: {what} ({after}), and no maintenance window holds it yet; {detail} is "
    "approved to start on it soon. If merges were switched off early for {detail}, nothing "
    "more is needed now: the bot last saw {before} and will switch back on {back_on} when "
    "{detail} ends (or ask, if it cannot tell). Otherwise, switch them back on in Merge "
    "Settings."
)


# A restore that read the schedule already as recorded (set back by hand, or written by a run
# that stopped before it could say so): there is no "during the window" to show.
_FOUND_RESTORED = (
    ":white_check_mark: {env}: schedule restored and verified: {after}, as it was found when "
    "read, so nothing had to be written now. Edits made in Coursedog during the window reach "
    "the SIS with the next merge; the bot reports it here."
)


def render_report(report: Report, labels: Mapping[str, str]) -> str:
    """One thread message for one outcome on one environment."""
    label = escape(labels.get(report.environment, report.environment))
    text = _template(report).format(
        env=f"`{report.environment}` ({label})",
        env_name=f"`{report.environment}`",
        number=f"MW-{report.window_id}",
        before=report.before.describe() if report.before else "unknown",
        after=report.after.describe() if report.after else "unknown",
        back_on=(
            switched_back_on(report.after, report.before)  # found off now; seen on before
            if report.kind is ReportKind.UNEXPLAINED_OFF
            else switched_back_on(report.before, report.after)
        ),
        detail=escape(report.detail),
        text=escape(report.text),
        **_off_words(report.after),
    )
    if report.window_state == S.FAILED:
        text += "\nThe window is marked *needs a person*."
    elif report.window_state == S.ACTIVE:
        text += "\nThe window is back in effect."
    return text


def _template(report: Report) -> str:
    if report.kind is ReportKind.RESTORED and report.before == report.after:
        return _FOUND_RESTORED
    if report.kind is ReportKind.UNEXPLAINED_OFF and report.detail and report.before:
        return _OFF_BEFORE_WINDOW
    return _REPORTS[report.kind]


def _off_words(after: Schedule | None) -> dict[str, str]:
    """How to say which merges are off: both, or the nightly one alone."""
    if after is not None and after.realtime and not after.nightly:
        return {
            "what": "the nightly merge is off",
            "them": "it",
            "how": "reliably: what real-time merges miss is never sent again",
        }
    return {"what": "merges are off", "them": "them", "how": "meanwhile"}


def end_choices(view: WindowView) -> Block:
    """Extend 30m / Extend 1h / Re-enable now; Extend carries the end it extends, and
    Re-enable asks for confirmation first."""
    shown = view.ends_at
    return {
        "type": "actions",
        "block_id": ids.BLOCK_END_CHOICES,
        "elements": [
            window_button(ids.EXTEND_30, "Extend 30m", view, shown_end=shown),
            window_button(ids.EXTEND_60, "Extend 1h", view, shown_end=shown),
            window_button(ids.REENABLE, "Re-enable now", view, "primary"),
        ],
    }


def with_choices(view: WindowView, text: str) -> list[Block]:
    """A message and the end-choice buttons under it."""
    return [section(text), end_choices(view)]


def _envs(view: WindowView) -> str:
    return ", ".join(f"`{e}`" for e in view.environment_names)


def remind_start(view: WindowView, lead: str, late: bool) -> str:
    """Before the start, in the thread and to the requester."""
    assert view.starts_at is not None
    return (LATE if late else "") + (
        f":alarm_clock: {view.number} starts in about {lead}, at "
        f"{slack_time(view.starts_at, view.time_zone)}: merges on {_envs(view)} will be "
        "switched off then. Edits made in Coursedog during the window reach the SIS only "
        "after merges are back on."
    )


def early_checklists(view: WindowView, by_hand: Sequence[str], text: str) -> list[Block]:
    """The reminder before the start, with a way to switch the environments that people
    switch by hand off early, through the window's own checklist."""
    if not by_hand:
        return [section(text)]
    names = ", ".join(f"`{env}`" for env in by_hand)
    note = (
        f"{names} {'is' if len(by_hand) == 1 else 'are'} switched by hand. To switch off "
        f"before the start, open the checklist now: the bot records it as {view.number}'s own "
        "switch, so what is switched back on at the end stays right."
    )
    return [
        section(text),
        section(note),
        {
            "type": "actions",
            "block_id": f"early_{view.id}",
            "elements": [
                {
                    "type": "button",
                    "action_id": ids.CHECK_EARLY,
                    "text": {
                        "type": "plain_text",
                        "text": f"Open the checklist for {env} now"[:75],
                    },
                    "value": WindowEnvironmentButton(view.id, env).encode(),
                }
                for env in by_hand
            ],
        },
    ]


def started(view: WindowView, late: bool) -> str:
    """The start time came."""
    assert view.ends_at is not None
    return (LATE if late else "") + (
        f":arrow_forward: {view.number} has started; switching merges off on {_envs(view)} "
        f"until {slack_time(view.ends_at, view.time_zone)}…"
    )


def missed(view: WindowView) -> str:
    """An approved window whose whole time passed while the bot was down."""
    return (
        f":warning: {view.number}'s whole time passed while the bot was not running, so "
        "nothing was switched off. Check whether the SIS maintenance happened; request a "
        "new window if it was postponed."
    )


def expired(view: WindowView) -> str:
    """Nobody decided in time."""
    return (
        f":zzz: {view.number} expired: nobody approved or denied it before its start. "
        "Nothing was switched off; request it again if it is still needed."
    )


def remind_end(view: WindowView, late: bool) -> str:
    """Shortly before the end."""
    assert view.ends_at is not None
    return (LATE if late else "") + (
        f":hourglass: {view.number} ends at {slack_time(view.ends_at, view.time_zone)}. "
        f"Is the SIS maintenance on {_envs(view)} done? Extend, or switch merges back on now."
    )


def auto_ended(view: WindowView, late: bool) -> str:
    """The end time came and policy re-enables by itself."""
    return (LATE if late else "") + (
        f":checkered_flag: {view.number} reached its end. Restoring the schedules recorded "
        "before the window…"
    )


def overdue(view: WindowView, number: int, approvers: Sequence[str], late: bool) -> str:
    """The end has passed and merges are still held off: ask someone to act."""
    assert view.ends_at is not None
    text = (LATE if late else "") + (
        f":rotating_light: Time to re-enable: {view.number} was due to end at "
        f"{slack_time(view.ends_at, view.time_zone)}, and merges on {_envs(view)} are still "
        f"off (reminder {number}). {user(view.requester_id)}, extend it or re-enable now."
    )
    if approvers:
        text += "\nEscalated to " + ", ".join(user(a) for a in approvers) + "."
    return text


def escalation(view: WindowView) -> str:
    """Direct message to each approver when nobody has acted."""
    assert view.ends_at is not None
    return (
        f":rotating_light: {view.number} (merges off on {_envs(view)}) is overdue since "
        f"{slack_time(view.ends_at, view.time_zone)} and nobody has re-enabled or extended it. "
        "Please look at its thread in the approvals channel."
    )


def extended(view: WindowView, actor: str, by: str) -> str:
    """Someone moved the end."""
    assert view.ends_at is not None
    return (
        f":heavy_plus_sign: {user(actor)} extended {view.number} by {by}; it now ends at "
        f"{slack_time(view.ends_at, view.time_zone)}."
    )


def approval_added(view: WindowView, approver: str) -> str:
    """One approval of several recorded; the window waits for the next."""
    approvals = view.approvals
    return (
        f":ballot_box_with_check: Approved by {user(approver)} ({approvals.count()}). "
        f"{view.number} needs {approvals.still_needed()} from another approver, not "
        f"{user(view.requester_id)} who asked for it; nothing is switched until then."
    )


def approved(view: WindowView, approver: str) -> str:
    """The decision, and what happens next."""
    people = view.approved_by if len(view.approved_by) > 1 else (approver,)
    by = " and ".join(user(a) for a in people)
    if view.state is S.ACTIVE:
        return f":white_check_mark: Approved by {by}. Switching merges off on {_envs(view)}…"
    assert view.starts_at is not None
    return (
        f":white_check_mark: Approved by {by}. Merges on {_envs(view)} go off at "
        f"{slack_time(view.starts_at, view.time_zone)}; a reminder comes before."
    )


def first_merge(view: WindowView, env: str, run: MergeRun, link: str | None) -> str:
    """The first merge after merges came back on: edits made during the window are through."""
    if run.status == "success":
        outcome, advice = "succeeded", ""
    else:
        outcome = f"finished with status `{escape(run.status)}`"
        advice = (
            " Some edits made during the window may not have reached the SIS: check the report."
        )
    where = f" <{link}|Merge report>." if link else ""
    return (
        f":arrows_counterclockwise: `{env}`: the first {run.schedule_type} merge since "
        f"{view.number} {outcome}.{where}{advice}"
    )


def no_merge_yet(view: WindowView, env: str, restored_at: datetime) -> str:
    """No merge has run since restoring: the window's edits are still waiting."""
    return (
        f":hourglass_flowing_sand: `{env}`: no nightly or manual merge has run since merges came "
        f"back on at {slack_time(restored_at, view.time_zone)} after {view.number}, so edits "
        "made in Coursedog during the window have not reached the SIS yet. Consider running a "
        "manual merge in Coursedog (Sections, then Courses, then Relationships)."
    )


def switched_back_on(before: Schedule | None, after: Schedule | None) -> str:
    """The switches on in ``after`` that are off in ``before``: "nightly and real-time"."""
    if before is None or after is None:
        return "what was on"
    names = [
        name
        for name, was, will in (
            ("nightly", before.nightly, after.nightly),
            ("real-time", before.realtime, after.realtime),
        )
        if will and not was
    ]
    return " and ".join(names) or "nothing"


def baseline_choices(environment: str, back_on: str) -> Block:
    """Switch back on what was last seen at the end, or leave the environment as found."""
    return {
        "type": "actions",
        "block_id": f"baseline_{environment}",
        "elements": [
            {
                "type": "button",
                "action_id": ids.BASELINE_OBSERVED,
                "text": {"type": "plain_text", "text": f"Switch back on {back_on}"[:75]},
                "value": environment,
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": ids.BASELINE_FOUND,
                "text": {"type": "plain_text", "text": "Leave as found"},
                "value": environment,
            },
        ],
    }


def baseline_chosen(environment: str, actor: str, restore: str) -> str:
    """The answer to a choice of what to restore after merges were found switched off early."""
    return (
        f":ballot_box_with_check: `{environment}`: {user(actor)} chose to restore {restore} "
        "when the window ends (at once, if it already has)."
    )


def save_state_choices(environment: str) -> Block:
    """Restore the recorded switches anyway, or leave the environment as it is."""
    return {
        "type": "actions",
        "block_id": f"save_state_{environment}",
        "elements": [
            {
                "type": "button",
                "action_id": ids.SAVE_STATE_RESTORE,
                "text": {"type": "plain_text", "text": "Restore recorded switches"},
                "value": environment,
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": ids.SAVE_STATE_LEAVE,
                "text": {"type": "plain_text", "text": "Leave as it is"},
                "value": environment,
            },
        ],
    }

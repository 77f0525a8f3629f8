"""The assisted driver's checklist in a window's thread, and the comment's Posted button."""

from __future__ import annotations

from bot.services.assisted import COMMENT, COURSEDOG, SAVE, ChecklistView, StepView
from bot.slack import ids
from bot.slack.button_values import StepButton
from bot.slack.kit import Block, actions, button, context, section
from bot.slack.text import escape, user

_SWITCH_NAMES = {"nightly": "the nightly merge", "realtime": "the real-time merge"}


def step_value(view: ChecklistView, step: str) -> str:
    """What a checklist button carries: window, environment, phase, step."""
    return StepButton(view.window_id, view.environment, view.phase, step).encode()


def comment_value(window_id: int, environment: str, phase: str) -> str:
    """What the Posted button under a comment to paste carries."""
    phase = "off" if phase == "off" else "restore"
    return StepButton(window_id, environment, phase, COMMENT).encode()


def render(
    view: ChecklistView, label: str, link: str, note: str | None = None
) -> tuple[str, list[Block]]:
    """The checklist: a link to Merge Settings, then one line and one button per step."""
    verb = "off" if view.phase == "off" else "back on"
    title = f":raised_hand: *MW-{view.window_id} · {escape(label)}: switch merges {verb} by hand*"
    how = (
        "The bot checks each step by reading Coursedog."
        if view.reads
        else "This environment has no read access, so each Done is recorded as your word."
    )
    text = f"{title}\n<{link}|Open Merge Settings> and work down the list. {how}"
    blocks: list[Block] = [section(text)]
    steps = [step for step in view.steps if step.step != COURSEDOG]
    for number, step in enumerate(steps, start=1):
        blocks.append(section(f"{number}. {_what(view, step)}\n{_status(view, step)}"))
        buttons = _buttons(view, step)
        if buttons:
            blocks.append(actions(f"step_{step.step}", *buttons))
    blocks.extend(_locked_way_out(view))
    if note:
        blocks.append(context(escape(note)))
    return f"MW-{view.window_id} · {label}: switch merges {verb} by hand", blocks


def _locked_way_out(view: ChecklistView) -> list[Block]:
    """If Merge Settings will not let anyone at the school change them (locked by the
    term-phases process), the change goes to Coursedog: the button, or who pressed it."""
    if view.handed_to is not None:
        return [
            context(
                f":envelope_with_arrow: Handed to Coursedog by {user(view.handed_to)}: the "
                "notice to Coursedog support asks them to make this change."
                + (" The bot ticks the steps off once a read shows it." if view.reads else "")
            )
        ]
    if view.switched:
        return []
    value = step_value(view, COURSEDOG)
    return [
        context("Settings locked, so nobody at the school can change them?"),
        actions("step_locked", button(ids.CHECK_LOCKED, "Locked: ask Coursedog", value)),
    ]


def comment_to_paste(text: str, value: str) -> list[Block]:
    """The Activity comment to paste, with the Posted button."""
    return [section(text), actions("comment_posted", button(ids.COMMENT_POSTED, "Posted", value))]


def comment_posted(text: str, who: str) -> list[Block]:
    """The comment message once someone has posted it."""
    return [section(text), context(f":white_check_mark: Posted by {user(who)}.")]


def _what(view: ChecklistView, step: StepView) -> str:
    if step.step == SAVE:
        return "Press *Save* at the top of Merge Settings, then refresh the page and look again."
    if step.step == COMMENT:
        state = "off" if view.phase == "off" else "back on"
        return (
            "Add the comment on the *Activity* tab: its exact text is posted in this thread "
            f"once merges are {state}; press *Posted* under it."
        )
    value = "Yes" if step.target else "No"
    return f"Set {_SWITCH_NAMES[step.step]} to *{value}*."


def _status(view: ChecklistView, step: StepView) -> str:
    who = f" by {user(step.done_by)}" if step.done_by else ""
    if step.checked == "read":
        return f":white_check_mark: done{who}, verified by reading Coursedog"
    if step.done_by and step.checked == "confirmed":
        found = ""
        if step.found is not None:
            found = " (it was on)" if step.found else " (it was already off)"
        return f":ballot_box_with_check: done{who}{found}, on their word"
    if step.done_by:
        return f":hourglass: marked{who}; checked when Save is done"
    if step.step == COMMENT:
        return ":white_medium_square: waiting for the text"
    return ":white_medium_square: to do"


def _buttons(view: ChecklistView, step: StepView) -> list[Block]:
    if step.done_by or step.checked == "read" or step.step == COMMENT:
        return []
    value = step_value(view, step.step)
    if not view.reads and view.phase == "off" and step.step != SAVE:
        return [
            button(ids.CHECK_DONE, "Switched it off", value, "primary"),
            button(ids.CHECK_WAS_OFF, "Was already off", value),
        ]
    return [button(ids.CHECK_DONE, "Done", value, "primary")]

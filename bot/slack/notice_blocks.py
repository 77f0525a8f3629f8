"""How the notice to Coursedog appears in a window's thread: emailed, or a draft to send.

A draft is one short line with *Show the draft* (a modal with the text to copy) and *Sent it*;
a newer version of it is a line saying what changed. The text itself is only in the modal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.states import NoticeStatus
from bot.services import notices
from bot.services.notice_drafts import Confirmed, Shown
from bot.services.notices import NoticeView
from bot.slack import ids
from bot.slack.kit import Block, actions, button, context, section
from bot.slack.text import escape, local_time, user

# A section's text is limited to 3,000 characters: the text is shown in parts under that.
_PART = 2900
# The modal's title: plain text, where emoji codes stay as typed (Slack allows 24 characters).
TITLE = "Notice to Coursedog"


def sent(notice: NoticeView, replaced: NoticeView | None = None) -> tuple[str, list[Block]]:
    """The thread line for a notice the bot emailed."""
    cited = "; the Activity comment cites it" if notice.event == notices.APPROVED else ""
    instead = " It replaces the draft above, which nobody sent." if replaced else ""
    line = (
        f"Told Coursedog support ({escape(notice.recipient or '')}) by email: "
        f"*{escape(notice.subject)}*. Message-ID `{escape(notice.message_id)}`{cited}.{instead}"
    )
    return line, [section(f":envelope: {line}")]


def draft(
    notice: NoticeView, replaced: NoticeView | None = None, changes: tuple[str, ...] = ()
) -> tuple[str, list[Block]]:
    """One line for a draft to send: new, or a newer version of one nobody sent yet."""
    why = f" (it could not be emailed: {escape(notice.error)})" if notice.error else ""
    if replaced is not None:
        said = _said(changes)
        line = f"Draft to Coursedog updated{why}: {said}."
        mark = ":pencil2:"
    elif notice.error:
        line = (
            f"The notice to Coursedog could not be emailed ({escape(notice.error)}); the window "
            f"goes ahead regardless. Please send *{escape(notice.subject)}* yourself, "
            "then press *Sent it*."
        )
        mark = ":warning:"
    else:
        line = (
            "No mail server is configured: please send Coursedog support "
            f"*{escape(notice.subject)}* yourself, then press *Sent it*."
        )
        mark = ":envelope:"
    return line, [section(f"{mark} {line}"), _buttons(notice)]


def confirmed(answer: Confirmed, at: datetime, zone: str) -> tuple[str, list[Block]]:
    """The line of the version pressed, marked as sent by whoever pressed *Sent it*; with
    the newer draft's buttons if a newer version is still to send."""
    notice = answer.notice
    who, when = user(notice.confirmed_by or ""), local_time(at, zone)
    line = f"{who} sent the notice to Coursedog ({when})."
    if answer.newer is None:
        show = button(ids.NOTICE_SHOW, "Show what was sent", str(notice.id))
        blocks = [section(f":white_check_mark: {line}"), actions(f"notice_{notice.id}", show)]
        return line, blocks
    said = _said(answer.changes)
    line += f" The draft changed after that version ({said}): please send the newest one too."
    return line, [section(f":white_check_mark: {line}"), _buttons(answer.newer)]


def modal(shown: Shown) -> dict[str, Any]:
    """The modal of *Show the draft*: where it stands, then the subject and the text to copy,
    each in a code block (Slack shows them as they are, and they copy cleanly)."""
    notice = shown.notice
    blocks = [section(_standing(notice))]
    if shown.replaced:
        blocks.append(
            context("The draft was updated after that message: this is its newest version.")
        )
    blocks.append(section(f"*Subject*\n```{escape(notice.subject)}```"))
    blocks.append(section("*Text*"))
    blocks += [section(f"```{part}```") for part in _parts(escape(notice.body))]
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": ids.NOTICE_VIEW,
        "private_metadata": str(notice.id),
        "title": {"type": "plain_text", "text": TITLE},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }
    if notice.status == NoticeStatus.DRAFT:
        view["submit"] = {"type": "plain_text", "text": "Sent it"}
    return view


def refused(view: dict[str, Any], said: str) -> dict[str, Any]:
    """The modal as submitted, saying why *Sent it* recorded nothing, with no *Sent it* now."""
    kept = {k: view[k] for k in ("type", "callback_id", "private_metadata", "title", "close")}
    blocks = [b for b in view.get("blocks") or [] if b.get("block_id") != _REFUSED]
    return {**kept, "blocks": [{**section(said), "block_id": _REFUSED}, *blocks]}


_REFUSED = "notice_refused"


def _standing(notice: NoticeView) -> str:
    to = f"email {escape(notice.recipient)}" if notice.recipient else "email Coursedog support"
    if notice.status == NoticeStatus.SENT:
        return f"The bot emailed this to {escape(notice.recipient or '')}."
    if notice.status == NoticeStatus.CONFIRMED:
        return f"{user(notice.confirmed_by or '')} recorded sending this version."
    return (
        f"Not sent yet. Please {to} (or open a support ticket) with this subject and text, "
        "then press *Sent it*."
    )


def _parts(text: str) -> list[str]:
    """``text`` cut at line ends into parts that each fit in a section."""
    parts, current = [], ""
    for line in text.splitlines(keepends=True):
        for piece in (line[i : i + _PART] for i in range(0, len(line), _PART)):
            if current and len(current) + len(piece) > _PART:
                parts.append(current)
                current = ""
            current += piece
    parts.append(current)
    return [part.rstrip("\n") or " " for part in parts]


def _said(changes: tuple[str, ...]) -> str:
    """What a version changed, as one clause (no full stop: the sentence ends after it)."""
    return "; ".join(escape(change).rstrip(".") for change in changes) or "reworded"


def _buttons(notice: NoticeView) -> Block:
    return actions(
        f"notice_{notice.id}",
        button(ids.NOTICE_SHOW, "Show the draft", str(notice.id)),
        button(ids.NOTICE_SENT, "Sent it", str(notice.id), "primary"),
    )

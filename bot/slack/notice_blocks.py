"""How the notice to Coursedog appears in a window's thread: emailed, or a draft to send."""

from __future__ import annotations

from datetime import datetime

from bot.services import notices
from bot.services.notices import NoticeView
from bot.slack import ids
from bot.slack.kit import Block, actions, button, context, section
from bot.slack.text import escape, local_time, user

# A section's text is limited to 3,000 characters; the body is cut well before that.
_BODY_LIMIT = 2600


def sent(notice: NoticeView) -> str:
    """The thread line for a notice the bot emailed."""
    cited = "; the Activity comment cites it" if notice.event == notices.APPROVED else ""
    return (
        f":envelope: Told Coursedog support ({escape(notice.recipient or '')}) by email: "
        f"*{escape(notice.subject)}*. Message-ID `{escape(notice.message_id)}`{cited}."
    )


def draft(notice: NoticeView) -> tuple[str, list[Block]]:
    """A notice for a person to send, with the reason it was not emailed and a Sent-it button."""
    to = f"email {escape(notice.recipient)}" if notice.recipient else "email Coursedog support"
    if notice.error:
        why = (
            f":warning: The notice to Coursedog could not be emailed ({escape(notice.error)}). "
            "The window goes ahead regardless."
        )
    else:
        why = ":envelope: No mail server is configured, so the bot cannot email Coursedog."
    ask = (
        f"Please {to} (or open a support ticket) with this text, "
        f"*{escape(notice.subject)}*, then press *Sent it*:"
    )
    text = f"{why} {ask}"
    return text, [
        section(text),
        section(_quoted(notice)),
        actions(
            f"notice_{notice.id}",
            button(ids.NOTICE_SENT, "Sent it", str(notice.id), "primary"),
        ),
    ]


def confirmed(notice: NoticeView, at: datetime, zone: str) -> tuple[str, list[Block]]:
    """The draft again, marked as sent by whoever pressed the button."""
    who = user(notice.confirmed_by or "")
    text = f":white_check_mark: {who} sent the notice to Coursedog ({local_time(at, zone)})."
    return text, [section(text), section(_quoted(notice)), context("Recorded in the ledger.")]


def _quoted(notice: NoticeView) -> str:
    body = notice.body
    if len(body) > _BODY_LIMIT:
        body = body[:_BODY_LIMIT] + "\n[…]"
    return f"*Subject:* {escape(notice.subject)}\n```{escape(body)}```"

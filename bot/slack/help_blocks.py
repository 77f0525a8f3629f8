"""``/sis-maint help``: a short overview naming the environments, or one command's details."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.durations import format_duration
from bot.domain.help_topics import COMMANDS, DURATIONS, TOPICS, Topic, find_topic
from bot.slack.kit import Block, context, section
from bot.slack.text import escape

INTRO = "*sis-maint* switches Coursedog merges off around SIS maintenance."
MORE = (
    "`/sis-maint help <command>` shows a command's details and examples, "
    "e.g. `/sis-maint help schedule`. `/sis-maint` alone opens a form. "
)


def environment_lines(settings: Settings) -> list[str]:
    """One line per environment: its name, other names, label, zone, longest window and, where
    a window needs more than one approver, how many."""
    lines = []
    for name, env in sorted(settings.environments.items()):
        also = f" (also {', '.join(f'`{a}`' for a in env.aliases)})" if env.aliases else ""
        required = settings.policy(name).approvals_required
        approvers = f"; {required} approvers, not the requester" if required > 1 else ""
        lines.append(
            f"• `{name}`{also}: {escape(env.label)}; times in {settings.time_zone(name)}; "
            f"windows up to {format_duration(settings.max_duration(name))}{approvers}"
        )
    return lines


def group_lines(settings: Settings) -> list[str]:
    """One line per group of environments: its name, how many, and which."""
    groups = settings.environment_names().groups
    return [
        f"• `{name}`: {len(members)} environments ({', '.join(members)})"
        for name, members in sorted(groups.items())
    ]


def render_help(settings: Settings) -> list[Block]:
    """The overview: what the bot does, the environments and groups, one line per command."""
    commands = "\n".join(f"`{escape(t.short)}`  {t.summary}" for t in TOPICS if t.command)
    groups = group_lines(settings)
    return [
        section(f"{INTRO}\n*Environments*\n" + "\n".join(environment_lines(settings))),
        *([section("*Groups*\n" + "\n".join(groups))] if groups else []),
        section(f"*Commands*\n{commands}"),
        context(MORE + DURATIONS),
    ]


def render_topic(topic: Topic) -> list[Block]:
    """One command: its forms, what to know, examples to copy."""
    forms = "\n".join(f"`/sis-maint {escape(f)}`" for f in topic.forms)
    examples = "\n".join(f"• `/sis-maint {escape(e)}`" for e in topic.examples)
    return [
        section(f"*{topic.name}*: {topic.summary}\n{forms}"),
        section("\n".join(topic.notes)),
        section(f"*Examples*\n{examples}"),
        context("`/sis-maint help` lists every command."),
    ]


def help_blocks(topic: str | None, settings: Settings) -> tuple[str, list[Block]]:
    """The plain-text fallback and the blocks for ``help`` or ``help <topic>``."""
    found = find_topic(topic) if topic else None
    if found is None:
        return f"sis-maint commands: {', '.join(COMMANDS)}", render_help(settings)
    forms = "; ".join(found.forms)
    return f"sis-maint {found.name}: {found.summary}. {forms}", render_topic(found)

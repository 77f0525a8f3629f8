"""Help: one topic per command, and the closest commands to a word that is not one."""

from datetime import UTC, datetime

import pytest

from bot.domain.commands import parse
from bot.domain.grammar import _PARSERS, HelpCommand, parse_command
from bot.domain.help_topics import (
    COMMANDS,
    HELP_WORDS,
    TOPICS,
    either,
    find_topic,
    suggest,
    unknown_command,
)
from bot.errors import InputError, UnknownCommand

ENVS = {"prod": "prod", "production": "prod", "staging": "staging"}
NOW = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "closest"),
    [
        ("edn", ("end",)),
        ("ned", ("end",)),
        ("stop", ("end",)),
        ("Finish", ("end",)),
        ("sched", ("schedule",)),
        ("shcedule", ("schedule",)),
        ("extnd", ("extend",)),
        ("cancle", ("cancel",)),
        ("withdraw", ("cancel",)),
        ("histroy", ("history",)),
        ("log", ("history",)),
        ("lsit", ("list",)),
        ("blackuot", ("blackout",)),
        ("stat", ("status", "start")),
        ("frobnicate", ()),
        ("x", ()),
    ],
)
def test_suggest_names_the_closest_commands(typed: str, closest: tuple[str, ...]) -> None:
    found = suggest(typed)
    assert found[: len(closest)] == closest
    if not closest:
        assert found == ()
    assert len(found) <= 3 and set(found) <= set(COMMANDS)


def test_a_typo_gets_did_you_mean_not_the_whole_help() -> None:
    with pytest.raises(UnknownCommand) as caught:
        parse_command("edn MW-1", ENVS)
    message = str(caught.value)
    assert message == (
        "`edn` is not a command I know. Did you mean `end`? "
        "`/sis-maint help end` shows how to use it."
    )


def test_several_close_commands_are_all_offered() -> None:
    assert unknown_command("stat") == (
        "`stat` is not a command I know. Did you mean `status` or `start`? "
        "`/sis-maint help` lists every command."
    )


def test_nothing_close_lists_the_command_names_only() -> None:
    message = unknown_command("frobnicate")
    assert message.startswith("`frobnicate` is not a command I know. The commands are `start`, ")
    assert "`history` or `help`." in message
    assert "Banner" not in message and "<" not in message


def test_either_joins_names() -> None:
    assert either(("end",)) == "`end`"
    assert either(("a", "b")) == "`a` or `b`"
    assert either(("a", "b", "c")) == "`a`, `b` or `c`"


def test_every_command_word_has_a_topic_and_every_topic_an_example() -> None:
    for word in (*_PARSERS, "series", "blackout", "blackouts", "--override"):
        assert find_topic(word) is not None, word
    for topic in TOPICS:
        assert topic.forms and topic.notes and topic.examples, topic.name
    assert find_topic("help") == find_topic("?") == find_topic("--HELP")
    assert set(HELP_WORDS) == {"help", *find_topic("help").aliases}  # type: ignore[union-attr]


def test_every_example_is_a_command_the_bot_reads() -> None:
    zone = {"prod": "America/Chicago", "staging": "America/Chicago"}.__getitem__
    for topic in TOPICS:
        for example in topic.examples:
            parse(example, ENVS, now=NOW, zone_of=zone)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("help", None),
        ("HELP", None),
        ("?", None),
        ("help start", "start"),
        ("help Schedule", "schedule"),
        ("? end", "end"),
        ("help blackouts", "blackout"),
        ("help series", "series"),
        ("help override", "override"),
        ("help --override", "override"),
        ("--help extend", "extend"),
        ("help start prod 2h", "start"),
    ],
)
def test_help_takes_a_command(text: str, topic: str | None) -> None:
    assert parse(text, ENVS, now=NOW, zone_of=lambda _e: "UTC") == HelpCommand(topic)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("help stop", "There is no help on `stop`. Did you mean `end`?"),
        ("help MW-1", "There is no help on `MW-1`. The commands are `start`"),
    ],
)
def test_help_on_something_unknown_says_so(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("?", r"\?")) as caught:
        parse_command(text, ENVS)
    assert not isinstance(caught.value, UnknownCommand)

"""The state machines' tables against what the stories of the scenario tests make: each story
makes exactly the moves written here, all of them on the tables."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.domain.states import NOTICES, ROWS, WINDOWS, Machine
from tests.bot import test_scenarios as scenarios
from tests.harness import Bot, running_bot

Moves = set[tuple[str, str, str]]
Story = Callable[[Bot], None]


@pytest.fixture
def moves(monkeypatch: pytest.MonkeyPatch) -> Iterator[Moves]:
    """Every move asked of a state machine while the test runs, as (machine, from, to)."""
    made: Moves = set()
    check = Machine.check

    def recorded(machine: Machine, current: Any, target: Any) -> Any:  # type: ignore[type-arg]
        made.add((machine.what, str(current), str(target)))
        return check(machine, current, target)

    monkeypatch.setattr(Machine, "check", recorded)
    yield made


def _window(*pairs: str) -> Moves:
    return {(WINDOWS.what, *p.split(" -> ")) for p in pairs}  # type: ignore[misc]


def _row(*pairs: str) -> Moves:
    return {(ROWS.what, *p.split(" -> ")) for p in pairs}  # type: ignore[misc]


STORIES: dict[str, tuple[Story, Moves]] = {
    "approve, switch off, end, restore": (
        scenarios.test_request_approve_and_switch_off_then_end_restores_baseline,
        _window("requested -> active", "active -> ended")
        | _row("pending -> off", "off -> ending", "ending -> restored"),
    ),
    "deny": (
        scenarios.test_deny_updates_card_and_tells_the_requester,
        _window("requested -> denied") | _row("pending -> released"),
    ),
    "Coursedog fails, then a later pass verifies": (
        scenarios.test_failed_window_recovers_on_the_next_pass,
        _window("requested -> active", "active -> failed", "failed -> active")
        | _row("pending -> failed", "failed -> off"),
    ),
    "overlapping windows": (
        scenarios.test_overlapping_windows_keep_merges_off_until_the_last_one_ends,
        _window("requested -> active", "active -> ended")
        | _row("pending -> off", "off -> ending", "ending -> handed_over", "ending -> restored"),
    ),
}


@pytest.mark.parametrize("name", list(STORIES))
def test_each_story_makes_exactly_its_moves_and_all_are_on_the_tables(
    name: str, database_url: str, moves: Moves
) -> None:
    story, expected = STORIES[name]
    with running_bot(database_url) as bot:
        story(bot)
    machines = {m.what: m for m in (WINDOWS, ROWS, NOTICES)}
    assert moves == expected
    for what, current, target in moves:
        machine = machines[what]
        assert machine.can(current, target), f"{what}: {current} -> {target}"

from dataclasses import dataclass
from typing import Any

import pytest

from bot.domain import states
from bot.domain.states import (
    FINAL,
    HOLDING,
    NOTICES,
    ROWS,
    WINDOWS,
    Machine,
    NoticeStatus,
    RowStatus,
    WindowState,
    can_transition,
    move_notice,
    move_row,
    move_window,
    transition,
)
from bot.errors import IllegalTransition

pytestmark = pytest.mark.illegal_moves  # refusals are what these tests ask for
S = WindowState
LEGAL = {
    (S.REQUESTED, S.APPROVED),
    (S.REQUESTED, S.ACTIVE),
    (S.REQUESTED, S.DENIED),
    (S.REQUESTED, S.CANCELLED),
    (S.REQUESTED, S.EXPIRED),
    (S.APPROVED, S.ACTIVE),
    (S.APPROVED, S.CANCELLED),
    (S.APPROVED, S.EXPIRED),
    (S.ACTIVE, S.ENDED),
    (S.ACTIVE, S.FAILED),
    (S.FAILED, S.ACTIVE),
    (S.FAILED, S.ENDED),
}


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_exactly_the_drawn_edges_are_legal(current: WindowState, target: WindowState) -> None:
    if (current, target) in LEGAL:
        assert transition(current, target) is target
        assert can_transition(current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"{current} cannot become {target}"):
            transition(current, target)


def test_holding_and_final_states() -> None:
    assert {S.ACTIVE, S.FAILED} == HOLDING
    assert {S.ENDED, S.DENIED, S.CANCELLED, S.EXPIRED} == FINAL


def walk(machine: Machine[Any]) -> list[tuple[Any, Any]]:
    """Every (from, to) pair of the machine's states."""
    return [(a, b) for a in machine.states for b in machine.states]


@pytest.mark.parametrize("machine", [WINDOWS, ROWS, NOTICES], ids=lambda m: m.what)
def test_every_state_has_a_row_in_its_table_and_moves_only_along_it(machine: Machine[Any]) -> None:
    assert set(machine.transitions) == set(machine.states)
    for current, target in walk(machine):
        if (current, target) in machine.edges():
            assert machine.check(current, target) is target and machine.can(current, target)
        else:
            with pytest.raises(
                IllegalTransition, match=f"that is {current} cannot become {target}"
            ):
                machine.check(current, target)


@pytest.mark.parametrize("machine", [WINDOWS, ROWS, NOTICES], ids=lambda m: m.what)
def test_every_state_is_reached_from_the_first_and_every_walk_can_end(
    machine: Machine[Any],
) -> None:
    first = next(iter(machine.states))
    reached, frontier = {first}, [first]
    while frontier:
        for target in machine.transitions[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(machine.states)
    final = {s for s, targets in machine.transitions.items() if not targets}
    for state in machine.states:
        assert state in final or machine.transitions[state] - {state}


def test_the_row_table_is_the_one_drawn_in_the_docstring() -> None:
    drawn = set()
    for line in (states.__doc__ or "").split("One environment")[1].split("```")[1].splitlines():
        if "-->" in line and "[*]" not in line:
            a, b = line.split(":")[0].split("-->")
            drawn.add((RowStatus(a.strip()), RowStatus(b.strip())))
    assert drawn == ROWS.edges()


@dataclass
class Row:
    status: RowStatus = RowStatus.PENDING


@dataclass
class Notice:
    status: NoticeStatus = NoticeStatus.PENDING


@dataclass
class Window:
    state: WindowState = WindowState.REQUESTED


def test_a_move_changes_the_row_and_an_illegal_one_leaves_it_as_it_was() -> None:
    row, notice, window = Row(), Notice(), Window()
    move_row(row, RowStatus.OFF)
    move_notice(notice, NoticeStatus.DRAFT)
    move_window(window, WindowState.APPROVED)
    assert (row.status, notice.status, window.state) == ("off", "draft", "approved")
    with pytest.raises(IllegalTransition, match="an environment's row that is off cannot become"):
        move_row(row, RowStatus.PENDING)
    with pytest.raises(IllegalTransition, match="a notice that is draft cannot become sent"):
        move_notice(notice, NoticeStatus.SENT)
    with pytest.raises(IllegalTransition, match="a window that is approved cannot become denied"):
        move_window(window, WindowState.DENIED)
    assert (row.status, notice.status, window.state) == ("off", "draft", "approved")

import pytest

from bot.domain.states import FINAL, HOLDING, WindowState, can_transition, transition
from bot.errors import IllegalTransition

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

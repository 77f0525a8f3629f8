"""The switches the page shows come from the simulator, or say why they cannot."""

from __future__ import annotations

from bot.config import parse_settings
from bot.sandbox.switches import SwitchBoard
from coursedog.simulator import SchoolState, Simulator
from tests.bot.sandbox.launch import free_port
from tests.harness import settings_document


def test_each_environment_reads_its_own_school() -> None:
    schools = {
        "state_u_prod": SchoolState(nightly=False, realtime=True, locked=True),
        "state_u_staging": SchoolState(nightly=True, realtime=False),
    }
    with Simulator(schools=schools) as sim:
        board = SwitchBoard(parse_settings(settings_document(sim.base_url)))
        rows = {row["environment"]: row for row in board.read()}
        board.close()
    assert (rows["prod"]["nightly"], rows["prod"]["realtime"], rows["prod"]["locked"]) == (
        False,
        True,
        True,
    )
    assert (rows["staging"]["nightly"], rows["staging"]["realtime"]) == (True, False)
    assert rows["sandbox"]["problem"] == "the simulator holds no school state_u_sandbox"


def test_a_simulator_that_does_not_answer_is_said_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    board = SwitchBoard(parse_settings(settings_document(url)))
    rows = board.read()
    board.close()
    assert {row["problem"] for row in rows} == {
        f"the simulator at {url} is not answering (ConnectError)"
    }

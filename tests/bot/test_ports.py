"""A busy default port gives way to a free one; a busy port someone set stops the start."""

from __future__ import annotations

import socket

import pytest

from bot.config import load_settings
from bot.process_env import ProcessEnv
from bot.run.ports import Port, place, place_simulator
from bot.run.startup import StartupError
from tests.bot.sandbox.launch import busy_port


def _listens(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_free_port_is_used_as_asked() -> None:
    with busy_port() as port:
        pass  # now free again
    assert place("127.0.0.1", Port(port), "the page") == place("127.0.0.1", Port(port, "PORT"), "")
    assert place("127.0.0.1", Port(port), "the page").moved is None
    assert place("127.0.0.1", Port(0, "--port"), "the bot").number == 0  # any port: never busy


def test_a_busy_default_gives_way_to_a_free_port_and_says_so() -> None:
    with busy_port() as port:
        placed = place("127.0.0.1", Port(port), "the page")
        assert placed.number not in (port, 0) and _listens(placed.number)
        assert placed.moved == f"port {port} was in use, so the page is on {placed.number}"


@pytest.mark.parametrize(
    ("port_of", "where"),
    [
        (lambda n: Port(n, "PORT"), "PORT sets it"),
        (lambda n: Port(n, "--port"), "--port sets it"),
        (lambda n: Port(n, None, "set PORT or pass --port"), "it is the default; set PORT or pass"),
    ],
)
def test_a_busy_port_that_may_not_move_is_an_error_saying_where_it_was_set(
    port_of: object, where: str
) -> None:
    with busy_port() as port, pytest.raises(StartupError) as info:
        place("127.0.0.1", port_of(port), "the bot")  # type: ignore[operator]
    assert str(info.value).startswith(
        f"The bot cannot listen on 127.0.0.1:{port} (it is in use); {where}"
    )


def test_the_embedded_simulator_moves_off_a_busy_default_with_its_environments() -> None:
    settings, _ = load_settings(ProcessEnv.read({}))
    with busy_port() as port:
        at_busy = settings.with_simulator_port(port)
        moved, said = place_simulator(at_busy, None)
        new = moved.simulator.port
        assert new != port and said == (
            f"port {port} was in use, so the Coursedog simulator is on {new}"
        )
        assert {e.base_url for e in moved.environments.values()} == {f"http://127.0.0.1:{new}"}
        with pytest.raises(StartupError, match=r"simulator\.port in site\.toml sets it"):
            place_simulator(at_busy, "simulator.port in site.toml")
    unchanged, said = place_simulator(at_busy, None)  # free again: as it was
    assert unchanged is at_busy and said is None

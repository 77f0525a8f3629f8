"""Fixtures for tests that run the `sis-maint` command in the test process or a bot on each
database, and a watch on every state machine move the tests make."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.domain.states import Machine
from tests.harness import Bot, running_bot


@pytest.fixture(autouse=True)
def moves_stay_on_their_tables(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Every move of a window, an environment's row or a notice that the code makes in any
    test is one its table allows, even one whose IllegalTransition a loop logs and retries."""
    if request.node.get_closest_marker("illegal_moves"):
        yield
        return
    refused: list[str] = []
    check = Machine.check

    def watched(machine: Machine, current: Any, target: Any) -> Any:  # type: ignore[type-arg]
        if not machine.can(current, target):
            refused.append(f"{machine.what}: {current} -> {target}")
        return check(machine, current, target)

    monkeypatch.setattr(Machine, "check", watched)
    yield
    assert refused == [], "moves the state machines refused"


@pytest.fixture
def bot(database_url: str) -> Iterator[Bot]:
    """The bot, running against the database of the test's parameter, with its stand-ins."""
    with running_bot(database_url) as running:
        yield running


@pytest.fixture
def cli_in_process() -> Iterator[None]:
    """Let a test run ``bot.cli.main`` under ``capsys`` without leaking its captured streams.

    The command installs its log handler on the stream the test captured, closed once the test
    ends, and may quieten alembic's logger: both are put back after. Alembic binds
    ``sys.stdout`` as it stands when ``alembic.config`` is first imported: it is imported here,
    before ``capsys`` takes over.
    """
    import alembic.config  # noqa: F401, PLC0415

    root, alembic_log = logging.getLogger(), logging.getLogger("alembic")
    handlers, level, alembic_level = list(root.handlers), root.level, alembic_log.level
    yield
    alembic_log.setLevel(alembic_level)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)

"""Fixtures for tests that run the `sis-maint` command in the test process."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


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

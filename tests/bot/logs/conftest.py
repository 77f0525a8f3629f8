"""Capturing what the configured handler writes, and putting the root logger back after."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.logs import configure_logging
from bot.process_env import ProcessEnv


class Captured:
    """The lines the handler wrote, raw and parsed."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[str]:
        return [line for line in self.stream.getvalue().splitlines() if line]

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]


@pytest.fixture
def capture_logs() -> Iterator[Callable[..., Captured]]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def install(environ: dict[str, str] | None = None, settings: Any = None) -> Captured:
        captured = Captured()
        env = {"LOG_FORMAT": "json", **(environ or {})}
        configure_logging(ProcessEnv.read(env), settings, stream=captured.stream)
        return captured

    yield install
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)

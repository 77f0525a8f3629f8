"""The crash hook: inert unless named, and then a SIGKILL at exactly the named occurrence."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot import crashpoint

pytestmark = pytest.mark.subprocess  # each test runs a script of its own
SCRIPT = (
    "from bot import crashpoint\n"
    "for n in range(3):\n"
    "    print(n, flush=True)\n"
    "    crashpoint.reached('intent')\n"
    "print('survived', flush=True)\n"
)


def run(crash_at: str | None) -> subprocess.CompletedProcess[str]:
    env = {crashpoint.ENV: crash_at} if crash_at else {}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_without_the_variable_nothing_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(crashpoint.ENV, raising=False)
    for point in crashpoint.POINTS:
        crashpoint.reached(point)  # still here
    assert run(None).stdout.split() == ["0", "1", "2", "survived"]


@pytest.mark.parametrize(
    ("crash_at", "printed"), [("intent", ["0"]), ("intent@3", ["0", "1", "2"])]
)
def test_the_named_occurrence_kills_the_process(crash_at: str, printed: list[str]) -> None:
    done = run(crash_at)
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == printed


def test_another_point_does_not_kill() -> None:
    assert run("posted").returncode == 0


def test_every_point_the_code_reaches_is_listed() -> None:
    root = Path(__file__).resolve().parents[2] / "bot"
    reached = {
        match.split(":")[0]
        for source in root.rglob("*.py")
        for match in re.findall(r"crashpoint\.reached\(f?\"([a-z:{}._]+)\"\)", source.read_text())
    }
    assert reached == set(crashpoint.POINTS)

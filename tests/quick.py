"""`pytest --quick` (`make check`): the inner loop, the tests that need no other process,
browser or database server, with lighter fuzzing budgets.

Tests that need one say so with a marker (``subprocess``, ``browser``, ``postgres``) and are
left out. So that a missing marker cannot hide, a quick run refuses to start a process or to
open the PostgreSQL schema, naming the marker to add.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

LEFT_OUT = ("subprocess", "browser", "postgres")
# A tenth of each fuzz test's examples (tests/fuzzing.py), and 3 stateful runs instead of 15.
QUICK_BUDGETS = {"SIS_MAINT_FUZZ_SCALE": "0.1", "SIS_MAINT_STATEFUL_EXAMPLES": "3"}
SPAWNING = ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.fork")


class _Guard:
    """Refuses to start processes while a quick run's test is running."""

    on = False
    installed = False

    def __call__(self, event: str, _args: tuple[Any, ...]) -> None:
        if self.on and event in SPAWNING:
            raise RuntimeError(
                "a test of `make check` started a process: mark it "
                "@pytest.mark.subprocess (the full `make test` runs it)"
            )


_GUARD = _Guard()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The option `make check` runs pytest with."""
    parser.addoption(
        "--quick",
        action="store_true",
        help="the inner loop (make check): leave out tests marked " + ", ".join(LEFT_OUT),
    )


def quick(config: pytest.Config) -> bool:
    """Whether this is a quick run."""
    return bool(config.getoption("--quick"))


def pytest_configure(config: pytest.Config) -> None:
    """Lighter fuzzing budgets (unless set), before any test module reads them."""
    if quick(config):
        for name, value in QUICK_BUDGETS.items():
            os.environ.setdefault(name, value)
        if not _GUARD.installed:  # an audit hook stays for the process: it checks _GUARD.on
            sys.addaudithook(_GUARD)
            _GUARD.installed = True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out what needs another process, a browser or a database server."""
    if not quick(config):
        return
    kept, dropped = [], []
    for item in items:
        needs = any(item.get_closest_marker(name) for name in LEFT_OUT)
        (dropped if needs else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Guard each test, its fixtures' setup and teardown included, against starting processes."""
    before, _GUARD.on = _GUARD.on, quick(item.config)
    try:
        return (yield)
    finally:
        _GUARD.on = before  # a run inside a test (pytester) hands back the outer one's


def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> None:
    """Fail a quick run's test that reaches for PostgreSQL without saying so."""
    if fixturedef.argname == "postgres_schema" and quick(request.config):
        pytest.fail(
            "a test of `make check` opened PostgreSQL: mark it @pytest.mark.postgres "
            "(the full `make test` runs it)"
        )

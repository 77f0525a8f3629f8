"""`pytest --quick` (make check): what it leaves out, what it refuses, and its lighter fuzzing."""

from __future__ import annotations

import pytest

INI = """
[pytest]
markers =
    subprocess: starts another process
    browser: drives Chromium
    postgres: needs a PostgreSQL server
"""

TESTS = """
import os
import subprocess
import sys

import pytest


@pytest.fixture
def postgres_schema():
    return "postgresql://nowhere"


def test_plain():
    pass


@pytest.mark.subprocess
def test_marked_process():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


@pytest.mark.browser
def test_marked_browser():
    pass


@pytest.mark.postgres
def test_marked_database(postgres_schema):
    pass


def test_unmarked_process():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_unmarked_database(postgres_schema):
    pass


def test_budgets():
    print("scale", os.environ.get("SIS_MAINT_FUZZ_SCALE"))
    print("stateful", os.environ.get("SIS_MAINT_STATEFUL_EXAMPLES"))
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # A quick run sets the budgets it finds unset: put the environment back after.
    monkeypatch.delenv("SIS_MAINT_FUZZ_SCALE", raising=False)
    monkeypatch.delenv("SIS_MAINT_STATEFUL_EXAMPLES", raising=False)
    pytester.makeini(INI)
    pytester.makepyfile(test_suite=TESTS)
    return pytester


def test_a_quick_run_leaves_out_what_needs_a_process_a_browser_or_a_database_server(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest_inprocess("-p", "tests.quick", "--quick", "-s")
    result.assert_outcomes(passed=2, failed=1, errors=1, deselected=3)
    result.stdout.fnmatch_lines(["*scale 0.1*", "*stateful 3*"])


def test_a_quick_run_fails_a_test_that_starts_a_process_or_opens_postgres_unmarked(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest_inprocess("-p", "tests.quick", "--quick")
    result.assert_outcomes(passed=2, failed=1, errors=1, deselected=3)
    result.stdout.fnmatch_lines(
        [
            # errors (in a fixture's setup) are shown before failures
            "E*Failed: a test of `make check` opened PostgreSQL:"
            " mark it @pytest.mark.postgres (the full `make test` runs it)",
            "E*RuntimeError: a test of `make check` started a process:"
            " mark it @pytest.mark.subprocess (the full `make test` runs it)",
        ],
        consecutive=False,
    )


@pytest.mark.subprocess  # two of its tests start one
def test_the_full_run_keeps_everything_and_its_budgets(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess("-p", "tests.quick", "-s")
    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*scale None*", "*stateful None*"])


def test_a_budget_set_by_hand_wins(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIS_MAINT_FUZZ_SCALE", "1")
    result = suite.runpytest_inprocess("-p", "tests.quick", "--quick", "-s")
    result.stdout.fnmatch_lines(["*scale 1*", "*stateful 3*"])

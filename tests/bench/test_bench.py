"""Every benchmark runs end to end with tiny counts, so the scripts cannot rot.

No figure is asserted here: the machine running the tests is not the one to judge speed on.
Only that each benchmark measures, fills its table and says which targets it checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import __main__ as cli
from bench import databases
from bench.report import Section
from bench.results import BEGIN, END, write_docs
from tests.conftest import PG_BASE_URL

# These serve the bot as a process of its own, as in service.
SERVED = {"ack", "lifecycle", "memory", "groups"}
ON_DATABASES = [
    pytest.param(name, marks=pytest.mark.subprocess) if name in SERVED else name
    for name in cli.RUNNERS
    if name != "replicas"
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_schema")  # skips (or fails in CI) when unreachable
        monkeypatch.setattr(databases, "POSTGRES_URL", PG_BASE_URL)
    yield request.param


def well_formed(section: Section) -> None:
    assert section.rows and all(len(row) == len(section.columns) for row in section.rows)
    assert section.checks and all(check.measured for check in section.checks)
    assert f"### {section.title}" in section.markdown()
    json.dumps(section.as_json())


@pytest.mark.parametrize("name", ON_DATABASES)
def test_benchmark_runs_with_tiny_counts(name: str, kind: str) -> None:
    well_formed(cli.RUNNERS[name](cli.TINY, [kind]))


@pytest.mark.postgres
@pytest.mark.subprocess
def test_replicas_benchmark_runs_with_tiny_counts(
    postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(databases, "POSTGRES_URL", PG_BASE_URL)
    section = cli.RUNNERS["replicas"](cli.TINY, ["postgresql"])
    well_formed(section)
    assert all(check.ok for check in section.checks if "exactly once" in check.target)


@pytest.mark.subprocess  # the machine it describes: the commit (git), PostgreSQL's version
@pytest.mark.postgres
def test_the_command_writes_its_figures_and_leaves_the_docs_alone_unless_full(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n")
    code = cli.main(
        ["--tiny", "--only", "history", "--db", "sqlite", "--out", str(tmp_path / "out"),
         "--docs", str(docs)]
    )  # fmt: skip
    assert code == 0
    data = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert data["full"] is False and list(data["sections"]) == ["history"]
    # A smoke run waits for no idle machine (it could wait 90 s beside other tests).
    assert data["sections"]["history"]["data"]["quiet_before"] is None
    assert {"cpu", "cores", "python", "sqlite", "postgresql", "date"} <= set(data["machine"])
    assert "### 4." in (tmp_path / "out" / "latest.md").read_text()
    assert docs.read_text() == "# Performance\n"


def test_the_docs_get_the_tables_between_their_markers(tmp_path: Path) -> None:
    docs, tables = tmp_path / "performance.md", tmp_path / "latest.md"
    docs.write_text(f"# Performance\n\nBefore.\n\n{BEGIN}\nold figures\n{END}\n\nAfter.\n")
    tables.write_text("| new | figures |\n")
    write_docs(docs, tables)
    text = docs.read_text()
    assert "old figures" not in text and "| new | figures |" in text
    assert text.startswith("# Performance\n\nBefore.") and text.endswith("After.\n")
    write_docs(docs, tables)
    assert docs.read_text() == text  # writing again changes nothing

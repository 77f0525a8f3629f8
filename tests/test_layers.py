"""Imports run one way: the levels of docs/architecture.md, checked on every module.

A module may import from its own level and the levels below it, never from above. Besides the
levels: storage/ and coursedog/ do not import each other, and bot/domain imports nothing of
Slack, SQL or HTTP. (coursedog/'s own rule, the standard library and httpx only, is
tests/coursedog/test_boundaries.py.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Level 1 is the top. bot's own top-level modules (config, clock, errors, loops, crashpoint)
# and the folders not named here (domain, logs) sit at level 7, just above storage and coursedog.
BOT_LEVELS = {
    "cli": 1,
    "sandbox": 2,
    "run": 3,
    "api": 4,
    "jobs": 4,
    "ops": 4,
    "slack": 5,
    "services": 6,
}
BOTTOM = 8
DOMAIN_FORBIDDEN = {"slack_bolt", "slack_sdk", "sqlalchemy", "httpx", "storage", "coursedog"}


def level(module: str) -> int | None:
    """The level of a project module; None for anything outside the project."""
    parts = module.split(".")
    if parts[0] == "bench":
        return 1
    if parts[0] in ("storage", "coursedog"):
        return BOTTOM
    if parts[0] != "bot":
        return None
    return BOT_LEVELS.get(parts[1], 7) if len(parts) > 1 else 7


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path: Path) -> set[str]:
    """Every absolute import of a file, wherever it stands (inside functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


SOURCES = sorted(
    path for folder in ("bot", "storage", "bench") for path in (ROOT / folder).rglob("*.py")
)


def test_every_package_is_scanned() -> None:
    names = {module_name(path) for path in SOURCES}
    assert {"bot.cli.main", "bot.run.wiring", "bot.services.windows", "storage.db"} <= names


def upward_imports(source: Path, name: str) -> list[str]:
    """What ``source``, read as module ``name``, imports from a level above its own."""
    own = level(name)
    assert own is not None
    return sorted(
        imported
        for imported in imports(source)
        if (target := level(imported)) is not None and target < own
    )


@pytest.mark.parametrize("source", SOURCES, ids=module_name)
def test_no_import_runs_up_a_level(source: Path) -> None:
    name = module_name(source)
    upward = upward_imports(source, name)
    assert not upward, f"{name} (level {level(name)}) imports from above: {upward}"


@pytest.mark.parametrize("source", sorted((ROOT / "storage").rglob("*.py")), ids=module_name)
def test_storage_imports_neither_bot_nor_coursedog(source: Path) -> None:
    roots = {imported.split(".")[0] for imported in imports(source)}
    assert not roots & {"bot", "coursedog", "slack_bolt", "slack_sdk", "httpx"}, source.name


@pytest.mark.parametrize("source", sorted((ROOT / "bot" / "domain").rglob("*.py")), ids=module_name)
def test_domain_is_pure(source: Path) -> None:
    found = imports(source)
    roots = {imported.split(".")[0] for imported in found}
    bot_parts = {imported for imported in found if imported.startswith("bot.")}
    assert not roots & DOMAIN_FORBIDDEN, source.name
    assert all(part.startswith(("bot.domain", "bot.errors")) for part in bot_parts), (
        f"{source.name} imports {sorted(bot_parts)}"
    )


def test_the_rules_catch_an_upward_import(tmp_path: Path) -> None:
    """The scan is not vacuous: a service importing bot.slack, even inside a function, is seen."""
    service = tmp_path / "service.py"
    service.write_text("def f():\n    from bot.slack.blocks import card\n", encoding="utf-8")
    assert upward_imports(service, "bot.services.windows") == ["bot.slack.blocks"]
    assert upward_imports(service, "bot.run.wiring") == []

"""docs/coursedog-api.md must agree with the wire module it describes."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest

from coursedog import wire
from coursedog.wire import DEFAULT_WIRE, WireConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "coursedog-api.md"
ROWS = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip("|").split("|")]


@pytest.mark.parametrize("endpoint", wire.ENDPOINTS, ids=lambda e: e.name)
def test_every_endpoint_is_listed_with_its_status(endpoint: wire.Endpoint) -> None:
    rows = [cells(r) for r in ROWS if cells(r)[0] == endpoint.name]
    assert len(rows) == 1, f"{endpoint.name} must have exactly one row"
    _, method, path, status, _ = rows[0]
    assert path == f"`{endpoint.path}`"
    assert status == endpoint.status
    assert method.strip("`").upper() == endpoint.method


def toml_value(value: object) -> str:
    return "true" if value is True else "false" if value is False else json.dumps(value)


@pytest.mark.parametrize("name", [f.name for f in fields(WireConfig)])
def test_every_setting_is_listed_with_default_and_status(name: str) -> None:
    rows = [cells(r) for r in ROWS if cells(r)[0] == f"`{name}`"]
    assert len(rows) == 1, f"{name} must have exactly one row"
    _, default, status, _ = rows[0]
    assert default == f"`{toml_value(getattr(DEFAULT_WIRE, name))}`"
    assert status == wire.FIELD_STATUS[name]

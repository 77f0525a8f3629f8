"""Every subcommand's --help explains each option and lists the variables its code reads.

Which variables a command reads is found in the code: from the command's function, every
function it calls (directly, by name, across the project's modules) is followed, and in each
the fields of a parameter annotated ProcessEnv that it reads are collected.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from bot.cli.env_help import NAMED
from bot.cli.main import parser
from bot.process_env import ProcessEnv

ROOT = Path(__file__).resolve().parents[2]
FIELDS = set(ProcessEnv.model_fields) | {NAMED}
# Functions that take the environment only to mask its secrets in the log lines: they read no
# setting of their own.
MASKING = {("bot.logs.setup", "secrets_in")}


def leaves(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The command path of every subcommand that runs something."""
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path
    for action in subs:
        for name, child in action.choices.items():
            yield from leaves(child, (*path, name))


def subparser(path: tuple[str, ...]) -> argparse.ArgumentParser:
    p = parser()
    for name in path:
        action = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
        p = action.choices[name]
    return p


@cache
def _module(name: str) -> tuple[dict[str, ast.FunctionDef], dict[str, tuple[str, str | None]]]:
    """A project module's functions, and what its names import: name → (module, attribute)."""
    file = Path(inspect.getfile(importlib.import_module(name)))
    tree = ast.parse(file.read_text(encoding="utf-8"))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    imported: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                imported[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported[alias.asname or alias.name] = (alias.name, None)
    return functions, imported


def _project(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] in ("bot", "storage")


def _resolve(module: str, call: ast.expr) -> tuple[str, str] | None:
    functions, imported = _module(module)
    if isinstance(call, ast.Name):
        if call.id in functions:
            return module, call.id
        target = imported.get(call.id)
        if target and target[1] is not None and _project(target[0]):
            return _defined_in(target[0], target[1])
    if isinstance(call, ast.Attribute) and isinstance(call.value, ast.Name):
        target = imported.get(call.value.id)
        if target and target[1] is None and _project(target[0]):
            return target[0], call.attr
    return None


def _defined_in(module: str, name: str) -> tuple[str, str] | None:
    """Where ``module.name`` is defined (a package may re-export it)."""
    obj = getattr(importlib.import_module(module), name, None)
    if not inspect.isfunction(obj):
        return None
    return obj.__module__, obj.__name__


def reads(module: str, function: str, seen: set[tuple[str, str]] | None = None) -> set[str]:
    """The ProcessEnv fields ``module.function`` and what it calls read."""
    seen = set() if seen is None else seen
    if (module, function) in seen or (module, function) in MASKING:
        return set()
    seen.add((module, function))
    node = _module(module)[0].get(function)
    if node is None:
        return set()
    params = {
        a.arg
        for a in (*node.args.args, *node.args.kwonlyargs)
        if isinstance(a.annotation, ast.Name) and a.annotation.id == "ProcessEnv"
    }
    found: set[str] = set()
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Attribute)
            and isinstance(sub.value, ast.Name)
            and sub.value.id in params
            and sub.attr in FIELDS
        ):
            found.add(sub.attr)
        if isinstance(sub, ast.Call):
            target = _resolve(module, sub.func)
            if target is not None:
                found |= reads(*target, seen)
    return found


LEAVES = sorted(leaves(parser()))


def test_every_subcommand_is_found() -> None:
    assert {("serve",), ("check-config",), ("audit", "verify"), ("coursedog", "check")} <= set(
        LEAVES
    )


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_help_lists_every_variable_the_command_reads(path: tuple[str, ...]) -> None:
    command = subparser(path).get_default("func")
    found = reads(command.__module__, command.__name__) | {"log_level", "log_format"}
    assert found - {NAMED}, "found no variable at all: the search is broken"
    text = subparser(path).format_help()
    for field in sorted(found - {NAMED}):
        alias = ProcessEnv.model_fields[field].alias
        assert alias is not None
        assert f"  {alias} " in text, f"`sis-maint {' '.join(path)} --help` omits {alias}"
    said = {f for f in FIELDS - {NAMED} if f"  {ProcessEnv.model_fields[f].alias} " in text}
    assert said <= found, f"it lists variables the command never reads: {said - found}"
    assert (NAMED in found) == ("the variables the configuration names" in text)


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_help_explains_each_option(path: tuple[str, ...]) -> None:
    p = subparser(path)
    assert p.description, path
    for action in p._actions:
        assert action.help and action.help != argparse.SUPPRESS, (path, action.dest)


def test_the_search_follows_calls_into_other_modules() -> None:
    # cmd_serve reads the Slack tokens through slack_credentials (bot.run.startup), and
    # SANDBOX_PORT itself; migrate reads only DATABASE_URL.
    serve = reads("bot.cli.main", "cmd_serve")
    assert {"slack_bot_token", "slack_app_token", "sandbox_port", "config_file"} <= serve
    assert reads("bot.cli.main", "cmd_migrate") == {"database_url"}

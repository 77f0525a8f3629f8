"""The sandbox page turns every emoji code the bot writes into its emoji, as Slack does."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parents[3] / "bot"
CODE = re.compile(r"(?<![\w:]):([a-z0-9_+'-]+):(?![\w:])")


def codes_written() -> set[str]:
    """The emoji codes in the strings of the Slack surface and the jobs that post to it."""
    found: set[str] = set()
    for folder in ("slack", "jobs"):
        for path in (BOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found |= set(CODE.findall(node.value))
    return found


def test_every_emoji_code_the_bot_writes_is_one_the_page_shows_as_emoji() -> None:
    script = (BOT / "sandbox" / "static" / "blockkit.js").read_text(encoding="utf-8")
    table = script[script.index("const EMOJI = {") : script.index("};")]
    known = set(re.findall(r"([a-z0-9_]+): \"", table))
    written = codes_written()
    assert {"envelope", "pencil2", "white_check_mark", "sos"} <= written
    assert written - known == set()

"""A logging filter that keeps secrets out of every line: known values and known shapes."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[redacted]"
# Shorter values would blank out ordinary words; such secrets are refused elsewhere anyway.
SHORTEST_SECRET = 4
STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}

# Shapes of secrets whatever their value: Slack tokens, bearer tokens, key=value pairs whose
# key says secret, and the password in a URL's user info (a DATABASE_URL).
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;]+"), rf"\1{MASK}"),
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|plaintextPassword)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\s'\",;&}]+"
        ),
        rf"\1{MASK}",
    ),
    (re.compile(r"(://[^:/@\s]+:)[^@/\s]+(@)"), rf"\1{MASK}\2"),
)


class Redactor(logging.Filter):
    """Replaces secrets in a record's message, exception text and extra fields."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Also redact these values (empty and very short values are ignored)."""
        known = set(self._secrets) | {s for s in secrets if len(s) >= SHORTEST_SECRET}
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(known, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every known secret and every secret-shaped value masked."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Clean the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it as usual
            return True
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True

"""Free text people type (reasons, tickets) must be storable and printable as it is."""

from __future__ import annotations

import unicodedata

from bot.errors import InputError

# Line breaks and tabs are ordinary in a reason; other control characters are not text.
_ALLOWED_CONTROLS = {"\n", "\t", "\r"}


def check_text(value: str, what: str, field: str | None = None) -> None:
    """Refuse control characters (NUL cannot even be stored by PostgreSQL)."""
    for char in value:
        if char not in _ALLOWED_CONTROLS and unicodedata.category(char) == "Cc":
            raise InputError(
                f"The {what} contains a control character (U+{ord(char):04X}); "
                "type it again without it.",
                field=field,
            )

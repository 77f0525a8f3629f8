"""Who switches an environment: the bot through Coursedog's API, or a person by hand."""

from __future__ import annotations

from bot.config import Settings


def by_hand(settings: Settings, env: str) -> bool:
    """Whether a person switches ``env`` by hand, with the checklist (the assisted driver)."""
    return settings.environments[env].driver == "assisted"

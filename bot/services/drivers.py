"""Who switches each environment: the bot through Coursedog's API, or a person by hand.

An environment's ``driver`` says it (bot.config): ``assisted`` always by hand; ``api`` the bot
writes, even calls nobody has seen work; ``auto`` (the default) the bot writes only once its
write contract has been learned from a recording or verified by a round trip (see
bot.services.contracts), and a person switches by hand with the checklist until then, the bot
verifying by reading. Never write to Coursedog blind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.config import Settings
from bot.services.contracts import Standing, WriteStanding


@dataclass(frozen=True)
class Driver:
    """How one environment is switched, and why."""

    environment: str
    configured: str
    by_hand: bool
    standing: WriteStanding

    def describe(self) -> str:
        """E.g. "the bot writes (verified on 2026-12-01)" or "by hand: writes not learned"."""
        if not self.by_hand:
            return f"the bot writes ({self.standing.describe()})"
        if self.configured == "assisted":
            return "by hand"
        return "by hand until its writes are learned from a recording"


class Drivers:
    """Each environment's driver, as the configuration and the stored contracts make it."""

    def __init__(self, settings: Settings, standings: Mapping[str, WriteStanding]) -> None:
        self._drivers = {
            name: _driver(name, env.driver, env.reads, standings.get(name))
            for name, env in settings.environments.items()
        }

    def of(self, environment: str) -> Driver:
        """The environment's driver."""
        return self._drivers[environment]

    def by_hand(self, environment: str) -> bool:
        """Whether a person switches ``environment`` by hand, with the checklist."""
        return self._drivers[environment].by_hand

    def descriptions(self) -> dict[str, str]:
        """Environment -> how it is switched, for cards and the App Home."""
        return {name: driver.describe() for name, driver in self._drivers.items()}


def _driver(name: str, configured: str, reads: bool, standing: WriteStanding | None) -> Driver:
    standing = standing or WriteStanding(name, Standing.ASSUMED)
    if configured == "assisted" or not reads:
        by_hand = True
    elif configured == "api":
        by_hand = False
    else:  # auto: only what a recording showed, or a round trip proved
        by_hand = standing.standing is Standing.ASSUMED
    return Driver(name, configured, by_hand, standing)

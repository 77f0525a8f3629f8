"""`sis-maint coursedog check`: a read-only look at each environment's Coursedog, for day one.

Per environment: the login, every read the bot makes (status, time, the fields answered beside
how the bot reads them) and the standing of each write it would make. It never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from bot.config import Settings
from bot.errors import ConfigError
from bot.run.clients import coursedog_clients
from bot.services.drivers import Driver, Drivers
from coursedog import wire
from coursedog.contract import WriteContract
from coursedog.probe import HISTORY_SIZE, Probe, probe
from coursedog.session import SessionPool

# How far an environment's writes are trusted, and since when (None for assumed).
Standing = tuple[str, date | None]
StandingOf = Callable[[str], Standing]
# The write contract an environment writes through (None: the assumed writes).
ContractOf = Callable[[str], WriteContract | None]


def standing(environment: str) -> Standing:
    """The standing of writes when no ledger is consulted: assumed. The command reads the
    ledger instead (bot.run.contracts.write_standings): "learned" on the day a recording
    taught them, "verified" on the day a round trip proved them."""
    return ("assumed", None)


def standing_label(kind: str, on: date | None) -> str:
    """ "assumed", "learned from a recording on 2027-01-11" or "verified on 2027-01-11"."""
    if kind == "learned" and on is not None:
        return f"learned from a recording on {on.isoformat()}"
    if kind == "verified" and on is not None:
        return f"verified on {on.isoformat()}"
    return kind


@dataclass(frozen=True)
class WriteCheck:
    """One write the bot would make on an environment, and how far it is trusted."""

    name: str
    method: str
    path: str
    standing: str
    since: date | None

    @property
    def label(self) -> str:
        """The standing in words."""
        return standing_label(self.standing, self.since)


@dataclass(frozen=True)
class EnvironmentCheck:
    """What the check found on one environment."""

    name: str
    label: str
    driver: str
    host: str
    school: str
    probe: Probe | None  # None: the environment has no API user, so nothing can be read
    writes: tuple[WriteCheck, ...]
    shares_login_with: tuple[str, ...] = ()
    # A person switches it by hand (the assisted driver, or auto before its writes are
    # learned): the bot makes none of the writes listed.
    by_hand: bool = False

    @property
    def understood(self) -> bool:
        """Whether every read it made is understood (trivially, when it has none)."""
        return self.probe is None or self.probe.understood


@dataclass(frozen=True)
class CheckReport:
    """The check of every environment asked for."""

    environments: tuple[EnvironmentCheck, ...]

    @property
    def understood(self) -> bool:
        """Whether every read of every environment is understood."""
        return all(env.understood for env in self.environments)

    @property
    def exit_code(self) -> int:
        """0 when every read is understood, else 1."""
        return 0 if self.understood else 1


def select_environments(settings: Settings, names: Sequence[str]) -> list[str]:
    """The environments named (names or aliases, in order, once each); all when none are."""
    if not names:
        return list(settings.environments)
    known = settings.environment_names()
    unknown = [n for n in names if n.lower() not in known]
    if unknown:
        raise ConfigError(
            f"no environment {unknown[0]!r} in the configuration "
            f"(environments: {', '.join(settings.environments)})"
        )
    return list(dict.fromkeys(known[n.lower()] for n in names))


def run_check(
    settings: Settings,
    variables: Mapping[str, str],
    names: Sequence[str] = (),
    *,
    pool: SessionPool,
    standing_of: StandingOf = standing,
    contract_of: ContractOf = lambda _name: None,
    driver_of: Callable[[str], Driver] | None = None,
    history_size: int = HISTORY_SIZE,
) -> CheckReport:
    """Check the named environments (all when none are); a ConfigError before any call when
    a name or a credential is missing. Environments sharing a host and user log in once."""
    chosen = select_environments(settings, names)
    drivers = driver_of or Drivers(settings, {}).of
    clients = coursedog_clients(settings, variables, pool=pool, only=chosen)
    try:
        checks = []
        for name in chosen:
            env = settings.environments[name]
            client = clients.get(name)
            sharing = tuple(
                other
                for other in chosen[: chosen.index(name)]
                if client is not None and other in clients
                and clients[other].session is client.session
            )  # fmt: skip
            checks.append(
                EnvironmentCheck(
                    name=name,
                    label=env.label,
                    driver=f"{env.driver} driver: {drivers(name).describe()}",
                    host=env.host,
                    school=env.school,
                    probe=probe(client, history_size=history_size) if client else None,
                    writes=_writes(settings, name, standing_of(name), contract_of(name)),
                    shares_login_with=sharing,
                    by_hand=drivers(name).by_hand,
                )
            )
        return CheckReport(tuple(checks))
    finally:
        for client in clients.values():
            client.close()


def _writes(
    settings: Settings, name: str, trust: Standing, contract: WriteContract | None
) -> tuple[WriteCheck, ...]:
    """The writes the bot would make on the environment (none without an API user): as its
    contract learned them, with the contract's standing; a write it did not learn is assumed."""
    env = settings.environments[name]
    if not env.reads:
        return ()
    kind, since = trust
    learned: dict[str, tuple[str, str]] = {}
    if contract is not None:
        learned["write_schedule"] = (contract.schedule.method, contract.schedule.path)
        if contract.comment is not None:
            learned["post_comment"] = (contract.comment.method, contract.comment.path)
    writes = []
    for e in wire.endpoints(settings.wire(name)):
        if e.method not in wire.WRITE_METHODS or e.name == "login":
            continue
        method, path = learned.get(e.name, (e.method, e.path))
        assumed = contract is not None and e.name not in learned
        writes.append(
            WriteCheck(
                e.name,
                method,
                path.format(school=env.school),
                "assumed" if assumed else kind,
                None if assumed else since,
            )
        )
    return tuple(writes)

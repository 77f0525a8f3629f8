"""The write contracts and their standing as the ledger at a database URL holds them.

For what starts before a session factory exists (`serve`, the test harness) and for commands
that only look (`coursedog check`); each opens the ledger, reads, and lets it go.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.run.startup import check_database
from bot.services.contracts import Standing, WriteStanding, standings, stored_contracts
from coursedog.contract import WriteContract
from storage.db import make_engine, make_sessions, normalize_url


def write_contracts(database_url: str, settings: Settings) -> dict[str, WriteContract]:
    """The configured environments' write contracts stored in the ledger at ``database_url``;
    a stored contract that is not valid raises BadContract (the bot does not start)."""
    engine = make_engine(database_url)
    try:
        return stored_contracts(make_sessions(engine), settings.environments)
    finally:
        engine.dispose()


def write_standings(database_url: str, settings: Settings) -> dict[str, WriteStanding]:
    """Each configured environment's write standing in the ledger at ``database_url``.

    A StartupError when the ledger cannot be read, BadContract for a stored contract that is
    not valid. An SQLite ledger that does not exist yet is not created: every write is assumed.
    """
    url = make_url(normalize_url(database_url))
    path = url.database
    sqlite_file = url.get_backend_name() == "sqlite" and path not in (None, "", ":memory:")
    if sqlite_file and not Path(str(path)).exists():
        return {name: WriteStanding(name, Standing.ASSUMED) for name in settings.environments}
    check_database(database_url)
    engine = make_engine(database_url)
    try:
        return standings(make_sessions(engine), settings.environments)
    finally:
        engine.dispose()

"""`sis-maint coursedog learn`: which environment a recording is of, what it shows, keeping it.

The recording is read with every secret dropped (coursedog.har) before anything else looks at
it; what is learned (coursedog.learn) holds only paths, pointers and switch values.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import Settings
from bot.services.contracts import BadContract, Standing, standing
from coursedog.har import Recording, read_har
from coursedog.learn import Learned, Refused, learn, no_schedule_read, schools_read
from storage import contracts


@dataclass(frozen=True)
class Lesson:
    """What a recording taught about one environment's writes."""

    environment: str
    recording: Recording
    learned: Learned


def learn_recording(settings: Settings, path: Path, environment: str | None) -> Lesson:
    """Read the recording and learn the environment's writes; Refused (or HarError) says why not.

    Without ``environment``, the one environment whose school the recording reads is meant.
    The paths the recording is read with are the environment's (its host's, when they differ).
    """
    logins = {settings.wire(name).login_path for name in settings.environments}
    recording = read_har(path, login_paths=tuple(sorted(logins)))
    name = _environment(settings, recording, environment)
    env = settings.environments[name]
    learned = learn(recording, school=env.school, host=env.host, cfg=settings.wire(name))
    return Lesson(name, recording, learned)


def _environment(settings: Settings, recording: Recording, wanted: str | None) -> str:
    envs = settings.environments
    if wanted is not None:
        name = settings.environment_names().get(wanted.strip().lower())
        if name is None:
            raise Refused(
                f"there is no environment {wanted!r} in the configuration ({', '.join(envs)})"
            )
        return name
    schools: dict[str, set[str]] = {}
    for name in envs:
        for school, hosts in schools_read(recording, settings.wire(name)).items():
            schools.setdefault(school, set()).update(hosts)
    if not schools:
        raise no_schedule_read(settings.wire())
    matches = [n for n, env in envs.items() if env.school in schools]
    if len(matches) > 1:
        same_host = [n for n in matches if envs[n].host in schools[envs[n].school]]
        matches = same_host or matches
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise Refused(
            "the recording's school is that of several environments; choose one with --env",
            [f"{n}: school {envs[n].school} on {envs[n].host}" for n in matches],
        )
    seen = ", ".join(f"{s} on {', '.join(sorted(h))}" for s, h in sorted(schools.items()))
    raise Refused(
        f"the recording is of a school that no environment of the configuration has ({seen})",
        [f"{n}: school {env.school} on {env.host}" for n, env in envs.items()],
    )


def store(session: Session, lesson: Lesson, *, at: datetime, actor: str) -> str | None:
    """Keep the lesson as its environment's contract; returns what it replaces, described
    (None: nothing was stored before)."""
    try:
        before = standing(session, lesson.environment)
        replaced = None if before.standing is Standing.ASSUMED else f"the one {before.describe()}"
    except BadContract:
        replaced = "a stored contract that was not valid"
    learned = lesson.learned
    contracts.store_learned(
        session,
        environment=lesson.environment,
        contract=learned.contract.to_json(),
        recording=lesson.recording.name,
        host=learned.host,
        at=at,
        actor=actor,
        summary=(
            f"learned the writes of {lesson.environment} from {lesson.recording.name} "
            f"({learned.host}): schedule {learned.contract.schedule.label}"
        ),
    )
    return replaced


def actor() -> str:
    """Who runs the command, for the audit trail: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"

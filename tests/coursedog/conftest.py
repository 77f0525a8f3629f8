"""Shared fixtures: a simulator on a free loopback port and clients that never really sleep."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from coursedog.client import CoursedogClient
from coursedog.simulator import SchoolState, Simulator

EMAIL = "svc-sis-maint@example.edu"
PASSWORD = "pw-7Kq2-never-printed"
SCHOOL = "state_u_banner"
LOCKED_SCHOOL = "phase_locked_u"

MakeClient = Callable[..., CoursedogClient]


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """The simulator; ``@pytest.mark.parametrize("sim", ["assumed"], indirect=True)`` makes
    its reads answer in the richer assumed shape."""
    simulator = Simulator(
        users={EMAIL: PASSWORD},
        schools={SCHOOL: SchoolState(), LOCKED_SCHOOL: SchoolState(locked=True)},
        shape=getattr(request, "param", "seen"),
    )
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def waits() -> list[float]:
    """Every wait the client asked for, in order, instead of really sleeping."""
    return []


@pytest.fixture
def make_client(sim: Simulator, waits: list[float]) -> Iterator[MakeClient]:
    clients: list[CoursedogClient] = []

    def make(**overrides: Any) -> CoursedogClient:
        kwargs: dict[str, Any] = {
            "base_url": sim.base_url,
            "school": SCHOOL,
            "email": EMAIL,
            "password": PASSWORD,
            "sleep": waits.append,
            "timeout": 2.0,
        }
        kwargs.update(overrides)
        client = CoursedogClient(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: MakeClient) -> CoursedogClient:
    return make_client()

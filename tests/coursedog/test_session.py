"""One login per host and user: shared by schools, renewed before its day is up, replaced once
after a web login ended it, with the password key that works."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest

from coursedog import errors
from coursedog.client import CoursedogClient
from coursedog.models import Schedule
from coursedog.session import RENEW_AFTER, TOKEN_LIFETIME, Session, SessionPool
from coursedog.simulator import SchoolState, Simulator
from coursedog.wire import WireConfig
from tests.coursedog.conftest import EMAIL, PASSWORD, SCHOOL

LOGIN = "/sessions"
OTHER_SCHOOL = "state_u_colleague"
HOUR = 3600.0


class FakeClock:
    """Seconds that move only when told; shared by the simulator and the session."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def system(clock: FakeClock) -> Iterator[Simulator]:
    """A system of schools: two schools on one host, one service user."""
    schools = {SCHOOL: SchoolState(), OTHER_SCHOOL: SchoolState(nightly=True, realtime=False)}
    with Simulator(users={EMAIL: PASSWORD}, schools=schools, clock=clock) as sim:
        yield sim


@pytest.fixture
def pool(clock: FakeClock) -> SessionPool:
    return SessionPool(sleep=lambda _: None, timeout=2.0, clock=clock)


ClientsOf = Callable[..., list[CoursedogClient]]


@pytest.fixture
def clients_of(system: Simulator, pool: SessionPool) -> Iterator[ClientsOf]:
    """Clients of the given schools sharing the pool's session; closed after the test."""
    made: list[CoursedogClient] = []

    def make(*schools: str) -> list[CoursedogClient]:
        session = pool.session(base_url=system.base_url, email=EMAIL, password=PASSWORD)
        made.extend(CoursedogClient(school=school, session=session) for school in schools)
        return made[-len(schools) :]

    yield make
    for client in made:
        client.close()


def test_every_school_of_a_host_shares_one_login(system: Simulator, clients_of: ClientsOf) -> None:
    first, second = clients_of(SCHOOL, OTHER_SCHOOL)

    assert first.read_schedule().schedule == Schedule(True, True)
    assert second.read_schedule().schedule == Schedule(True, False)
    assert system.calls("POST", LOGIN) == 1
    assert first.session is second.session

    first.close()
    assert not second.session.closed  # the other school still uses it
    assert second.read_switches() == Schedule(True, False)
    second.close()
    assert second.session.closed


def test_the_pool_tells_hosts_and_users_apart(system: Simulator, pool: SessionPool) -> None:
    one = pool.session(base_url=system.base_url, email=EMAIL, password=PASSWORD)

    assert pool.session(base_url=system.base_url + "/", email=EMAIL, password=PASSWORD) is one
    assert pool.session(base_url=system.base_url, email="other@u.edu", password="x") is not one
    assert pool.session(base_url="https://staging.coursedog.com", email=EMAIL, password=PASSWORD) \
        is not one  # fmt: skip
    with pytest.raises(ValueError, match="two different passwords") as caught:
        pool.session(base_url=system.base_url, email=EMAIL, password=PASSWORD + "-other")
    assert PASSWORD not in str(caught.value)
    for session in pool.sessions():
        session.close()


def test_the_token_is_renewed_before_coursedog_would_refuse_it(
    system: Simulator, clock: FakeClock, clients_of: ClientsOf
) -> None:
    (client,) = clients_of(SCHOOL)
    client.read_switches()
    first = client.session.login
    assert first is not None

    clock.now += RENEW_AFTER - 60
    client.read_switches()
    assert system.calls("POST", LOGIN) == 1

    clock.now += 120  # 23 h and a minute: an hour before Coursedog would end it
    client.read_switches()

    renewed = client.session.login
    assert system.calls("POST", LOGIN) == 2
    assert renewed is not None and renewed.issued_at == clock.now
    assert renewed.expires_at - renewed.issued_at == TOKEN_LIFETIME
    # Never refused: each read went out once, with a live token.
    assert [m for m, _ in system.requests] == ["POST", "GET", "GET", "POST", "GET"]


def test_threads_due_for_renewal_at_once_log_in_once(
    system: Simulator, clock: FakeClock, clients_of: ClientsOf
) -> None:
    clients = clients_of(SCHOOL, OTHER_SCHOOL)
    clients[0].read_switches()
    clock.now += RENEW_AFTER
    system.latency = 0.03  # every thread is waiting while the first one logs in
    start = threading.Barrier(6)

    def work(client: CoursedogClient) -> None:
        start.wait()
        client.read_switches()

    threads = [threading.Thread(target=work, args=(clients[i % 2],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert system.calls("POST", LOGIN) == 2


def test_a_session_ended_by_a_web_login_is_replaced_once_with_a_warning(
    system: Simulator,
    clock: FakeClock,
    clients_of: ClientsOf,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = clients_of(SCHOOL, OTHER_SCHOOL)
    first.read_switches()
    clock.now += 2 * HOUR + 5 * 60
    system.revoke_sessions()  # the service user signed in to the web app
    start = threading.Barrier(4)

    def work(client: CoursedogClient) -> None:
        start.wait()
        client.read_schedule()

    with caplog.at_level(logging.INFO, logger="coursedog"):
        threads = [threading.Thread(target=work, args=(c,)) for c in (first, second) * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)

    assert system.calls("POST", LOGIN) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"ended the session of {EMAIL} 2 h 5 min after its login" in warnings[0]
    assert "signed in to the Coursedog web app as this user" in warnings[0]
    assert system.base_url.removeprefix("http://") in warnings[0]
    for secret in (PASSWORD, *system.issued_tokens()):
        assert secret not in caplog.text


def test_a_token_past_its_day_is_replaced_without_blaming_a_web_login(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with Simulator(users={EMAIL: PASSWORD}, schools={SCHOOL: SchoolState()}, clock=clock) as sim:
        session = Session(
            base_url=sim.base_url,
            email=EMAIL,
            password=PASSWORD,
            clock=clock,
            renew_after=2 * TOKEN_LIFETIME,  # never renews on its own
        )
        with CoursedogClient(school=SCHOOL, session=session) as client:
            client.read_switches()
            clock.now += TOKEN_LIFETIME
            with caplog.at_level(logging.INFO, logger="coursedog"):
                client.read_switches()

    assert sim.calls("POST", LOGIN) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "refused the session" in caplog.text


def test_the_other_password_key_is_tried_and_then_kept(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    schools = {SCHOOL: SchoolState()}
    users = {EMAIL: PASSWORD}
    sim = Simulator(users=users, schools=schools, password_fields=("password",))
    with sim, caplog.at_level(logging.INFO, logger="coursedog"):
        client = CoursedogClient(
            base_url=sim.base_url, school=SCHOOL, email=EMAIL, password=PASSWORD
        )
        with client:
            assert client.read_switches() == Schedule(True, True)
            sim.revoke_sessions()
            assert client.read_switches() == Schedule(True, True)
            login = client.session.login

    assert sim.calls("POST", LOGIN) == 3  # refused once, then "password" every time
    assert login is not None
    assert (login.password_field, login.configured_field) == ("password", "plaintextPassword")
    assert login.refused_fields == ()  # the second login sent the working key first
    assert 'set password_field = "password" in [coursedog_api]' in caplog.text
    assert PASSWORD not in caplog.text


def test_a_login_body_refused_under_every_key_names_them(clock: FakeClock) -> None:
    schools = {SCHOOL: SchoolState()}
    with Simulator(users={EMAIL: PASSWORD}, schools=schools, password_fields=("pwd",)) as sim:
        client = CoursedogClient(
            base_url=sim.base_url,
            school=SCHOOL,
            email=EMAIL,
            password=PASSWORD,
            wire=WireConfig(password_field="password"),
        )
        with client, pytest.raises(errors.ApiError) as caught:
            client.read_switches()

    assert caught.value.status == 400
    assert "with each password key tried (password, plaintextPassword)" in str(caught.value)
    assert "coursedog_api.password_field" in str(caught.value)
    assert sim.calls("POST", LOGIN) == 2


def test_a_client_takes_a_session_or_credentials_not_both(
    system: Simulator, pool: SessionPool
) -> None:
    session = pool.session(base_url=system.base_url, email=EMAIL, password=PASSWORD)
    with pytest.raises(ValueError, match="takes its host, user and HTTP from it"):
        CoursedogClient(school=SCHOOL, session=session, email=EMAIL)
    with pytest.raises(ValueError, match="give a session"):
        CoursedogClient(school=SCHOOL, base_url=system.base_url)
    session.close()

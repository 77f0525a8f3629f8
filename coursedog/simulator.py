"""A local stand-in for Coursedog over real HTTP, for tests, demos and a sandbox.

It serves the calls in `coursedog.wire` with the same WireConfig and the same mapping
functions as the client, keeps per-school state in memory, and can inject faults.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from coursedog.contract import WriteContract
from coursedog.models import Schedule
from coursedog.simulator_api import Route
from coursedog.simulator_faults import Fault, FaultBook
from coursedog.simulator_http import SimulatorServer
from coursedog.simulator_learned import routes_for
from coursedog.wire import DEFAULT_WIRE, PASSWORD_FIELDS, SHAPES, Shape, WireConfig

TOKEN_LIFETIME = 24 * 3600.0
DEFAULT_USERS = {"sis-maint@example.edu": "simulator-only"}
DEFAULT_SCHOOL = "demo_university"
SCHOOL_SETTINGS = (
    "nightly",
    "realtime",
    "locked",
    "save_state_id",
    "schedule_answer",
    "contract_base",
)
_SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "save_state_id": (str,),
    "schedule_answer": (dict, type(None)),
    "contract_base": (dict,),
}


@dataclass(frozen=True)
class Timing:
    """When one request arrived and when its answer left (None while it has not)."""

    method: str
    path: str
    started: float
    answered: float | None


class UnknownSchoolError(LookupError):
    """The simulator holds no school of that name."""


@dataclass
class SchoolState:
    """Everything the simulator knows about one school."""

    nightly: bool = True
    realtime: bool = True
    save_state_id: str = "ss-1"
    locked: bool = False
    comments: list[str] = field(default_factory=list)
    writes: int = 0
    merge_history: list[dict[str, Any]] = field(default_factory=list)
    # Other fields of the schedule object, which a write that replaces it would lose.
    extra_fields: dict[str, Any] = field(default_factory=dict)
    # Served verbatim as the schedule object instead of the switches, when set: how a school
    # whose schedule carries values the bot does not know (or lacks a field) answers.
    schedule_answer: dict[str, Any] | None = None
    # The object a write contract's base GET answers (when it is not the schedule read), as
    # last written; its switch fields are served as the switches stand.
    contract_base: dict[str, Any] = field(default_factory=dict)

    @property
    def schedule(self) -> Schedule:
        """The two switches as a Schedule."""
        return Schedule(nightly=self.nightly, realtime=self.realtime)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready view."""
        return {
            **self.schedule.to_dict(),
            "save_state_id": self.save_state_id,
            "locked": self.locked,
            "writes": self.writes,
            "comments": list(self.comments),
            "merge_history": list(self.merge_history),
            "extra_fields": dict(self.extra_fields),
            "schedule_answer": self.schedule_answer,
            "contract_base": dict(self.contract_base),
        }


class Simulator:
    """An in-memory Coursedog serving HTTP on a background thread."""

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        schools: dict[str, SchoolState] | None = None,
        latency: float = 0.0,
        wire: WireConfig = DEFAULT_WIRE,
        clock: Callable[[], float] = time.monotonic,
        read_only: set[str] | None = None,
        shape: Shape = "seen",
        password_fields: tuple[str, ...] | None = None,
        contract: WriteContract | None = None,
    ) -> None:
        """``contract``: serve the writes as learned from a recording, not the assumed ones."""
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}")
        if password_fields is not None and not password_fields:
            raise ValueError("password_fields must name at least one key")
        self.users = dict(users) if users is not None else dict(DEFAULT_USERS)
        # Users who may read but whose writes are refused with a bare 403, as a read-only API
        # user's would be (Coursedog's answer does not say why).
        self.read_only = set(read_only or ())
        self.schools = dict(schools) if schools is not None else {DEFAULT_SCHOOL: SchoolState()}
        self.latency = latency
        self.wire = wire
        # Reads answer only what has been seen of Coursedog, unless told to use the richer
        # assumed shape; writes are accepted in either.
        self.shape = shape
        self.read_wire = (
            wire if shape == "assumed" else replace(wire, nightly_field="", realtime_field="")
        )
        # The login keys this Coursedog accepts for the password: by default the configured
        # one and both seen spellings.
        self.password_fields = password_fields or tuple(
            dict.fromkeys((wire.password_field, *PASSWORD_FIELDS))
        )
        self.contract = contract
        self._routes = routes_for(wire, contract)
        self.faults = FaultBook()
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        # Requests held by an apply_late fault go on when this is set (release_late).
        self._late = threading.Event()
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._token_users: dict[str, str] = {}
        self._requests: list[tuple[str, str]] = []
        self._answered: dict[int, float] = {}
        self._started: list[float] = []
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in the background and return the base URL."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        self.stopping.clear()
        self._server = SimulatorServer((host, port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},  # how quickly stop() returns
            name="coursedog-simulator",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving; connections held open by faults are released."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self.stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL clients should use, e.g. http://127.0.0.1:8123."""
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- state -----------------------------------------------------------------

    def school(self, name: str) -> SchoolState:
        """Return the live state of a school."""
        with self.lock:
            try:
                return self.schools[name]
            except KeyError:
                known = ", ".join(sorted(self.schools)) or "none"
                raise UnknownSchoolError(
                    f"the simulator has no school {name!r} (known: {known})"
                ) from None

    def set_school(self, name: str, changes: dict[str, Any]) -> SchoolState:
        """Create or update a school from a mapping of settings."""
        unknown = sorted(set(changes) - set(SCHOOL_SETTINGS))
        if unknown:
            raise ValueError(f"unknown school settings: {', '.join(unknown)}")
        for key, value in changes.items():
            expected = _SETTING_TYPES.get(key, (bool,))
            if not isinstance(value, expected):
                names = " or ".join("null" if t is type(None) else t.__name__ for t in expected)
                raise ValueError(f"{key} must be a {names}")
        with self.lock:
            state = self.schools.setdefault(name, SchoolState())
            for key, value in changes.items():
                setattr(state, key, value)
            return state

    def set_contract(self, contract: WriteContract | None) -> None:
        """Serve the writes as ``contract`` says from now on (None: the assumed writes)."""
        with self.lock:
            self.contract = contract
            self._routes = routes_for(self.wire, contract)

    def routes(self) -> list[Route]:
        """The Coursedog calls served now."""
        with self.lock:
            return self._routes

    def add_merge_item(self, school: str, item: dict[str, Any]) -> None:
        """Put a merge-history item (wire shape) at the top of a school's history."""
        if not isinstance(item.get("mergeReport") or item.get("inProgressMerge"), dict):
            raise ValueError("a merge item needs a mergeReport or an inProgressMerge object")
        with self.lock:
            self.school(school).merge_history.insert(0, item)

    def finish_merge(self, school: str, job_id: str, report: dict[str, Any]) -> None:
        """The running merge ``job_id`` finishes: its history item becomes ``report`` (an
        item with a ``mergeReport``), in its place, as Coursedog's history is taken to show."""
        if not isinstance(report.get("mergeReport"), dict):
            raise ValueError("a finished merge needs a mergeReport object")
        with self.lock:
            history = self.school(school).merge_history
            for i, item in enumerate(history):
                job = item.get("inProgressMerge")
                if isinstance(job, dict) and job.get("awsJobId") == job_id:
                    history[i] = report
                    return
        raise LookupError(f"no merge {job_id} is running at {school}")

    def state(self) -> dict[str, Any]:
        """Return every school's state, the faults and the latency, JSON-ready."""
        with self.lock:
            schools = {name: s.as_dict() for name, s in sorted(self.schools.items())}
            contract = self.contract.to_json() if self.contract is not None else None
        return {
            "schools": schools,
            "faults": self.faults.describe(),
            "latency": self.latency,
            "shape": self.shape,
            "contract": contract,
        }

    # --- faults and sessions ---------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Add a fault for the requests it matches."""
        self.faults.add(fault)

    def release_late(self) -> None:
        """Let every request held by an ``apply_late`` fault (now or later) be applied."""
        self._late.set()

    def wait_late(self, hold: float | None) -> bool:
        """Hold a request until released, ``hold`` seconds have passed, or the simulator
        stops; False when it stopped (the request is then never applied)."""
        deadline = None if hold is None else time.monotonic() + hold
        while not self.stopping.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return True
            if self._late.wait(0.02 if left is None else min(0.02, left)):
                return True
        return False

    def clear_faults(self) -> None:
        """Remove every fault (requests held late stay held until released)."""
        self.faults.clear()

    def revoke_sessions(self) -> None:
        """Invalidate every token, as a web login by the same user does."""
        with self.lock:
            self._tokens.clear()

    def issue_token(self, email: str, password: str) -> str | None:
        """Return a new token for valid credentials, else None."""
        expected = self.users.get(email)
        if expected is None or not secrets.compare_digest(expected, password):
            return None
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = self._clock()
            self._token_users[token] = email
        return token

    def token_valid(self, token: str | None) -> bool:
        """Return True for a token issued less than 24 hours ago and not revoked."""
        with self.lock:
            issued = self._tokens.get(token or "")
            return issued is not None and self._clock() - issued < TOKEN_LIFETIME

    def may_write(self, token: str | None) -> bool:
        """Whether the user of a valid ``token`` may write."""
        with self.lock:
            return self._token_users.get(token or "") not in self.read_only

    def issued_tokens(self) -> list[str]:
        """Return the tokens currently valid or expired but not revoked."""
        with self.lock:
            return list(self._tokens)

    # --- request log -----------------------------------------------------------

    def record(self, method: str, path: str) -> int:
        """Note one request received; returns its number for `answer_leaves`."""
        with self.lock:
            self._requests.append((method, path))
            self._started.append(time.perf_counter())
            return len(self._requests) - 1

    def answer_leaves(self, number: int) -> None:
        """Note that the answer to request ``number`` is leaving (or the connection closing)."""
        with self.lock:
            self._answered.setdefault(number, time.perf_counter())

    @property
    def timings(self) -> list[Timing]:
        """Every request with when it arrived and when its answer left, oldest first."""
        with self.lock:
            return [
                Timing(method, path, self._started[n], self._answered.get(n))
                for n, (method, path) in enumerate(self._requests)
            ]

    @property
    def requests(self) -> list[tuple[str, str]]:
        """Every (method, path) received so far, oldest first."""
        with self.lock:
            return list(self._requests)

    def calls(self, method: str, path_contains: str) -> int:
        """Count the requests with this method whose path contains the fragment."""
        return sum(1 for m, p in self.requests if m == method and path_contains in p)


def _block() -> None:
    """Wait until interrupted."""
    threading.Event().wait()


def serve(
    host: str,
    port: int,
    *,
    schools: dict[str, SchoolState],
    users: dict[str, str],
    latency: float = 0.0,
    wire: WireConfig = DEFAULT_WIRE,
    shape: Shape = "seen",
) -> None:
    """Run a simulator in the foreground until Ctrl-C."""
    sim = Simulator(users=users, schools=schools, latency=latency, wire=wire, shape=shape)
    url = sim.start(host, port)
    print(f"Coursedog simulator at {url} (schools: {', '.join(sorted(schools))})", flush=True)
    print(f"State: {url}/_sim/state  Press Ctrl-C to stop.", flush=True)
    try:
        _block()
    except KeyboardInterrupt:
        print("Stopping the Coursedog simulator.", flush=True)
    finally:
        sim.stop()

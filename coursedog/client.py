"""A small synchronous client for the parts of the Coursedog API the bot needs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from coursedog import wire
from coursedog.contract import ScheduleWrite, WriteContract
from coursedog.models import Answer, MergeRun, Schedule, ScheduleSnapshot
from coursedog.responses import Call, decode, parse
from coursedog.retry import RetryPolicy
from coursedog.session import Session
from coursedog.transport import DEFAULT_RETRY, Transport
from coursedog.wire import DEFAULT_WIRE, WireConfig

logger = logging.getLogger("coursedog")

# Reads of one client that may run beside their callers at once; more wait their turn.
READ_THREADS = 4


class CoursedogClient:
    """One Coursedog instance (host + school), shared safely between threads.

    Give it a ``session`` shared with the other schools its user reaches on the same host
    (see ``coursedog.session.SessionPool``; the session's transport then sets the retries,
    timeout and sleep), or ``base_url``, ``email`` and ``password`` for a session of its own.
    """

    def __init__(
        self,
        *,
        school: str,
        session: Session | None = None,
        base_url: str | None = None,
        email: str | None = None,
        password: str | None = None,
        http: httpx.Client | None = None,
        wire: WireConfig | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        contract: WriteContract | None = None,
    ) -> None:
        """``contract``: the writes learned from a recording; None writes the assumed way."""
        if not school:
            raise ValueError("school must be the School Unique ID")
        if session is None:
            if base_url is None or email is None or password is None:
                raise ValueError("give a session, or base_url, email and password")
            transport = Transport(http=http, retry=retry, sleep=sleep, timeout=timeout)
            try:
                session = Session(
                    base_url=base_url,
                    email=email,
                    password=password,
                    wire=wire or DEFAULT_WIRE,
                    transport=transport,
                    clock=clock,
                )
            except ValueError:
                transport.close()
                raise
        elif any(v is not None for v in (base_url, email, password, http)):
            raise ValueError("a client given a session takes its host, user and HTTP from it")
        self._session = session.share()
        self._base = session.base_url
        self._host = session.host
        self._school = school
        self._wire = wire or session.wire
        self._contract = contract
        self._closed = False
        # The saved-state read runs here while the calling thread reads the schedule.
        self._reads = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="coursedog-read")

    def __repr__(self) -> str:
        return f"CoursedogClient(host={self._host!r}, school={self._school!r})"

    def __enter__(self) -> CoursedogClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def host(self) -> str:
        """The Coursedog host, e.g. app.coursedog.com."""
        return self._host

    @property
    def school(self) -> str:
        """The School Unique ID this client addresses."""
        return self._school

    @property
    def session(self) -> Session:
        """The login this client calls with (shared with the other schools of its host)."""
        return self._session

    @property
    def wire(self) -> WireConfig:
        """The paths and field names this client uses."""
        return self._wire

    # --- public operations -----------------------------------------------------

    def read_schedule(self) -> ScheduleSnapshot:
        """Read both schedule switches and the enabled saved state, the two calls at once.

        A failure of either raises its own error (the schedule's first when both fail), and
        only once both calls have ended, so no request outlives the read.
        """
        token = self._session.token()  # log in here, once, rather than in both calls
        save_state = self._reads.submit(self._read_save_state, token)
        try:
            schedule_obj = self._read_schedule_object(token)
        finally:
            wait([save_state])
        return ScheduleSnapshot(
            schedule=self._switches(schedule_obj),
            save_state_id=save_state.result(),
            schedule_object=schedule_obj,
        )

    def read_switches(self) -> Schedule:
        """Read the two switches only, with one call: enough to read a write back."""
        return self._switches(self._read_schedule_object())

    def write_schedule(self, schedule: Schedule, *, over: ScheduleSnapshot | None = None) -> None:
        """Set both switches to the given absolute value (never a toggle).

        An assumed PUT may replace the whole object, so its other fields are carried over:
        from ``over``, the snapshot just read, or else from a read made for the purpose. With a
        learned contract the body is built as it says (see ``_write_learned``).
        """
        if self._contract is not None:
            self._write_learned(self._contract.schedule, schedule, over)
            return
        cfg = self._wire
        current: Mapping[str, Any] | None = None
        if cfg.schedule_write_keeps_other_fields:
            current = over.schedule_object if over is not None else None
            if current is None:
                current = self._read_schedule_object()
        body = wire.schedule_reply(wire.schedule_to_wire(schedule, cfg, current), cfg)
        self._request(cfg.schedule_write_method, cfg.schedule_write_path, json=body, write=True)
        logger.info("wrote %s to %s for %s", schedule.describe(), self._host, self._school)

    def post_activity_comment(self, text: str) -> None:
        """Add a comment to the Merge Settings Activity tab."""
        if not text.strip():
            raise ValueError("an Activity comment must not be empty")
        learned = self._contract.comment if self._contract is not None else None
        if learned is not None:
            self._request(learned.method, learned.path, json=learned.body(text), write=True)
            return
        body = wire.comment_body(text, self._wire)
        self._request(self._wire.comment_method, self._wire.comment_path, json=body, write=True)

    def merge_history(self, schedule_type: str, size: int = 5) -> list[MergeRun]:
        """Return the latest section merges of one schedule type, newest first."""
        if schedule_type not in wire.SCHEDULE_TYPES:
            raise ValueError(f"schedule_type must be one of {', '.join(wire.SCHEDULE_TYPES)}")
        if not 1 <= size <= 100:
            raise ValueError("size must be between 1 and 100")
        path = self._wire.merge_history_path
        raw = self._request("GET", path, params=wire.merge_history_params(schedule_type, size))
        return parse(self._call("GET", path), wire.merge_runs_from_wire, raw, schedule_type)

    def merge_settings_url(self) -> str:
        """Link to this school's Merge Settings page in the Coursedog web app."""
        return wire.merge_settings_link(self._host, self._school, self._wire)

    def merge_report_url(self, report_id: str) -> str:
        """Link to one merge report in the Coursedog web app."""
        return wire.merge_report_link(self._host, self._school, report_id, self._wire)

    def path_of(self, template: str) -> str:
        """A path of the wire with this client's school filled in."""
        return template.format(school=quote(self._school, safe=""))

    def read_answer(self, template: str, params: Mapping[str, str | int] | None = None) -> Answer:
        """GET one path of the wire (a template with ``{school}``) and return the answer as it
        came, undecoded by any wire parser: what a check shows beside how the bot reads it."""
        call = self._call("GET", template)
        response = self._answer(call, "GET", template, params=params, write=False)
        if not response.is_success:
            raise self._session.api_error(call, response, write=False)
        return Answer(response.status_code, decode(response, call, expect_json=True))

    def close(self) -> None:
        """Stop the read threads; let go of the session (closed with its last client)."""
        if self._closed:
            return
        self._closed = True
        self._reads.shutdown(wait=True, cancel_futures=True)
        self._session.release()

    def _write_learned(
        self, learned: ScheduleWrite, schedule: Schedule, over: ScheduleSnapshot | None
    ) -> None:
        """Write the way the recording showed, over a fresh read of the base it names.

        A schedule the recording never showed is refused before anything is sent.
        """
        if not learned.knows(schedule):
            raise self._call(learned.method, learned.path).not_learned(schedule, learned.states())
        fresh = over.schedule_object if over is not None else None
        base: Mapping[str, Any] = {}  # a body of the switch fields alone
        if fresh is not None and learned.reuses_schedule_read(self._wire):
            base = fresh  # the snapshot the caller just read is the base
        elif learned.base_path is not None:
            raw = self._request("GET", learned.base_path)
            base = parse(self._call("GET", learned.base_path), learned.base_of, raw)
        body = learned.body(base, schedule)
        self._request(learned.method, learned.path, json=body, write=True)
        logger.info(
            "wrote %s to %s for %s as learned", schedule.describe(), self._host, self._school
        )

    # --- the one request path --------------------------------------------------

    def _call(self, method: str, template: str) -> Call:
        return Call(self._host, self._school, wire.operation_label(method, template))

    def _read_schedule_object(self, token: str | None = None) -> dict[str, Any]:
        path = self._wire.schedule_read_path
        raw = self._request("GET", path, token=token)
        return parse(self._call("GET", path), wire.schedule_object_from_reply, raw, self._wire)

    def _switches(self, schedule_obj: dict[str, Any]) -> Schedule:
        call = self._call("GET", self._wire.schedule_read_path)
        return parse(call, wire.schedule_from_wire, schedule_obj, self._wire)

    def _read_save_state(self, token: str) -> str | None:
        path = self._wire.save_state_path
        raw = self._request("GET", path, token=token)
        return parse(self._call("GET", path), wire.save_state_id_from_wire, raw)

    def _request(
        self,
        method: str,
        template: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        write: bool = False,
        token: str | None = None,
    ) -> Any:
        """One call; ``token`` is the session to send when the caller already holds one."""
        call = self._call(method, template)
        response = self._answer(
            call, method, template, json=json, params=params, write=write, token=token
        )
        if response.is_success:
            return decode(response, call, expect_json=not write)
        raise self._session.api_error(call, response, write=write)

    def _answer(
        self,
        call: Call,
        method: str,
        template: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        write: bool,
        token: str | None = None,
    ) -> httpx.Response:
        """The final answer to one call, after one new login if the session was refused."""
        url = self._base + self.path_of(template)
        token = token or self._session.token()
        send = self._session.transport.send
        response = send(call, method, url, json=json, params=params, write=write, token=token)
        if response.status_code == 401:
            token = self._session.renew(stale=token, call=call)
            response = send(call, method, url, json=json, params=params, write=write, token=token)
        return response

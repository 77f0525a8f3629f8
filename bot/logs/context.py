"""Fields every log record carries while a piece of work runs (its request id, its action).

The fields live in a context variable: set by the Slack middleware for each request and by
the scheduler for each due action, and carried into the listener threads by CarryContext.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_FIELDS: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("sis_maint_log_fields")


def new_request_id() -> str:
    """A short random id that ties together the log lines of one piece of work."""
    return uuid.uuid4().hex[:16]


def current_fields() -> dict[str, Any]:
    """The fields in force here (a copy)."""
    return dict(_FIELDS.get({}))


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every record logged inside the block (and in work it hands off)."""
    token = _FIELDS.set({**_FIELDS.get({}), **fields})
    try:
        yield
    finally:
        _FIELDS.reset(token)


class CarryContext(Executor):
    """Runs work on another executor inside the context of whoever submitted it."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Submit ``fn`` to run in a copy of the current context."""
        context = contextvars.copy_context()
        return self._inner.submit(lambda: context.run(fn, *args, **kwargs))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the executor underneath down."""
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)

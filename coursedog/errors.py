"""The exceptions the Coursedog client raises; none of them ever carries a secret.

CoursedogError
 +-- TransportError          no usable answer came back
 |    +-- OutcomeUnknown     a write went out but its answer was lost: settle by reading
 +-- ApiError(status)        Coursedog answered with an error status
 |    +-- Unauthorized       credentials refused, or a fresh session refused again
 |    +-- Forbidden          the API user may not do this
 |    |    +-- WriteRefused   a write was refused: a read-only API user, or locked settings
 |    |         +-- SettingsLocked  Coursedog's answer says the settings are locked
 |    +-- NotFound
 |    +-- RateLimited(retry_after)
 |    +-- ServerError        5xx
 +-- BadResponse             the answer did not have the expected shape
 |    +-- UnrecognisedSchedule  a schedule whose values the bot does not know (never "off")
 +-- ScheduleNotLearned      the learned write contract has no body for this schedule: nothing sent
"""

from __future__ import annotations

from coursedog.models import Schedule


class CoursedogError(Exception):
    """Base class for everything the client raises."""

    def __init__(self, message: str, *, host: str = "", school: str = "", operation: str = ""):
        super().__init__(message)
        self.message = message
        self.host = host
        self.school = school
        self.operation = operation


class TransportError(CoursedogError):
    """Coursedog could not be reached, or sent no usable answer."""


class OutcomeUnknown(TransportError):
    """A write was sent but its answer was lost; it may or may not have been applied."""


class ApiError(CoursedogError):
    """Coursedog answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        host: str = "",
        school: str = "",
        operation: str = "",
        retry_after: float | None = None,
    ):
        super().__init__(message, host=host, school=school, operation=operation)
        self.status = status
        self.retry_after = retry_after


class Unauthorized(ApiError):
    """The credentials were refused, or a freshly opened session was refused again."""


class Forbidden(ApiError):
    """The API user is not allowed to do this."""


class WriteRefused(Forbidden):
    """Coursedog refused a write (401 after a fresh login, or 403) without saying why: the API
    user may be read-only, or the merge settings may be locked."""


class SettingsLocked(WriteRefused):
    """Coursedog's answer says the merge settings are locked (e.g. by the term-phases
    process): only Coursedog can change them."""


class NotFound(ApiError):
    """The school or the resource does not exist on this host."""


class RateLimited(ApiError):
    """Coursedog asked the client to slow down for longer than it is willing to wait."""


class ServerError(ApiError):
    """Coursedog failed (5xx). After a write, read back before assuming it was not applied."""


class BadResponse(CoursedogError):
    """The answer was not the JSON shape the client expects."""


class UnrecognisedSchedule(BadResponse):
    """The schedule read has a value (or lacks a field) the bot does not know.

    ``raw`` holds the fields the bot reads, exactly as Coursedog answered them; ``problem`` says
    in a few words what is wrong with them.
    """

    def __init__(
        self,
        message: str,
        *,
        raw: dict[str, object],
        problem: str = "",
        host: str = "",
        school: str = "",
        operation: str = "",
    ):
        super().__init__(message, host=host, school=school, operation=operation)
        self.raw = raw
        self.problem = problem or message


class ScheduleNotLearned(CoursedogError):
    """The write contract has no body for the schedule wanted; nothing was sent.

    ``schedule`` is the schedule that was wanted, ``learned`` those the contract can write.
    """

    def __init__(
        self,
        message: str,
        *,
        schedule: Schedule,
        learned: tuple[Schedule, ...],
        host: str = "",
        school: str = "",
        operation: str = "",
    ):
        super().__init__(message, host=host, school=school, operation=operation)
        self.schedule = schedule
        self.learned = learned

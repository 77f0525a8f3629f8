"""Whatever the request form sends back, it is read and checked field by field, never crashing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.requests import MAX_REASON, MAX_TICKET, CheckedRequest, RequestForm, check_request
from bot.errors import InputError
from bot.slack import ids
from bot.slack.payloads import parse_request_form
from tests.fuzzing import FUZZ, assert_specific

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=4,
)
timestamps = st.one_of(
    st.integers(-(10**15), 10**15),
    st.integers(1_700_000_000, 1_900_000_000),
    st.integers(1_700_000_000, 1_900_000_000).map(str),
    st.sampled_from(["", "²", "1e9", "-1", "0", "4102444800", "9" * 5000]),
    json_values,
)
lengths = st.one_of(
    st.sampled_from(["2h", "45m", "1h30m", "1d", "0m", "999d", " 2h ", "2 h", "x" * 3000]),
    st.text(max_size=30),
    json_values,
)
texts = st.one_of(st.text(max_size=40), st.just("r" * 501), st.just("t" * 201), json_values)
options = st.one_of(
    st.lists(
        st.one_of(
            st.fixed_dictionaries({"value": st.sampled_from(["prod", "staging", "nope", ""])}),
            json_values,
        ),
        max_size=4,
    ),
    json_values,
)


def element(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A block's state as Slack sends it, or something else entirely."""
    inner = st.fixed_dictionaries({}, optional=fields)
    return st.one_of(st.fixed_dictionaries({ids.FIELD_ACTION: inner}), json_values)


states = st.fixed_dictionaries(
    {},
    optional={
        ids.B_ENVS: element(selected_options=options),
        ids.B_WHEN: element(
            selected_option=st.one_of(
                st.fixed_dictionaries({"value": st.sampled_from([ids.WHEN_NOW, ids.WHEN_AT])}),
                json_values,
            )
        ),
        ids.B_START: element(selected_date_time=timestamps),
        ids.B_LENGTH: element(value=lengths),
        ids.B_END: element(selected_date_time=timestamps),
        ids.B_REASON: element(value=texts),
        ids.B_TICKET: element(value=texts),
    },
)
views = st.fixed_dictionaries(
    {"type": st.just("modal"), "callback_id": st.just(ids.REQUEST_VIEW)},
    optional={"state": st.one_of(st.fixed_dictionaries({"values": states}), json_values)},
)
forms = st.builds(
    RequestForm,
    environments=st.lists(st.text(max_size=12), max_size=3).map(tuple),
    start_now=st.booleans(),
    start=st.one_of(st.none(), st.integers(-(10**15), 10**15)),
    length=st.one_of(st.text(max_size=20), st.sampled_from(["2h", "0m", "1d", ""])),
    end=st.one_of(st.none(), st.integers(-(10**15), 10**15)),
    reason=st.one_of(st.text(max_size=40), st.just("r" * 501), st.just(" " * 600)),
    ticket=st.one_of(st.text(max_size=40), st.just("t" * 201)),
)


def check(form: RequestForm) -> None:
    """A usable request, or an InputError on the field that is wrong."""
    try:
        checked = check_request(form)
    except InputError as exc:
        assert exc.field is not None, f"{exc} names no field"
        assert_specific(exc, form)
        return
    assert isinstance(checked, CheckedRequest)
    assert checked.environments and checked.duration > timedelta(0)
    assert len(checked.reason) <= MAX_REASON and len(checked.ticket or "") <= MAX_TICKET
    if checked.ends_at is not None:
        assert checked.starts_at is not None and checked.ends_at > checked.starts_at


@settings(max_examples=FUZZ.form, deadline=None, database=None)
@given(view=views)
def test_any_submitted_form_is_read_and_checked_field_by_field(view: dict[str, Any]) -> None:
    check(parse_request_form(view))


@settings(max_examples=FUZZ.form, deadline=None, database=None)
@given(form=forms)
def test_any_form_values_get_a_request_or_a_message_on_a_field(form: RequestForm) -> None:
    check(form)

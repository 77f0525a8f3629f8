"""The simulator's side of a write contract: the writes served as a recording showed them.

With a contract the schedule write and (if learned) the Activity comment are served on the
contract's method and path instead of the assumed ones, and a body that does not follow the
contract is refused with 400. When the contract's body is built from a GET other than the
schedule read, that GET is served too: the school's ``contract_base`` as last written, with
its switch fields as the switches stand.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from coursedog import pointer, wire
from coursedog.contract import WriteContract
from coursedog.simulator_api import (
    Reply,
    Request,
    Route,
    build_routes,
    compile_path,
    error,
    school_state,
    write_refusal,
)

if TYPE_CHECKING:
    from coursedog.simulator import Simulator


def routes_for(cfg: wire.WireConfig, contract: WriteContract | None) -> list[Route]:
    """The routes of the assumed wire, with the writes ``contract`` learned in their place."""
    routes = build_routes(cfg)
    if contract is None:
        return routes
    learned = contract.schedule
    replaced = {"write_schedule"} | ({"post_comment"} if contract.comment is not None else set())
    routes = [r for r in routes if r.name not in replaced]
    routes.append(Route("write_schedule", learned.method, compile_path(learned.path), _write))
    if learned.base_path is not None and learned.base_path != cfg.schedule_read_path:
        routes.append(Route("read_base", "GET", compile_path(learned.base_path), _read_base))
    if contract.comment is not None:
        comment = contract.comment
        routes.append(Route("post_comment", comment.method, compile_path(comment.path), _comment))
    return routes


def _contract(sim: Simulator) -> WriteContract:
    with sim.lock:
        contract = sim.contract
    if contract is None:  # routes and contract are swapped together; this is a bug
        raise LookupError("the simulator has no write contract")
    return contract


def _read_base(sim: Simulator, _req: Request, school: str) -> Reply:
    state = school_state(sim, school)
    if state is None:
        return error(404, f"school {school} not found")
    learned = _contract(sim).schedule
    with sim.lock:
        base = copy.deepcopy(state.contract_base)
        if learned.knows(state.schedule):
            for f in learned.fields:
                where = pointer.relative(f.pointer, learned.wrap)
                pointer.put(base, where, f.value_for(state.schedule))
    return Reply(200, pointer.nest(base, learned.base_pointer))


def _write(sim: Simulator, req: Request, school: str) -> Reply:
    state = school_state(sim, school)
    if state is None:
        return error(404, f"school {school} not found")
    refused = write_refusal(sim, req, state)
    if refused is not None:
        return refused
    learned, cfg = _contract(sim).schedule, sim.wire
    ours = {cfg.sync_type_field, cfg.nightly_field, cfg.realtime_field}
    kept: dict[str, object] | None = None  # the schedule object's other fields, when it is the base
    try:
        body = req.json()
        schedule = learned.schedule_of(body)
        base = copy.deepcopy(pointer.get(body, learned.wrap))
        if learned.base_path == cfg.schedule_read_path:
            obj = wire.schedule_object_from_reply(pointer.nest(base, learned.base_pointer), cfg)
            kept = {k: v for k, v in obj.items() if k not in ours}
    except ValueError as exc:
        return error(400, f"the body does not follow the write contract: {exc}")
    with sim.lock:
        state.nightly, state.realtime = schedule.nightly, schedule.realtime
        if kept is not None:
            state.extra_fields = kept
        elif learned.base_path is not None:
            state.contract_base = base  # a replacing write keeps only what it was sent
        state.schedule_answer = None
        state.writes += 1
    return Reply(200, body)


def _comment(sim: Simulator, req: Request, school: str) -> Reply:
    state = school_state(sim, school)
    if state is None:
        return error(404, f"school {school} not found")
    refused = write_refusal(sim, req, state)
    if refused is not None:
        return refused
    learned = _contract(sim).comment
    assert learned is not None  # the route exists only with a learned comment
    try:
        text = learned.text_of(req.json())
    except ValueError as exc:
        return error(400, f"the comment does not follow the write contract: {exc}")
    with sim.lock:
        state.comments.append(text)
    return Reply(201, req.json())

"""What a configuration file's mistakes are called in plain words.

pydantic reports each error with a location (``("environments", "prod", "approvers", 0)``) and
a message meant for programmers ("Extra inputs are not permitted"). Here each becomes a line
that names the key as it stands in the TOML file (``[environments.prod] approvers[0]``) and
says what to write instead: the closest known key to a misspelt one, a member ID instead of
``@name``, the name of a variable instead of an address. Errors that follow from another
(a misspelt required key is also "missing") are folded into it.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

Loc = tuple[str | int, ...]
KEY = "[key]"  # pydantic's last part of the location of a table entry's bad name

_TYPES = {
    "string_type": "text in quotes",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "list_type": "a list in square brackets",
    "time_delta_type": "a duration such as 45m, 2h or 1d",
    "time_delta_parsing": "a duration such as 45m, 2h or 1d",
    "datetime_type": "a date (2027-01-11) or a date-time (2027-01-11 08:00)",
    "date_type": "a date (2027-01-11) or a date-time (2027-01-11 08:00)",
}

MAX_LISTED = 12  # more known keys than this are left to config.example.toml
_MEMBER_ID = (
    "use the member ID (U…) from the person's Slack profile (⋮ menu → Copy member ID), "
    "or a user group's ID (S…)"
)
# What a value that does not match a field's pattern should look like, by the field's name.
_FORMS = {
    "base_url": "the instance's address, such as https://stateu.coursedog.com (no path)",
    "school": "the School Unique ID: letters, digits, '.', '_' or '-'",
    "aliases": "a short lower-case name: a letter, then letters, digits, '-' or '_'",
    "environments": "a short lower-case name: a letter, then letters, digits, '-' or '_'",
    "groups": "a short lower-case name: a letter, then letters, digits, '-' or '_'",
    "name": "a short lower-case name: a letter, then letters, digits, '-' or '_'",
    "start": "a time of day such as 01:30 (24-hour)",
    "end": "a time of day such as 03:00 (24-hour)",
    "to": "an email address",
    "cc": "an email address",
    "sender": "an email address",
    "team_id": "the workspace's team ID (T…)",
    "api_app_id": "the app's ID (A…), shown on its Basic Information page",
    "uid_domain": "letters, digits, '.' or '-'",
}


def explain(exc: ValidationError, data: Mapping[str, Any], model: type[BaseModel]) -> list[str]:
    """One line per mistake: where it is in the file, and what to write instead."""
    grouped: dict[Loc, list[ErrorDetails]] = {}
    for err in exc.errors():
        grouped.setdefault(_in_document(err["loc"], data), []).append(err)
    renamed = _misspelt_required(grouped, model)
    lines = []
    for loc, errors in grouped.items():
        if loc in renamed.values():
            continue  # "missing": said with the misspelling that stands for it
        message = _message(loc, errors, model, renamed.get(loc))
        if loc[-1:] == (KEY,):  # the name of a table's entry, as [environments."Prod Env"]
            place = f"{where(loc[:-2], data)} {_dotted(loc[-2:-1])}"
        elif errors[0]["type"] == "extra_forbidden":  # named in the message: say its table
            place = where(loc[:-1], data)
        else:
            place = where(loc, data)
        lines.append(f"{place}: {message}")
    return lines


def at_keys(title: str, found: Sequence[tuple[Loc, Any, str]]) -> ValidationError:
    """Mistakes a validator of a field found deeper down, each as (where below the field,
    what the file has there, what to say): raised from the validator, each is placed at its
    own key (``[blackouts[0]] environments[1]``) rather than at the field's."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type=PydanticCustomError("config_mistake", "{said}", {"said": said}),
                loc=loc,
                input=given,
            )
            for loc, given, said in found
        ],
    )


def closest(word: str, options: Sequence[str], cutoff: float = 0.6) -> str | None:
    """The option nearest a misspelt ``word``, if one is near enough."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=cutoff)
    return close[0] if close else None


def where(loc: Loc, data: Mapping[str, Any]) -> str:
    """``[environments.prod] approvers[0]``: the table, then the key in it."""
    node: Any = data
    i = 0
    while i < len(loc):
        child = _child(node, loc[i])
        if isinstance(child, Mapping):
            node, i = child, i + 1
        elif _is_tables(child) and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            node, i = _child(child, loc[i + 1]), i + 2
        else:
            break
    table, key = _dotted(loc[:i]), _dotted(loc[i:])
    if not table:
        return key or "the top level"
    return f"[{table}] {key}" if key else f"[{table}]"


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, Mapping):
        return node.get(part)
    if isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _dotted(parts: Loc) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            bare = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            text += f".{bare}" if text else bare
    return text


def _is_tables(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and bool(value)
        and all(isinstance(v, Mapping) for v in value)
    )


def _in_document(loc: Loc, data: Mapping[str, Any]) -> Loc:
    """The location without the parts pydantic adds that are not keys of the file (the member
    of a union it tried, such as ``str`` or ``function-after[...]``)."""
    kept: list[str | int] = []
    node: Any = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if last and part == KEY:  # the entry's name was wrong, whatever the entry holds
            kept.append(part)
        elif isinstance(node, Mapping) and isinstance(part, str) and (part in node or last):
            kept.append(part)
            node = node.get(part)
        elif isinstance(node, list | tuple) and isinstance(part, int):
            kept.append(part)
            node = node[part] if part < len(node) else None
        elif node is None and isinstance(part, str) and last:
            kept.append(part)
    return tuple(kept)


def _misspelt_required(
    grouped: Mapping[Loc, list[ErrorDetails]], model: type[BaseModel]
) -> dict[Loc, Loc]:
    """Unknown key → the missing required key it stands for (``base_ur`` for ``base_url``)."""
    missing = {loc for loc, errs in grouped.items() if errs[0]["type"] == "missing"}
    found: dict[Loc, Loc] = {}
    for loc, errors in grouped.items():
        if errors[0]["type"] != "extra_forbidden" or not loc:
            continue
        wanted = [m[-1] for m in missing if m[:-1] == loc[:-1] and isinstance(m[-1], str)]
        close = difflib.get_close_matches(str(loc[-1]), wanted, n=1, cutoff=0.6)
        if close:
            found[loc] = (*loc[:-1], close[0])
    return found


def _message(
    loc: Loc, errors: Sequence[ErrorDetails], model: type[BaseModel], stands_for: Loc | None
) -> str:
    err = errors[0]
    kind = err["type"]
    field = _field_name(loc)
    if kind == "extra_forbidden":
        return _unknown_key(loc, model, stands_for)
    if kind == "missing":
        return "required, and not in the file"
    if kind == "string_pattern_mismatch":
        return _pattern(field, err["input"])
    if kind in ("literal_error", "enum"):
        return _choice(err)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return _bound(kind, err)
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "too_short":
        least = err.get("ctx", {}).get("min_length")
        return "must list at least one" if least == 1 else f"must list at least {least}"
    if kind == "string_too_long":
        return f"must be at most {err.get('ctx', {}).get('max_length')} characters"
    wanted = [_TYPES[e["type"]] for e in errors if e["type"] in _TYPES]
    if wanted:
        given = "" if _secret(field) else f", not {_shown(err['input'])}"
        return f"must be {', or '.join(dict.fromkeys(wanted))}{given}"
    return str(err["msg"]).removeprefix("Value error, ")


def _field_name(loc: Loc) -> str:
    if loc[-1:] == (KEY,):
        loc = loc[:-2]  # an entry's name: what the table's names must look like
    names = [part for part in loc if isinstance(part, str)]
    return names[-1] if names else ""


def _unknown_key(loc: Loc, model: type[BaseModel], stands_for: Loc | None) -> str:
    key = str(loc[-1])
    if stands_for is not None:
        return f"unknown key `{key}`: did you mean `{stands_for[-1]}`? (it is required)"
    known = _keys_at(model, loc[:-1])
    close = closest(key, known)
    if close:
        return f"unknown key `{key}`: did you mean `{close}`?"
    if 0 < len(known) <= MAX_LISTED:
        return f"unknown key `{key}`; the keys here are {', '.join(known)}"
    return f"unknown key `{key}` (config.example.toml shows every key)"


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the table at ``loc``, following the model's annotations."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` → X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _pattern(field: str, value: Any) -> str:
    text = str(value)
    if field.endswith("_env"):
        if "@" in text:
            return (
                "this names an environment variable, not an address: put the address in a "
                "variable (COURSEDOG_EMAIL=…) and write its name here"
            )
        return (
            "this names an environment variable (capital letters, digits and _, such as "
            "COURSEDOG_PASSWORD), never the secret itself"
        )
    if field == "approvers":
        mention = re.fullmatch(r"<@([UWS][A-Z0-9]{2,})(\|[^>]*)?>", text.strip())
        if mention:
            return f"{_shown(text)} is a mention: write the ID alone, {mention.group(1)}"
        return f"{_shown(text)} is not a Slack ID: {_MEMBER_ID}"
    form = _FORMS.get(field)
    if form is None:
        return f"{_shown(text)} is not in the expected form"
    return f"{_shown(text)} is not {form}" if form.startswith(("a", "the")) else form


def _choice(err: ErrorDetails) -> str:
    expected = str(err.get("ctx", {}).get("expected", ""))
    options = re.findall(r"'([^']*)'", expected)
    given = str(err["input"])
    close = difflib.get_close_matches(given, options, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"must be one of {', '.join(repr(o) for o in options)}, not {_shown(given)}{hint}"


def _bound(kind: str, err: ErrorDetails) -> str:
    ctx = err.get("ctx", {})
    words = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("more than", "gt"),
        "less_than": ("less than", "lt"),
    }
    said, key = words[kind]
    return f"must be {said} {ctx.get(key)}, not {_shown(err['input'])}"


def _secret(field: str) -> bool:
    return field.endswith("_env") or "password" in field


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"

"""JSON pointers (RFC 6901) over objects only: how a write contract names a place in a body.

Arrays are values here, never walked into: the parts of a Coursedog body that a contract
names are object members, and an index into a list would not survive the list changing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

ROOT = ""


def parts(pointer: str) -> list[str]:
    """The member names a pointer walks, outermost first; ValueError for a malformed one."""
    if pointer == ROOT:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"{pointer!r} is not a JSON pointer (it must be empty or start with '/')")
    out = []
    for raw in pointer[1:].split("/"):
        if "~" in raw.replace("~0", "").replace("~1", ""):
            raise ValueError(f"{pointer!r} has a '~' not followed by 0 or 1")
        out.append(raw.replace("~1", "/").replace("~0", "~"))
    return out


def join(names: list[str] | tuple[str, ...]) -> str:
    """The pointer that walks ``names``."""
    return "".join("/" + name.replace("~", "~0").replace("/", "~1") for name in names)


def child(pointer: str, name: str) -> str:
    """The pointer to member ``name`` of the object at ``pointer``."""
    return pointer + join([name])


def within(pointer: str, prefix: str) -> bool:
    """Whether ``pointer`` names ``prefix`` itself or a place inside it."""
    return parts(pointer)[: len(parts(prefix))] == parts(prefix)


def relative(pointer: str, prefix: str) -> str:
    """``pointer`` as seen from inside the object at ``prefix`` (which must contain it)."""
    if not within(pointer, prefix):
        raise ValueError(f"{pointer!r} is not inside {prefix!r}")
    return join(parts(pointer)[len(parts(prefix)) :])


def get(doc: Any, pointer: str) -> Any:
    """The value at ``pointer``; KeyError when a member on the way is missing or not an object."""
    node = doc
    for name in parts(pointer):
        if not isinstance(node, Mapping) or name not in node:
            raise KeyError(pointer)
        node = node[name]
    return node


def has(doc: Any, pointer: str) -> bool:
    """Whether ``doc`` has a value at ``pointer``."""
    try:
        get(doc, pointer)
    except KeyError:
        return False
    return True


def put(doc: dict[str, Any], pointer: str, value: Any) -> None:
    """Set the value at ``pointer`` (not the root), creating the objects on the way."""
    names = parts(pointer)
    if not names:
        raise ValueError("cannot set the root of a document")
    node = doc
    for name in names[:-1]:
        nxt = node.get(name)
        if not isinstance(nxt, dict):
            nxt = node[name] = {}
        node = nxt
    node[names[-1]] = value


def nest(value: Any, pointer: str) -> Any:
    """A document holding ``value`` at ``pointer`` and nothing else (``value`` itself at root)."""
    for name in reversed(parts(pointer)):
        value = {name: value}
    return value


def objects(doc: Any, at: str = ROOT) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in ``doc`` (not inside arrays) with its pointer, outermost first."""
    if isinstance(doc, dict):
        yield at, doc
        for name, value in doc.items():
            yield from objects(value, child(at, name))


def leaves(doc: Any, at: str = ROOT) -> dict[str, Any]:
    """Every value that is not an object, by pointer (arrays and empty objects count as values)."""
    if not isinstance(doc, dict) or (not doc and at != ROOT):
        return {at: doc}  # an empty object is a value too, or it would vanish from a diff
    out: dict[str, Any] = {}
    for name, value in doc.items():
        out.update(leaves(value, child(at, name)))
    return out

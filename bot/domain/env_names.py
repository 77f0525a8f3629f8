"""The names people may give environments by: names, aliases and groups of environments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping


class EnvironmentNames(Mapping[str, str]):
    """Lower-case names and aliases -> canonical environment name, plus the groups.

    A group (``all-colleges``) names several environments at once; it is no key of the
    mapping itself: ``members`` says what it stands for.
    """

    def __init__(
        self, names: Mapping[str, str], groups: Mapping[str, tuple[str, ...]] | None = None
    ) -> None:
        self._names = dict(names)
        self.groups: dict[str, tuple[str, ...]] = dict(groups or {})

    def __getitem__(self, key: str) -> str:
        return self._names[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def stands_for(self, name: str) -> tuple[str, ...] | None:
        """The environments ``name`` (a name, alias or group, any case) stands for; None if it
        is none of these."""
        key = name.strip().lower()
        if key in self._names:
            return (self._names[key],)
        return self.groups.get(key)

    def covered(self, listed: Iterable[str]) -> tuple[str, ...]:
        """The environments ``listed`` names, aliases and groups stand for, in order and each
        once; a name that is none of these stands for nothing."""
        found: dict[str, None] = {}
        for name in listed:
            found.update(dict.fromkeys(self.stands_for(name) or ()))
        return tuple(found)


def group_members(known: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    """The environments the group ``name`` (lower case) stands for; None if it is no group."""
    if isinstance(known, EnvironmentNames):
        return known.groups.get(name)
    return None


def group_listing(known: Mapping[str, str]) -> str:
    """`` Groups: `all-colleges` ...`` for a message listing the names, or nothing."""
    if not isinstance(known, EnvironmentNames) or not known.groups:
        return ""
    return " Groups: " + ", ".join(f"`{g}`" for g in sorted(known.groups)) + "."

"""The base of every record type: a frozen dataclass that reads and writes one JSON object exactly.

A record's declared fields are the keys this version of bench knows, typed.
Two things make ``to_json(from_json(obj)) == obj`` hold key for key and in
order, so a file read and written again has the same bytes:

* ``extra`` keeps every key the record type does not declare, as it was read:
  a task type's own per-item fields, a variant kind's own cost figures, keys a
  later version of bench added;
* ``key_order`` remembers which keys the object had and in what order. A field
  whose key was absent reads as None (as ``dict.get`` did) and is not written.

A record built in code has no remembered order: its fields are written in the
order they are declared, each one that holds a value, plus those the type
always writes (``WRITTEN_WHEN_NONE``), then ``extra``. A field given a value
after reading (``dataclasses.replace``) is written after the keys read.

A record is also a read-only Mapping of its JSON keys: code that looks a field
up by a name it was given (a task's per-item field, a suite's cost limit) reads
a record as it read the JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable, ClassVar, Iterator, TypeVar

R = TypeVar("R", bound="JsonRecord")
_BOOKKEEPING = ("extra", "key_order")


@dataclass(frozen=True)
class JsonRecord(Mapping):
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True, repr=False)
    key_order: tuple[str, ...] | None = field(default=None, kw_only=True, repr=False, compare=False)

    # Keys a record built in code writes even when their value is None (JSON null).
    WRITTEN_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()
    # Fields whose JSON value is itself a record (or holds records): field -> how to read it.
    NESTED: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    @classmethod
    def from_json(cls: type[R], data: Mapping[str, Any]) -> R:
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__} is read from a JSON object, not {type(data).__name__}")
        names = _field_names(cls)
        values: dict[str, Any] = dict.fromkeys(names)
        extra = {}
        for key, value in data.items():
            if key in names:
                read = cls.NESTED.get(key)
                values[key] = read(value) if read is not None and value is not None else value
            else:
                extra[key] = value
        return cls(**values, extra=extra, key_order=tuple(data))

    def to_json(self) -> dict[str, Any]:
        return {key: _encode(self[key]) for key in self._keys()}

    # ------------------------------------------------------------------ the Mapping of JSON keys
    def _has(self, name: str) -> bool:
        if getattr(self, name) is not None:
            return True
        return name in self.key_order if self.key_order is not None else name in self.WRITTEN_WHEN_NONE

    def _keys(self) -> list[str]:
        names = _field_names(type(self))
        if self.key_order is None:
            keys = [name for name in names if self._has(name)]
        else:
            keys = [k for k in self.key_order if (k in names and self._has(k)) or k in self.extra]
            seen = set(keys)
            keys += [name for name in names if name not in seen and getattr(self, name) is not None]
        seen = set(keys)
        return keys + [k for k in self.extra if k not in seen]

    def __getitem__(self, key: str) -> Any:
        if key in _field_names(type(self)):
            if self._has(key):
                return getattr(self, key)
            raise KeyError(key)
        return self.extra[key]

    def __contains__(self, key: object) -> bool:
        if key in _field_names(type(self)):
            return self._has(key)
        return key in self.extra

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def get(self, key: str, default: Any = None) -> Any:  # faster than Mapping's: no exception for an absent field
        if key in _field_names(type(self)):
            value = getattr(self, key)
            return default if value is None and not self._has(key) else value
        return self.extra.get(key, default)

    def replace(self: R, **changes: Any) -> R:
        """A copy with some fields changed; a field that was absent and is now set is written after the others."""
        return dataclasses.replace(self, **changes)


@cache
def _field_names(cls: type) -> _OrderedNames:
    return _OrderedNames(f.name for f in dataclasses.fields(cls) if f.name not in _BOOKKEEPING)


class _OrderedNames(tuple):
    """Declared field names in declaration order, with set-speed membership."""

    def __new__(cls, names):
        self = super().__new__(cls, names)
        self._set = frozenset(self)
        return self

    def __contains__(self, name) -> bool:
        return name in self._set


def _encode(value: Any) -> Any:
    if isinstance(value, JsonRecord):
        return value.to_json()
    if isinstance(value, dict) and any(isinstance(v, JsonRecord) for v in value.values()):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list) and any(isinstance(v, JsonRecord) for v in value):
        return [_encode(v) for v in value]
    return value

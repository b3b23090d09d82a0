"""Records to plain values and back, by their declared types.

Plain values are what JSON holds: lists, strings, numbers, booleans and null. A ``Codec``
turns a value of a given type into them and back, reading how from the type itself:

- a record (a dataclass of the codec's allow-list) is the list of its fields' values,
  in order, and is read back by one call of its constructor;
- a ``Place`` is its six fields; an enum member is its name;
- a tuple is a list, a frozenset a sorted list, a dict a list of ``[key, value]`` pairs;
- ``Optional[X]`` is null or an ``X``; a union of records is ``[class name, record]``,
  the name being one of the union's own members;
- a ``Blob[T]`` is its ``T`` (read back, a new blob of it).

Reading builds only the classes of the allow-list, and only where the declared type
says one goes: no name in the data chooses what is built, beyond a member of a union
that the type allows. A value that does not fit its type raises ``PlainError``.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import typing
from collections.abc import Iterable
from typing import Any, Callable, Union

from dropout_lint.blobs import Blob
from dropout_lint.project.place import Place
from dropout_lint.records import attribute_reader

Convert = Callable[[Any], Any]


class PlainError(ValueError):
    """Data that does not fit the type it is read as."""


def _fail(expected: str, data: Any) -> PlainError:
    return PlainError(f"expected {expected}, found {type(data).__name__}")


def _read_str(data: Any) -> str:
    if type(data) is not str:
        raise _fail("a string", data)
    return data


def _read_int(data: Any) -> int:
    if type(data) is not int:
        raise _fail("an integer", data)
    return data


def _read_float(data: Any) -> float:
    if type(data) is not float and type(data) is not int:
        raise _fail("a number", data)
    return float(data)


def _read_bool(data: Any) -> bool:
    if type(data) is not bool:
        raise _fail("a boolean", data)
    return data


def _read_none(data: Any) -> None:
    if data is not None:
        raise _fail("null", data)


def _same(value: Any) -> Any:
    return value


_SCALARS: dict[Any, Convert] = {str: _read_str, int: _read_int, float: _read_float, bool: _read_bool, type(None): _read_none}


def _items(data: Any) -> list[Any]:
    if type(data) is not list:
        raise _fail("a list", data)
    return data


class Codec:
    """Converts values of the given record classes (and enums), and of types built of
    them, to plain values and back. ``names`` resolves the names that the classes'
    annotations use but their modules import only for type checking."""

    def __init__(self, classes: Iterable[type], names: dict[str, Any]) -> None:
        self._classes = frozenset(classes)
        self._names = names
        self._writers: dict[Any, Convert] = {}
        self._readers: dict[Any, Convert] = {}

    def to_plain(self, value: Any, kind: Any) -> Any:
        return self._writer(kind)(value)

    def from_plain(self, data: Any, kind: Any) -> Any:
        """The value of type ``kind`` that ``data`` holds (``PlainError`` if none)."""
        return self._reader(kind)(data)

    def _writer(self, kind: Any) -> Convert:
        return self._memo(self._writers, kind, self._make_writer)

    def _reader(self, kind: Any) -> Convert:
        return self._memo(self._readers, kind, self._make_reader)

    @staticmethod
    def _memo(table: dict[Any, Convert], kind: Any, make: Callable[[Any], Convert]) -> Convert:
        found = table.get(kind)
        if found is None:
            # A type may contain itself (a layer's children, a branch's events): while it
            # is being made, its converter stands for itself through this cell.
            cell: list[Convert] = []
            table[kind] = lambda value: cell[0](value)
            found = make(kind)
            cell.append(found)
            table[kind] = found
        return found

    def _fields(self, cls: type) -> list[tuple[str, Any]]:
        if cls not in self._classes:
            raise TypeError(f"{cls.__qualname__} is not a record this codec may build")
        module = sys.modules[cls.__module__].__dict__
        hints = typing.get_type_hints(cls, globalns=module, localns=self._names)
        return [(field.name, hints[field.name]) for field in dataclasses.fields(cls) if field.init]

    def _make_writer(self, kind: Any) -> Convert:
        origin = typing.get_origin(kind)
        args = typing.get_args(kind)
        if kind in _SCALARS:
            return _same
        if origin is Union:
            return self._union_writer(args)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            parts = [self._writer(arg) for arg in args]
            return lambda value: [write(item) for write, item in zip(parts, value)]
        if origin is tuple:
            if args[0] in _SCALARS:
                return list
            item = self._writer(args[0])
            return lambda value: [item(part) for part in value]
        if origin is frozenset:  # in order, so that equal sets make equal entries
            if args[0] in _SCALARS:
                return sorted
            item = self._writer(args[0])
            return lambda value: [item(part) for part in sorted(value)]
        if origin is dict:
            key, item = self._writer(args[0]), self._writer(args[1])
            return lambda value: [[key(k), item(v)] for k, v in value.items()]
        if origin is Blob:
            inner = self._writer(args[0])
            return lambda value: inner(value.load())
        if kind is Place:
            return lambda place: [place.path, place.index, place.line, place.column, place.end_line, place.end_column]
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            if kind not in self._classes:
                raise TypeError(f"{kind.__qualname__} is not an enum this codec may build")
            return lambda member: member.name
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            return self._record_writer(kind)
        raise TypeError(f"no plain form for {kind!r}")

    def _record_writer(self, cls: type) -> Convert:
        hints = [hint for _, hint in self._fields(cls)]
        values = attribute_reader([name for name, _ in self._fields(cls)])
        # Only the fields whose plain form differs from their value are converted.
        converted = [(index, self._writer(hint)) for index, hint in enumerate(hints) if hint not in _SCALARS]

        def record(value: Any) -> list[Any]:
            data = list(values(value))
            for index, write in converted:
                data[index] = write(data[index])
            return data

        return record

    def _union_writer(self, members: tuple[Any, ...]) -> Convert:
        others = [member for member in members if member is not type(None)]
        if len(others) == 1:
            write = self._writer(others[0])
            return lambda value: None if value is None else write(value)
        writers = {member: self._writer(member) for member in others}
        optional = len(others) < len(members)

        def tagged(value: Any) -> Any:
            if value is None and optional:
                return None
            return [type(value).__name__, writers[type(value)](value)]

        return tagged

    def _make_reader(self, kind: Any) -> Convert:
        origin = typing.get_origin(kind)
        args = typing.get_args(kind)
        scalar = _SCALARS.get(kind)
        if scalar is not None:
            return scalar
        if origin is Union:
            return self._union_reader(args)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            parts = [self._reader(arg) for arg in args]

            def fixed(data: Any) -> tuple[Any, ...]:
                if len(_items(data)) != len(parts):
                    raise PlainError(f"expected {len(parts)} items, found {len(data)}")
                return tuple([read(item) for read, item in zip(parts, data)])

            return fixed
        if origin is tuple or origin is frozenset:
            build = tuple if origin is tuple else frozenset
            exact = _EXACT.get(args[0])
            if exact is not None:  # strings or integers: checked at C speed
                return lambda data: build(data) if not data or _types(_items(data)) == {exact} else _refuse(args[0], data)
            item = self._reader(args[0])
            return lambda data: build([item(part) for part in _items(data)])
        if origin is dict:
            key, item = self._reader(args[0]), self._reader(args[1])
            return lambda data: {key(k): item(v) for k, v in map(_pair, _items(data))}
        if origin is Blob:
            inner = self._reader(args[0])
            return lambda data: Blob.holding(inner(data))
        if kind is Place:
            return _read_place
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            if kind not in self._classes:
                raise TypeError(f"{kind.__qualname__} is not an enum this codec may build")
            members = kind.__members__
            return lambda data: _member(members, data)
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            return self._record_reader(kind)
        raise TypeError(f"no plain form for {kind!r}")

    def _record_reader(self, cls: type) -> Convert:
        hints = [hint for _, hint in self._fields(cls)]
        count = len(hints)
        # Fields of an exact type are checked in place; the others are converted in place
        # (the list is the JSON reader's, made for this one use).
        checked = [(index, _EXACT[hint]) for index, hint in enumerate(hints) if hint in _EXACT]
        converted = [(index, self._reader(hint)) for index, hint in enumerate(hints) if hint not in _EXACT]

        def record(data: Any) -> Any:
            if type(data) is not list or len(data) != count:
                raise _fail(f"the {count} fields of {cls.__name__}", data)
            for index, exact in checked:
                if type(data[index]) is not exact:
                    raise _fail(f"{exact.__name__} in {cls.__name__}", data[index])
            for index, read in converted:
                data[index] = read(data[index])
            return cls(*data)

        return record

    def _union_reader(self, members: tuple[Any, ...]) -> Convert:
        others = [member for member in members if member is not type(None)]
        optional = len(others) < len(members)
        if len(others) == 1:
            read = self._reader(others[0])
            return lambda data: None if data is None and optional else read(data)
        readers = {member.__name__: self._reader(member) for member in others}

        def tagged(data: Any) -> Any:
            if data is None and optional:
                return None
            name, value = _pair(data)
            found = readers.get(name) if type(name) is str else None
            if found is None:
                raise PlainError(f"{name!r} is no member of the union")
            return found(value)

        return tagged


# The types whose values JSON reads back as they were: a value is checked, not converted.
_EXACT: dict[Any, type] = {str: str, int: int, bool: bool}


def _types(data: list[Any]) -> set[type]:
    return set(map(type, data))


def _refuse(kind: type, data: list[Any]) -> Any:
    raise PlainError(f"expected a list of {kind.__name__}, found {sorted(t.__name__ for t in _types(data))}")


def _pair(data: Any) -> tuple[Any, Any]:
    if type(data) is not list or len(data) != 2:
        raise _fail("a pair", data)
    return data[0], data[1]


def _member(members: Any, data: Any) -> Any:
    found = members.get(data) if type(data) is str else None
    if found is None:
        raise PlainError(f"no member {data!r}")
    return found


def _read_place(data: Any) -> Place:
    if type(data) is not list or len(data) != 6 or type(data[0]) is not str or _types(data[1:]) != {int}:
        raise _fail("a place: a path and five integers", data)
    return Place(*data)

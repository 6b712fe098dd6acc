"""The pieces every projection is made of: typed tables, the fold state, the base class.

A projection owns a few *tables* (LMDB named databases of the event environment, or dicts in
the memory log). Each table maps ``bytes`` keys to values of one msgspec type, encoded as
MessagePack. A projection folds records with :meth:`Projection.evolve`, which reads and
writes a :class:`State`: an in-memory overlay over the stored tables. The store flushes the
overlay's writes in the same write transaction as the append (or, for a rebuild, into empty
tables), so the fold itself does no I/O and the same code serves both paths.

Rule for folds: ``put`` each value you create (and ``delete`` what goes); a value you got
from :meth:`State.get` may be changed in place: every value a fold touched is encoded at
the end and written when its bytes differ from the stored ones. The property test
(incremental == rebuilt, byte for byte) catches a fold that breaks this.
"""

from __future__ import annotations

import struct
import types
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar, Generic, TypeVar

import msgspec

from ..events import Record, decode_record
from ..store.folds import LOG_TABLE, Source

T = TypeVar("T")

_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")
NS_PER_DAY = 86_400 * 1_000_000_000


def be64(n: int) -> bytes:
    """An unsigned 64-bit big-endian key part (sorts like the number)."""
    return _U64.pack(n)


def be32(n: int) -> bytes:
    return _U32.pack(n)


def from_be64(b: bytes) -> int:
    return int(_U64.unpack(b)[0])


_HEX_DIGITS = "0123456789abcdef"


def text_key(text: str) -> bytes:
    """A short key part for a digest or other text, which no other such part starts with.

    Prompt hashes and cache keys are lowercase hex digests: stored as their bytes (half the
    length) after a marker and the length. Keys of the tables that take random inserts on
    every commit are short so that each commit writes fewer pages. Other text is kept as is,
    ended by ``/`` (prefix-free as long as it holds no ``/``: digests and ids do not).
    """
    n = len(text)
    if 0 < n <= 510 and not n % 2 and not text.strip(_HEX_DIGITS):  # lowercase hex digits only
        return b"#" + bytes((n // 2,)) + bytes.fromhex(text)
    return b"=" + text.encode() + b"/"


@lru_cache(maxsize=64)
def _utc_day_of(day_number: int) -> str:
    return datetime.fromtimestamp(day_number * 86_400, UTC).strftime("%Y-%m-%d")


def utc_day(ts_ns: int) -> str:
    """``YYYY-MM-DD`` (UTC) of a time in nanoseconds: the fallback when an event has no day."""
    return _utc_day_of(ts_ns // NS_PER_DAY)


class Table(Generic[T]):
    """A named table whose values are MessagePack-encoded ``type`` values."""

    __slots__ = ("_decoder", "_encoder", "counter", "name", "type")

    def __init__(self, name: str, type_: type[T], *, counter: bool = False) -> None:
        self.name = name
        self.type = type_
        self.counter = counter  # values are lists of ints summed with State.add
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder: msgspec.msgpack.Decoder[T] = msgspec.msgpack.Decoder(type_)

    def encode(self, value: T) -> bytes:
        return self._encoder.encode(value)

    def decode(self, data: bytes) -> T:
        return self._decoder.decode(data)

    def __repr__(self) -> str:
        return f"Table({self.name!r})"


class EmptySource:
    """A source with nothing in it: the base of a rebuild."""

    def get(self, table: str, key: bytes) -> bytes | None:
        return None

    def scan(
        self,
        table: str,
        prefix: bytes = b"",
        *,
        start: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        return iter(())


_MISSING: Any = object()


def _accumulate(sums: dict[bytes, Any], key: bytes, deltas: tuple[int, ...]) -> None:
    """Add ``deltas`` element-wise to ``sums[key]`` (a list of ints; absent starts it)."""
    acc = sums.get(key)
    if acc is None:
        if not deltas:
            raise ValueError("add() needs at least one delta")
        sums[key] = [*deltas]
    elif len(deltas) == 1:
        acc[0] += deltas[0]
    elif len(deltas) == 2:
        acc[0] += deltas[0]
        acc[1] += deltas[1]
    else:
        for i, d in enumerate(deltas):
            acc[i] += d


class State:
    """The fold's read-write overlay over a :class:`Source`.

    ``_values`` holds, per table, every value read or written so far (``None``: absent);
    ``_raw`` the stored bytes of the values read from the base. Reads decode once; ``put``
    is a plain dict store. :meth:`writes` encodes what was touched and keeps what differs
    from the base (so a fold need not say which values it changed, only ``put`` them).
    ``add`` keeps pending sums for counter tables without reading them; a read settles
    them. :meth:`source` gives a read view that includes everything pending (``append_if``
    deciders see the earlier events of the same commit).
    """

    __slots__ = ("_base", "_raw", "_sums", "_values")

    def __init__(self, base: Source | None = None) -> None:
        self._base: Source = base if base is not None else EmptySource()
        self._values: dict[str, dict[bytes, Any]] = {}
        self._raw: dict[str, dict[bytes, bytes | None]] = {}
        self._sums: dict[str, dict[bytes, list[int]]] = {}

    def _table(self, name: str) -> dict[bytes, Any]:
        values = self._values.get(name)
        if values is None:
            values = self._values[name] = {}
            self._raw[name] = {}
        return values

    def _load(self, table: Table[Any], key: bytes) -> Any:
        name = table.name
        raw = self._base.get(name, key)
        value = None if raw is None else table.decode(raw)
        self._table(name)[key] = value
        self._raw[name][key] = raw
        if table.counter:
            sums = self._sums.get(name)
            if sums is not None and key in sums:
                value = self._settle(table, key, value, sums.pop(key))
        return value

    def get(self, table: Table[T], key: bytes) -> T | None:
        values = self._values.get(table.name)
        if values is not None:
            value = values.get(key, _MISSING)
            if value is not _MISSING:
                if table.counter:
                    sums = self._sums.get(table.name)
                    if sums is not None and key in sums:
                        value = self._settle(table, key, value, sums.pop(key))
                found: T | None = value
                return found
        loaded: T | None = self._load(table, key)
        return loaded

    def put(self, table: Table[T], key: bytes, value: T | None) -> None:
        """Set ``key`` (``None`` deletes it)."""
        values = self._values.get(table.name)
        if values is None:
            values = self._table(table.name)
        values[key] = value

    def delete(self, table: Table[Any], key: bytes) -> None:
        self.put(table, key, None)

    def add(self, table: Table[list[int]], key: bytes, *deltas: int) -> None:
        """Add ``deltas`` element-wise to a counter table's value (absent counts as zeros);
        one that comes back to all zeros is deleted. Sums are taken lazily: cheap in a hot
        fold."""
        sums = self._sums.get(table.name)
        if sums is None:
            sums = self._sums[table.name] = {}
        _accumulate(sums, key, deltas)

    def _settle(self, table: Table[Any], key: bytes, value: Any, deltas: list[int]) -> Any:
        if value is None:
            total = deltas
        else:
            total = list(value)
            total += [0] * (len(deltas) - len(total))
            for i, d in enumerate(deltas):
                total[i] += d
        result = total if any(total) else None
        self.put(table, key, result)
        return result

    def _settle_all(self, tables: dict[str, Table[Any]]) -> None:
        for name in list(self._sums):
            sums = self._sums.pop(name)
            table = tables[name]
            values = self._values.get(name) or {}
            for key, deltas in sums.items():
                value = values[key] if key in values else self._load(table, key)
                self._settle(table, key, value, deltas)

    def writes(
        self, tables: dict[str, Table[Any]]
    ) -> Iterator[tuple[str, list[tuple[bytes, bytes | None]]]]:
        """Each table's changes, sorted by key; ``None`` means delete."""
        self._settle_all(tables)
        for name in sorted(self._values):
            encode = tables[name].encode
            values = self._values[name]
            raws = self._raw[name]
            out: list[tuple[bytes, bytes | None]] = []
            for key in sorted(values):
                value = values[key]
                new = None if value is None else encode(value)
                old = raws.get(key, _MISSING)
                if old is _MISSING or old != new:
                    out.append((key, new))
            if out:
                yield name, out

    def source(self, tables: dict[str, Table[Any]]) -> Source:
        """A read view of the base with the pending writes applied (encoded on demand)."""
        self._settle_all(tables)
        return _OverlaySource(self, tables)


class _OverlaySource:
    def __init__(self, state: State, tables: dict[str, Table[Any]]) -> None:
        self._state = state
        self._tables = tables

    def get(self, table: str, key: bytes) -> bytes | None:
        values = self._state._values.get(table)
        if values is not None and key in values:
            value = values[key]
            return None if value is None else self._tables[table].encode(value)
        return self._state._base.get(table, key)

    def scan(
        self,
        table: str,
        prefix: bytes = b"",
        *,
        start: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        pending = {
            k: v
            for k, v in self._state._values.get(table, {}).items()
            if k.startswith(prefix) and (start is None or k >= start)
        }
        if not pending:
            yield from self._state._base.scan(table, prefix, start=start, reverse=reverse)
            return
        merged = dict(self._state._base.scan(table, prefix, start=start))
        codec = self._tables[table]
        for k, v in pending.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = codec.encode(v)
        for k in sorted(merged, reverse=reverse):
            yield k, merged[k]


class FreshState(State):
    """A :class:`State` over nothing, for rebuilds: no base reads, and ``writes`` gives
    every non-empty value."""

    __slots__ = ()

    def __init__(self, tables: dict[str, Table[Any]]) -> None:
        super().__init__(None)
        for name in tables:
            self._values[name] = {}
            self._raw[name] = {}

    def get(self, table: Table[T], key: bytes) -> T | None:
        value = self._values[table.name].get(key)
        if table.counter and value is not None and not any(value):
            return None
        return value

    def put(self, table: Table[T], key: bytes, value: T | None) -> None:
        if value is None:
            self._values[table.name].pop(key, None)
        else:
            self._values[table.name][key] = value

    def add(self, table: Table[list[int]], key: bytes, *deltas: int) -> None:
        _accumulate(self._values[table.name], key, deltas)

    def writes(
        self, tables: dict[str, Table[Any]]
    ) -> Iterator[tuple[str, list[tuple[bytes, bytes | None]]]]:
        for name in sorted(self._values):
            table = tables[name]
            values = self._values[name]
            if not values:
                continue
            encode = table.encode
            keys = sorted(values)
            if table.counter:
                keys = [k for k in keys if any(values[k])]
            yield name, [(k, encode(values[k])) for k in keys]

    def source(self, tables: dict[str, Table[Any]]) -> Source:
        raise TypeError("a rebuild's state has no read view")


Fold = Callable[[State, Record, Any], None]  # a bound handler: (state, record, its event)

E = TypeVar("E")
P = TypeVar("P", bound="Projection")
_ON = "__promptd_on__"  # the attribute @on leaves on a handler: the event types it folds


def on(
    *event_types: type[E],
) -> Callable[[Callable[[P, State, Record, E], None]], Callable[[P, State, Record, E], None]]:
    """Register the decorated method as its projection's fold for ``event_types``::

        @on(BudgetSet)
        def set(self, state: State, rec: Record, ev: BudgetSet) -> None: ...

    ``ev`` is ``rec.event``, typed: mypy checks that the handler takes the event it is
    registered for. One handler per event type and projection.
    """
    if not event_types:
        raise TypeError("@on() needs at least one event type")

    def register(
        method: Callable[[P, State, Record, E], None],
    ) -> Callable[[P, State, Record, E], None]:
        setattr(method, _ON, (*getattr(method, _ON, ()), *event_types))
        return method

    return register


class Projection:
    """A view of the log kept by folding records into its tables.

    Subclasses set ``name``, ``version`` (bump it whenever the fold or the stored layout
    changes: a mismatch rebuilds the projection at open) and ``tables``, and mark their
    per-record folds with :func:`on` (called in log order, with the typed event). A
    projection that needs every record (unknown ones included) overrides
    :meth:`fold_batch`, called once per batch after the per-record folds; it must give the
    same result however the log is batched. One whose batch fold concerns imported records
    only (those with an ``origin``) sets ``imported_only``: it is skipped for batches of
    fresh appends.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[Table[Any], ...]]
    imported_only: ClassVar[bool] = False
    folds: ClassVar[dict[type, Callable[..., None]]] = {}  # event type -> handler (by @on)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[type, Callable[..., None]] = {}
        for base in reversed(cls.__mro__):
            for attr, value in vars(base).items():
                for etype in getattr(value, _ON, ()):
                    other = found.get(etype)
                    if base is cls and other is not None and other.__name__ != attr:
                        raise TypeError(
                            f"{cls.__name__}: both {other.__name__}() and {attr}() fold "
                            f"{etype.__name__}; keep one handler per event type"
                        )
                    found[etype] = value
        cls.folds = found

    def version_key(self) -> str:
        """What must match the stored checkpoint for the tables to be reused."""
        return str(self.version)

    def handlers(self) -> dict[type, Fold]:
        """Event type -> this projection's fold for it, bound (built once per log)."""
        return {etype: types.MethodType(fn, self) for etype, fn in self.folds.items()}

    def fold_batch(self, state: State, records: Sequence[Record], kinds: Counter[type]) -> None:
        """Fold a whole batch at once (none by default); ``kinds`` counts the records of
        each event type (``UnknownEvent`` for those this code does not know)."""

    def has_batch_fold(self) -> bool:
        return type(self).fold_batch is not Projection.fold_batch


class Checkpoint(msgspec.Struct, array_like=True):
    """Stored per projection in the ``meta`` table: its version and last folded sequence."""

    version: str
    last_seq: int


def checkpoint_key(name: str) -> bytes:
    return b"checkpoint/" + name.encode()


CHECKPOINTS = Table("checkpoints", Checkpoint)


class Reader:
    """Typed read access over a :class:`Source`, for the projection views."""

    __slots__ = ("source",)

    def __init__(self, source: Source) -> None:
        self.source = source

    def get(self, table: Table[T], key: bytes) -> T | None:
        raw = self.source.get(table.name, key)
        return None if raw is None else table.decode(raw)

    def scan(
        self, table: Table[T], prefix: bytes = b"", *, reverse: bool = False
    ) -> Iterator[tuple[bytes, T]]:
        for key, raw in self.source.scan(table.name, prefix, reverse=reverse):
            yield key, table.decode(raw)

    def record(self, seq: int) -> Record | None:
        """The log record at ``seq`` (views keep sequence numbers, not copies of events)."""
        raw = self.source.get(LOG_TABLE, be64(seq))
        return None if raw is None else decode_record(raw)

"""What every event log does, whatever holds its bytes: append, fold, read, rebuild, verify.

A backend (LMDB, memory) supplies a write transaction (:class:`WriteTxn`), a read source,
and a few facts (last sequence, count, size). This class does the rest, so both backends
keep the same contract and the same projection bytes.
"""

from __future__ import annotations

import gc
import struct
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from itertools import repeat
from typing import Protocol, TypeVar, overload

import msgspec

from ..config import CacheConfig
from ..errors import CorruptStoreError, StoreError
from ..events import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    Envelope,
    Event,
    Record,
    UnknownEvent,
    decode_envelope,
    decode_event,
    decode_record,
    key_seq,
    seq_key,
)
from ..projections import (
    CHECKPOINTS,
    LOG_TABLE,
    Folder,
    FreshState,
    Projection,
    Source,
    State,
    TableDiff,
    default_projections,
)
from ..projections.fold import diff_all
from ..projections.origins import ORIGINS
from .typecheck import to_decode
from .view import StoreView

R = TypeVar("R")
Decide = Callable[[StoreView], Sequence[Event]]

_event_encoder = msgspec.msgpack.Encoder()
_envelope_encoder = msgspec.msgpack.Encoder()
_event_validator = msgspec.msgpack.Decoder(Event)
_batch_validator = msgspec.msgpack.Decoder(list[Event])
_READ_CHUNK = 1024
_EVENT_TYPES = frozenset(EVENT_TYPES)
_key = struct.Struct(">Q").pack
_FOLD_CHUNK = 4096
_MAX_LISTED = 20


class WriteTxn(Protocol):
    """One write transaction of a backend."""

    @property
    def source(self) -> Source:
        """Reads inside the transaction (they see the log records put so far)."""
        ...

    @property
    def last_seq(self) -> int: ...

    def put_log(self, items: list[tuple[bytes, bytes]]) -> None:
        """Append encoded records (keys ascending, after every existing key)."""
        ...

    def write(self, table: str, items: list[tuple[bytes, bytes | None]], *, fresh: bool) -> None:
        """Apply sorted writes (``None`` deletes); ``fresh``: the table was just cleared."""
        ...

    def clear(self, table: str) -> None: ...


class Request:
    """One unit of a (group) commit: events, a decider, or imported envelopes."""

    __slots__ = ("decide", "envelopes", "events", "source_store_id", "ts_ns")

    def __init__(
        self,
        *,
        events: Sequence[Event] = (),
        decide: Decide | None = None,
        envelopes: Sequence[Envelope] = (),
        source_store_id: str = "",
        ts_ns: int | None = None,
    ) -> None:
        self.events: Sequence[Event] = events if isinstance(events, list | tuple) else list(events)
        self.decide = decide
        self.envelopes = envelopes
        self.source_store_id = source_store_id
        self.ts_ns = ts_ns

    def size(self) -> int:
        return len(self.events) + len(self.envelopes) + (1 if self.decide else 0)


def as_events(events: Event | Sequence[Event]) -> Sequence[Event]:
    if isinstance(events, msgspec.Struct):
        return (events,)
    return events


class VerifyReport(msgspec.Struct, kw_only=True):
    """What ``verify`` found. ``ok`` when the log is sound and every projection matches."""

    events: int = 0
    last_seq: int = 0
    problems: list[str] = msgspec.field(default_factory=list)  # gaps, undecodable records
    differences: list[TableDiff] = msgspec.field(default_factory=list)
    unknown_types: dict[str, int] = msgspec.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.differences

    def lines(self) -> list[str]:
        """The report as lines for people."""
        out = [f"{self.events} events, last sequence {self.last_seq}"]
        out += [f"problem: {p}" for p in self.problems]
        out += [f"differs from a rebuild: {d.describe()}" for d in self.differences]
        for tag, n in sorted(self.unknown_types.items()):
            out.append(
                f"unknown event type {tag!r}: {n} records (kept, not projected; "
                "written by a newer promptd)"
            )
        out.append(
            "OK"
            if self.ok
            else "NOT OK: run `promptd rebuild` to rebuild projections"
            if not self.problems
            else "NOT OK: the log itself is damaged; restore a backup"
        )
        return out


class BaseEventLog(ABC):
    """The event log contract; see :mod:`promptd.daemon.store`."""

    def __init__(self, cache_config: CacheConfig | None = None) -> None:
        self.cache_config = cache_config or CacheConfig()
        self.projections: list[Projection] = default_projections(self.cache_config)
        self._folder = Folder(self.projections)

    # --- backend hooks -------------------------------------------------------------------

    @abstractmethod
    def _transact(self, body: Callable[[WriteTxn], R]) -> R:
        """Run ``body`` in one write transaction and commit it durably (retrying on growth)."""

    @abstractmethod
    def _reading(self) -> AbstractContextManager[Source]:
        """A read transaction as a context manager."""

    @abstractmethod
    def last_seq(self) -> int: ...

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def size_bytes(self) -> int: ...

    @abstractmethod
    def store_id(self) -> str: ...

    @abstractmethod
    def close(self) -> None: ...

    # --- writing -------------------------------------------------------------------------

    def append(self, events: Event | Sequence[Event], *, ts_ns: int | None = None) -> list[int]:
        """Append one event or a batch in one durable transaction; returns their sequences."""
        return self._one(Request(events=as_events(events), ts_ns=ts_ns))

    def append_if(self, decide: Decide) -> list[int]:
        """Run ``decide(view)`` inside the write transaction and append what it returns.

        The view shows every projection as of this transaction (check and reserve in one
        step). ``decide`` must be a pure decision: it may run again if the map has to grow.
        """
        return self._one(Request(decide=decide))

    def append_records(
        self, envelopes: Iterable[Envelope], *, source_store_id: str = ""
    ) -> list[int]:
        """Import records: keep their time, schema and raw event; give them new sequences.

        Each gets the origin ``envelope.origin`` or ``"<source_store_id>/<envelope.seq>"``;
        one whose origin is already here (or is this store's own) is skipped. Returns the
        new sequences (skipped = given - returned).
        """
        return self._one(Request(envelopes=list(envelopes), source_store_id=source_store_id))

    def _one(self, request: Request) -> list[int]:
        result = self.commit([request])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def commit(self, requests: Sequence[Request]) -> list[list[int] | Exception]:
        """Apply several requests in one durable transaction (group commit).

        A request that fails on its own (its decider raised, an event is invalid) gets its
        exception as its result and adds nothing; the others go on.
        """
        with _no_gc():
            return self._transact(lambda txn: self._commit_body(txn, requests))

    def _commit_body(
        self, txn: WriteTxn, requests: Sequence[Request]
    ) -> list[list[int] | Exception]:
        state = State(txn.source)
        start = seq = txn.last_seq
        now = time.time_ns()
        results: list[list[int] | Exception] = []
        for req in requests:
            try:
                items, records, kinds = self._prepare(req, state, seq, now)
            except Exception as exc:
                results.append(exc)
                continue
            first = seq + 1
            if items:
                txn.put_log(items)
                seq += len(items)  # a request's records are gapless
                self._folder.fold(state, records, kinds, appended=kinds is not None)
            results.append(list(range(first, seq + 1)))
        if seq != start:
            self._folder.checkpoint(state, seq)
            for name, writes in state.writes(self._folder.tables):
                txn.write(name, writes, fresh=False)
        return results

    def _prepare(
        self, req: Request, state: State, seq: int, now: int
    ) -> tuple[list[tuple[bytes, bytes]], Sequence[Record], Counter[type] | None]:
        """The log items and Records of a request, and for fresh appends the count of each
        event type (``None`` for imports)."""
        if req.envelopes:
            return *self._prepare_import(req, state, seq), None
        events: Sequence[Event] = req.events
        if req.decide is not None:
            decided = req.decide(StoreView(state.source(self._folder.tables), self.cache_config))
            events = as_events(decided) if decided is not None else ()
        if not events:
            return [], [], None
        kinds = Counter(map(type, events))
        if not _EVENT_TYPES.issuperset(kinds):
            bad = next(e for e in events if type(e) not in _EVENT_TYPES)
            raise TypeError(
                f"cannot append {type(bad).__name__}: not an event of promptd.daemon.events"
            )
        ts = req.ts_ns if req.ts_ns is not None else now
        raws = list(map(_event_encoder.encode, events))
        unsure, unsure_raws = to_decode(events, raws, kinds)
        if unsure:
            _validate(unsure_raws, unsure)
        seqs = range(seq + 1, seq + 1 + len(raws))
        # C-level loops: zip builds each envelope's fields, map encodes them / builds Records
        envelopes = zip(seqs, repeat(ts), repeat(SCHEMA_VERSION), raws, repeat(""), strict=False)
        items = list(zip(map(_key, seqs), map(_envelope_encoder.encode, envelopes), strict=True))
        return items, _Appended(seqs, ts, events), kinds

    def _prepare_import(
        self, req: Request, state: State, seq: int
    ) -> tuple[list[tuple[bytes, bytes]], list[Record]]:
        own = self.store_id() + "/"
        seen: set[str] = set()
        items: list[tuple[bytes, bytes]] = []
        records: list[Record] = []
        for env in req.envelopes:
            origin = env.origin or (
                f"{req.source_store_id}/{env.seq}" if req.source_store_id else ""
            )
            if not origin:
                raise StoreError(
                    "an imported record has no origin and no source store id was "
                    "given; pass source_store_id= (the exporting store's id)"
                )
            if (
                origin.startswith(own)
                or origin in seen
                or state.get(ORIGINS, origin.encode()) is not None
            ):
                continue
            seen.add(origin)
            event = decode_event(env.event)
            seq += 1
            items.append(
                (
                    seq_key(seq),
                    _envelope_encoder.encode((seq, env.ts_ns, env.schema, env.event, origin)),
                )
            )
            records.append(
                Record(seq=seq, ts_ns=env.ts_ns, schema=env.schema, event=event, origin=origin)
            )
        return items, records

    # --- reading -------------------------------------------------------------------------

    def read_envelopes(self, start: int = 1, end: int | None = None) -> Iterator[Envelope]:
        """Stored envelopes with ``start <= seq < end`` (raw events: for export/backup)."""
        for raw in self._raw(start, end):
            yield decode_envelope(raw)

    def read_raw(self, start: int = 1, end: int | None = None) -> Iterator[bytes]:
        """The stored bytes of each record with ``start <= seq < end`` (copies, backups)."""
        return self._raw(start, end)

    def read(self, start: int = 1, end: int | None = None) -> Iterator[Record]:
        """Decoded records with ``start <= seq < end`` (``end=None``: to the last), in order.

        Reads in chunks of short read transactions, so iterating slowly holds nothing open.
        """
        for raw in self._raw(start, end):
            yield decode_record(raw)

    def read_from(self, seq: int) -> Iterator[Record]:
        """Records from ``seq`` on (catch-up)."""
        return self.read(seq, None)

    def _raw(self, start: int, end: int | None) -> Iterator[bytes]:
        nxt = max(1, start)
        while end is None or nxt < end:
            chunk: list[bytes] = []
            with self._reading() as src:
                for key, raw in src.scan(LOG_TABLE, b"", start=seq_key(nxt)):
                    seq = key_seq(key)
                    if (end is not None and seq >= end) or len(chunk) >= _READ_CHUNK:
                        break
                    chunk.append(raw)
                    nxt = seq + 1
            if not chunk:
                return
            yield from chunk

    @contextmanager
    def view(self) -> Iterator[StoreView]:
        """``with log.view() as v:`` a consistent read of every projection."""
        with self._reading() as src:
            yield StoreView(src, self.cache_config)

    # --- rebuild and verify --------------------------------------------------------------

    def rebuild(self, names: Iterable[str] | None = None) -> None:
        """Rebuild projections (all, or those named) from the log, in one transaction."""
        wanted = None if names is None else set(names)
        chosen = [p for p in self.projections if wanted is None or p.name in wanted]
        self._transact(lambda txn: self._rebuild_body(txn, chosen))

    def _rebuild_body(self, txn: WriteTxn, projections: list[Projection]) -> None:
        folder = Folder(projections)
        state = FreshState(folder.tables)
        with _no_gc():
            last = _fold_all(folder, state, txn.source)
            folder.checkpoint(state, last)
            for name in folder.table_names():
                if name != CHECKPOINTS.name:
                    txn.clear(name)
            for name, writes in state.writes(folder.tables):
                txn.write(name, writes, fresh=name != CHECKPOINTS.name)

    def projection_bytes(self) -> dict[str, list[tuple[bytes, bytes]]]:
        """Every projection table's stored items (for tests and diagnostics)."""
        with self._reading() as src:
            return {name: list(src.scan(name)) for name in self._folder.table_names()}

    def stale_projections(self, src: Source) -> list[str]:
        """Projections whose stored version or checkpoint does not match this code's."""
        last = 0
        for key, _ in src.scan(LOG_TABLE, reverse=True):
            last = key_seq(key)
            break
        out = []
        for proj in self.projections:
            raw = src.get(CHECKPOINTS.name, proj.name.encode())
            cp = None if raw is None else CHECKPOINTS.decode(raw)
            if cp is None or cp.version != proj.version_key() or cp.last_seq != last:
                out.append(proj.name)
        return out

    def verify(self) -> VerifyReport:
        """Check the log (gapless, every record decodes) and each projection against a
        fresh rebuild; name unknown event types."""
        report = VerifyReport()
        with self._reading() as src, _no_gc():
            state = FreshState(self._folder.tables)
            last, count, unknown = _fold_log(self._folder, state, src, report.problems)
            self._folder.checkpoint(state, last)
            report.differences = diff_all(self._folder, src, state)
        report.events, report.last_seq, report.unknown_types = count, last, dict(unknown)
        return report


class _Appended(Sequence[Record]):
    """The Records of freshly appended events, made when a fold first reads them: a batch
    that only the type counts concern (stats) never needs them."""

    __slots__ = ("_events", "_made", "_seqs", "_ts")

    def __init__(self, seqs: range, ts_ns: int, events: Sequence[Event]) -> None:
        self._seqs = seqs
        self._ts = ts_ns
        self._events = events
        self._made: list[Record] | None = None

    def _records(self) -> list[Record]:
        if self._made is None:
            ts, schema = repeat(self._ts), repeat(SCHEMA_VERSION)
            self._made = list(map(Record, self._seqs, ts, schema, self._events))
        return self._made

    def __len__(self) -> int:
        return len(self._seqs)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records())

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        return self._records()[index]


def _validate(raws: list[bytes], events: Sequence[Event]) -> None:
    """Check that every encoded event decodes as the event it claims to be: the log is
    forever, and a field of the wrong type must not get in (for a batch that
    the fast check of :mod:`.typecheck` cannot clear). One decode for the whole batch (a
    MessagePack array of them); only a failing batch is looked at event by event."""
    try:
        _batch_validator.decode(b"\xdd" + len(raws).to_bytes(4, "big") + b"".join(raws))
        return
    except msgspec.ValidationError:
        pass
    for raw, event in zip(raws, events, strict=True):
        try:
            _event_validator.decode(raw)
        except msgspec.ValidationError as exc:
            raise TypeError(
                f"cannot append {type(event).__name__}: {exc}; build events with the "
                "field types promptd.daemon.events declares"
            ) from exc


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a commit or a rebuild allocates objects that
    all stay alive until it ends (it would scan them again and again for nothing; what a
    commit leaves behind is freed by reference counting when it returns)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fold_all(folder: Folder, state: State, src: Source) -> int:
    """Fold every record of ``src``'s log into ``state`` (the rebuild's fast path); returns
    the last sequence. A record that does not decode stops it: the log needs attention."""
    batch: list[Record] = []
    rec: Record | None = None
    fold = folder.fold
    for key, raw in src.scan(LOG_TABLE):
        try:
            rec = decode_record(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise CorruptStoreError(
                f"record {key_seq(key)} does not decode ({exc}); run `promptd verify`, "
                "then restore a backup"
            ) from exc
        batch.append(rec)
        if len(batch) >= _FOLD_CHUNK:
            fold(state, batch)
            batch = []
    fold(state, batch)
    return 0 if rec is None else rec.seq


def _fold_log(
    folder: Folder, state: State, src: Source, problems: list[str]
) -> tuple[int, int, Counter[str]]:
    """Check and fold every record of ``src``'s log into ``state`` (verify's path: records
    that do not decode are listed in ``problems`` and skipped); (last seq, count, unknown
    types)."""
    expected, last, count = 1, 0, 0
    unknown: Counter[str] = Counter()
    found = problems
    batch: list[Record] = []

    def problem(text: str) -> None:
        if len(found) < _MAX_LISTED:
            found.append(text)
        elif len(found) == _MAX_LISTED:
            found.append("(more problems not listed)")

    for key, raw in src.scan(LOG_TABLE):
        count += 1
        if len(key) != 8:
            problem(f"a key of {len(key)} bytes is not a sequence number: {key.hex()}")
            continue
        seq = key_seq(key)
        if seq != expected:
            problem(
                f"gap: sequence {expected} is missing (next is {seq})"
                if seq > expected
                else f"sequence {seq} is out of order (expected {expected})"
            )
        expected, last = seq + 1, seq
        try:
            rec = decode_record(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            problem(f"record {seq} does not decode: {exc}")
            continue
        if rec.seq != seq:
            problem(f"record under key {seq} says it is sequence {rec.seq}")
        if isinstance(rec.event, UnknownEvent):
            unknown[rec.event.type] += 1
        batch.append(rec)
        if len(batch) >= _READ_CHUNK:
            folder.fold(state, batch)
            batch.clear()
    folder.fold(state, batch)
    return last, count, unknown

"""What every event log does, whatever holds its bytes: append, read, and hand each commit to
its folds.

A backend (LMDB, memory) supplies a write transaction (:class:`~.folds.WriteTxn`), a read
source, and a few facts (last sequence, count, size). This class does the rest, so both
backends keep the same contract and the same table bytes. What the views are, and how they
are rebuilt and verified, is the business of the :class:`~.folds.Folds` the log is opened
with: the log only calls them inside its transactions.
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
from typing import Generic, TypeVar, overload

import msgspec

from ..errors import StoreError
from ..events import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    Envelope,
    Event,
    Record,
    decode_envelope,
    decode_event,
    decode_record,
    key_seq,
    seq_key,
)
from .folds import LOG_TABLE, Folds, FoldTxn, Source, WriteTxn
from .report import VerifyReport
from .typecheck import to_decode

R = TypeVar("R")
V = TypeVar("V")
Decide = Callable[[V], Sequence[Event]]

_event_encoder = msgspec.msgpack.Encoder()
_envelope_encoder = msgspec.msgpack.Encoder()
_event_validator = msgspec.msgpack.Decoder(Event)
_batch_validator = msgspec.msgpack.Decoder(list[Event])
_READ_CHUNK = 1024
_EVENT_TYPES = frozenset(EVENT_TYPES)
_key = struct.Struct(">Q").pack


class Request(Generic[V]):
    """One unit of a (group) commit: events, a decider, or imported envelopes."""

    __slots__ = ("decide", "envelopes", "events", "source_store_id", "ts_ns")

    def __init__(
        self,
        *,
        events: Sequence[Event] = (),
        decide: Decide[V] | None = None,
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


class BaseEventLog(ABC, Generic[V]):
    """The event log contract; see :mod:`promptd.daemon.store`. ``V``: what ``view()`` gives
    (the folds' view)."""

    def __init__(self, folds: Folds[V]) -> None:
        self.folds = folds

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

    def append_if(self, decide: Decide[V]) -> list[int]:
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

    def _one(self, request: Request[V]) -> list[int]:
        result = self.commit([request])[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def commit(self, requests: Sequence[Request[V]]) -> list[list[int] | Exception]:
        """Apply several requests in one durable transaction (group commit).

        A request that fails on its own (its decider raised, an event is invalid) gets its
        exception as its result and adds nothing; the others go on.
        """
        with _no_gc():
            return self._transact(lambda txn: self._commit_body(txn, requests))

    def _commit_body(
        self, txn: WriteTxn, requests: Sequence[Request[V]]
    ) -> list[list[int] | Exception]:
        folding = self.folds.begin(txn.source)
        start = seq = txn.last_seq
        now = time.time_ns()
        results: list[list[int] | Exception] = []
        for req in requests:
            try:
                items, records, kinds = self._prepare(req, folding, seq, now)
            except Exception as exc:
                results.append(exc)
                continue
            first = seq + 1
            if items:
                txn.put_log(items)
                seq += len(items)  # a request's records are gapless
                folding.fold(records, kinds, appended=kinds is not None)
            results.append(list(range(first, seq + 1)))
        if seq != start:  # the views and their checkpoints go in with the records
            for name, writes in folding.writes(seq):
                txn.write(name, writes, fresh=False)
        return results

    def _prepare(
        self, req: Request[V], folding: FoldTxn[V], seq: int, now: int
    ) -> tuple[list[tuple[bytes, bytes]], Sequence[Record], Counter[type] | None]:
        """The log items and Records of a request, and for fresh appends the count of each
        event type (``None`` for imports)."""
        if req.envelopes:
            return *self._prepare_import(req, folding, seq), None
        events: Sequence[Event] = req.events
        if req.decide is not None:
            decided = req.decide(folding.view())
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
        self, req: Request[V], folding: FoldTxn[V], seq: int
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
            if origin.startswith(own) or origin in seen or folding.has_origin(origin):
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
    def view(self) -> Iterator[V]:
        """``with log.view() as v:`` a consistent read of every view the folds keep."""
        with self._reading() as src:
            yield self.folds.view(src)

    # --- upkeep (the folds do it, in the log's transactions) -----------------------------

    def rebuild(self, names: Iterable[str] | None = None) -> None:
        """Rebuild projections (all, or those named) from the log, in one transaction."""
        chosen = None if names is None else set(names)
        with _no_gc():
            self._transact(lambda txn: self.folds.rebuild(txn, chosen))

    def verify(self) -> VerifyReport:
        """Check the log (gapless, every record decodes) and each projection against a
        fresh rebuild; name unknown event types."""
        with self._reading() as src, _no_gc():
            return self.folds.verify(src)

    def projection_bytes(self) -> dict[str, list[tuple[bytes, bytes]]]:
        """Every table the folds own, with its stored items (for tests and diagnostics)."""
        with self._reading() as src:
            return {name: list(src.scan(name)) for name in sorted(self.folds.table_names())}


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

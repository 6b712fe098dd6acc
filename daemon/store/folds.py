"""What an event log is handed when it is opened: the folds that keep its views.

The log knows nothing of projections. As in pyeventsourcing/eventsourcing, where a recorder
stores events and the process applications that follow it are handed to it, the log stores
records and calls the :class:`Folds` it was opened with, inside its own write transaction:

* every commit: ``txn = folds.begin(source)``, then ``txn.fold(records)`` for each request,
  ``txn.view()`` for a decider, ``txn.has_origin(o)`` for an import, and at the end
  ``txn.writes(last_seq)``, which the log writes in the SAME transaction as the records
  (views and checkpoints are never behind or ahead of the log);
* at open: ``folds.table_names()`` (the named tables to create) and ``folds.stale(source)``
  (which of them to rebuild: a changed version, a checkpoint behind the log);
* upkeep: ``folds.rebuild(txn, names)`` and ``folds.verify(source)``;
* reads: ``folds.view(source)`` gives ``log.view()`` its value (of type ``V``).

promptd's folds are :class:`promptd.daemon.projections.Projections`; open a log with them in
one line with :func:`promptd.daemon.projections.open_log` (or ``open_async_log``,
``memory_log``).

The log's own tables: ``events`` (:data:`LOG_TABLE`: 8-byte big-endian sequence -> encoded
Envelope) and ``meta`` (:data:`META_TABLE`: ``store_id``, ``created_ns``). Every other table
belongs to the folds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar

from ..events import Record
from .report import VerifyReport

V_co = TypeVar("V_co", covariant=True)

LOG_TABLE = "events"  # the log itself: seq_key(seq) -> encoded Envelope
META_TABLE = "meta"  # the store's own facts: store_id, created_ns

Writes = list[tuple[bytes, bytes | None]]  # sorted by key; None deletes


class Source(Protocol):
    """Raw read access to stored tables (an LMDB transaction, or the memory log's dicts)."""

    def get(self, table: str, key: bytes) -> bytes | None: ...

    def scan(
        self,
        table: str,
        prefix: bytes = b"",
        *,
        start: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Items whose key starts with ``prefix``, in key order (or reversed); forward scans
        begin at the first key ``>= start`` when it is given."""
        ...


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

    def write(self, table: str, items: Writes, *, fresh: bool) -> None:
        """Apply sorted writes (``None`` deletes); ``fresh``: the table was just cleared."""
        ...

    def clear(self, table: str) -> None: ...


class FoldTxn(Protocol[V_co]):
    """The folds' part of one write transaction of the log."""

    def fold(
        self, records: Sequence[Record], kinds: Counter[type] | None, *, appended: bool
    ) -> None:
        """Fold ``records`` (in log order). ``kinds``: the count of each event type among
        them, when the log has it; ``appended``: fresh appends (no origin), not imports."""
        ...

    def view(self) -> V_co:
        """The views as of this transaction, what was folded so far included (deciders)."""
        ...

    def has_origin(self, origin: str) -> bool:
        """Whether an imported record with this origin is already in the log."""
        ...

    def writes(self, last_seq: int) -> Iterable[tuple[str, Writes]]:
        """Each table's changes (checkpoints at ``last_seq`` included), to write with the
        records."""
        ...


class Folds(Protocol[V_co]):
    """The views an event log keeps, and their upkeep; see the module doc."""

    def table_names(self) -> Collection[str]:
        """The named tables the folds own (created at open)."""
        ...

    def begin(self, source: Source) -> FoldTxn[V_co]:
        """Start folding into the tables of ``source`` (a write transaction's reads)."""
        ...

    def view(self, source: Source) -> V_co:
        """A read-only view of the tables of ``source``."""
        ...

    def stale(self, source: Source) -> list[str]:
        """Names of the folds whose stored version or checkpoint does not match the log."""
        ...

    def names(self) -> list[str]:
        """Every fold's name, in order."""
        ...

    def rebuild(self, txn: WriteTxn, names: Collection[str] | None = None) -> None:
        """Rebuild the folds named (all: ``None``) from the log, inside ``txn``."""
        ...

    def verify(self, source: Source) -> VerifyReport:
        """Check the log and compare every stored table with a fresh rebuild."""
        ...

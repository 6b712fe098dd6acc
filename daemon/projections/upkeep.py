"""Projection upkeep: which are stale, rebuilding them from the log, verifying them.

These run inside the log's transactions (the log calls them through
:class:`~promptd.daemon.store.Folds`: ``log.rebuild()``, ``log.verify()``, and at open), and
read the log's records from its ``events`` table like any other table.

* :func:`stale`: projections whose stored version or checkpoint does not match the log.
* :func:`rebuild`: fold the whole log into empty tables (no reads of the old ones), then
  replace them; the checkpoints say the last sequence folded.
* :func:`verify`: check the log (gapless, every record decodes), fold it into memory, and
  compare each stored table with that rebuild, key by key (:class:`TableDiff`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

import msgspec

from ..errors import CorruptStoreError
from ..events import Record, UnknownEvent, decode_record, key_seq
from ..store.folds import LOG_TABLE, Source, WriteTxn
from ..store.report import TableDiff, VerifyReport
from .base import CHECKPOINTS, FreshState, State
from .fold import Folder

_FOLD_CHUNK = 4096
_VERIFY_CHUNK = 1024
_MAX_LISTED = 20


def last_seq(source: Source) -> int:
    """The last sequence in the log of ``source`` (0: empty)."""
    for key, _ in source.scan(LOG_TABLE, reverse=True):
        return key_seq(key)
    return 0


def stale(folder: Folder, source: Source) -> list[str]:
    """Projections whose stored version or checkpoint does not match this code and log."""
    last = last_seq(source)
    out = []
    for proj in folder.projections:
        raw = source.get(CHECKPOINTS.name, proj.name.encode())
        cp = None if raw is None else CHECKPOINTS.decode(raw)
        if cp is None or cp.version != proj.version_key() or cp.last_seq != last:
            out.append(proj.name)
    return out


def rebuild(folder: Folder, txn: WriteTxn, names: Collection[str] | None = None) -> None:
    """Rebuild the projections named (all: ``None``) from the log, inside ``txn``."""
    if names is not None:
        folder = Folder([p for p in folder.projections if p.name in names])
    state = FreshState(folder.tables)
    last = fold_all(folder, state, txn.source)
    folder.checkpoint(state, last)
    for name in folder.table_names():
        if name != CHECKPOINTS.name:
            txn.clear(name)
    for name, writes in state.writes(folder.tables):
        txn.write(name, writes, fresh=name != CHECKPOINTS.name)


def verify(folder: Folder, source: Source) -> VerifyReport:
    """Check the log (gapless, every record decodes) and each projection against a fresh
    rebuild; name unknown event types."""
    report = VerifyReport()
    state = FreshState(folder.tables)
    last, count, unknown = _fold_log(folder, state, source, report.problems)
    folder.checkpoint(state, last)
    report.differences = diff_all(folder, source, state)
    report.events, report.last_seq, report.unknown_types = count, last, dict(unknown)
    return report


def fold_all(folder: Folder, state: State, source: Source) -> int:
    """Fold every record of ``source``'s log into ``state`` (the rebuild's fast path); returns
    the last sequence. A record that does not decode stops it: the log needs attention."""
    batch: list[Record] = []
    rec: Record | None = None
    fold = folder.fold
    for key, raw in source.scan(LOG_TABLE):
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
    folder: Folder, state: State, source: Source, problems: list[str]
) -> tuple[int, int, Counter[str]]:
    """Check and fold every record of ``source``'s log into ``state`` (verify's path: records
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

    for key, raw in source.scan(LOG_TABLE):
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
        if len(batch) >= _VERIFY_CHUNK:
            folder.fold(state, batch)
            batch.clear()
    folder.fold(state, batch)
    return last, count, unknown


def _show(key: bytes) -> str:
    text = key.decode("utf-8", "backslashreplace")
    return text if text.isprintable() else key.hex()


def diff_table(
    folder: Folder,
    table: str,
    stored: Iterable[tuple[bytes, bytes]],
    expected: list[tuple[bytes, bytes | None]],
    max_examples: int = 3,
) -> TableDiff | None:
    """Compare a stored table with the rebuild's sorted items (``None`` if they are equal)."""
    want = {k: v for k, v in expected if v is not None}
    missing = extra = changed = 0
    examples: list[str] = []
    for key, value in stored:
        exp = want.pop(key, None)
        if exp is None:
            extra += 1
            if len(examples) < max_examples:
                examples.append(f"extra key {_show(key)}")
        elif exp != value:
            changed += 1
            if len(examples) < max_examples:
                examples.append(f"key {_show(key)} differs")
    for key in want:
        missing += 1
        if len(examples) < max_examples:
            examples.append(f"missing key {_show(key)}")
    if not (missing or extra or changed):
        return None
    return TableDiff(
        projection=folder.owner(table),
        table=table,
        missing=missing,
        extra=extra,
        changed=changed,
        examples=examples,
    )


def diff_all(
    folder: Folder, source: Source, rebuilt: State, only: Iterable[str] | None = None
) -> list[TableDiff]:
    """Every table of ``folder`` in ``source`` compared with ``rebuilt``'s pending writes."""
    expected = dict(rebuilt.writes(folder.tables))
    out: list[TableDiff] = []
    names = folder.table_names() if only is None else sorted(only)
    for name in names:
        diff = diff_table(folder, name, source.scan(name), expected.get(name, []))
        if diff is not None:
            out.append(diff)
    return out

"""The output file of a batch: the input's format, each row gaining the result fields.

:class:`RowWriter` encodes the output one row at a time (a header, each row, a tail), so a
batch writes its results as they come, in row order, and never holds them all.
:class:`Spool` is the file they go to: a temporary file beside the output, renamed into place
when the batch completes (whole or not at all) and removed when it does not.
:func:`render` gives the whole output at once, for small files and tests.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Protocol

from ..events import BatchItemCompleted
from ..values import ticks_to_usd
from .formats import BOM, WHOLE_FILE, Item, Parsed, Row, fit_name

# Columns / fields every output row gains, in this order.
RESULT_FIELDS: Final[tuple[str, ...]] = (
    "optimized",
    "score_before",
    "score_after",
    "findings",
    "cost_usd",
    "cached",
    "degraded",
    "status",
    "error",
)


class Layout(Protocol):
    """What the output needs to know of the input (an :class:`~.formats.InboxFile` or a
    :class:`~.formats.Parsed`)."""

    @property
    def format(self) -> str: ...
    @property
    def bom(self) -> bool: ...
    @property
    def trailing_newline(self) -> bool: ...
    @property
    def header(self) -> list[str]: ...
    @property
    def delimiter(self) -> str: ...


def _usd(ticks: int) -> str:
    text = f"{ticks_to_usd(ticks):.10f}".rstrip("0").rstrip(".")
    return text or "0"


def _result_values(result: BatchItemCompleted | None, item: Item) -> dict[str, Any]:
    if result is None:  # never ran (a cancelled batch)
        return {
            "optimized": "",
            "score_before": None,
            "score_after": None,
            "findings": None,
            "cost_usd": 0.0,
            "cached": False,
            "degraded": False,
            "status": "error" if item.error else "cancelled",
            "error": item.error or "not run: the batch was cancelled",
        }
    ran = result.status in ("ok", "cached")
    return {
        "optimized": result.optimized if ran else "",
        "score_before": result.score_before if ran else None,
        "score_after": result.score_after if ran else None,
        "findings": result.findings if ran else None,
        "cost_usd": ticks_to_usd(result.cost_ticks),
        "cached": result.cached,
        "degraded": result.degraded,
        "status": result.status,
        "error": result.error,
    }


def _key(existing: Mapping[str, Any] | list[str], key: str) -> str:
    """The output name of a result field: prefixed when the input already uses the name."""
    names = {str(k).lower() for k in existing}
    return key if key.lower() not in names else f"promptd_{key}"


def _encode(text: str) -> bytes:
    # JSON keeps a lone surrogate as the escape it came in as (\ud800), not invalid UTF-8
    return text.encode("utf-8", "backslashreplace")


class RowWriter:
    """Encodes the output of one file: :meth:`head`, then :meth:`row` for each row in
    order, then :meth:`tail`; the bytes joined are the whole output file."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._rows = 0
        self._buf = io.StringIO(newline="")
        self._csv = csv.writer(self._buf, delimiter=layout.delimiter)

    def head(self) -> bytes:
        out = BOM if self.layout.bom else b""
        if self.layout.format == "csv":
            header = self.layout.header
            return out + self._csv_line([*header, *(_key(header, k) for k in RESULT_FIELDS)])
        if self.layout.format == "json":
            return out + b"[\n"
        return out

    def row(self, row: Row, result: BatchItemCompleted | None) -> bytes:
        """One row's output (a whole-file format has one row: the optimized text)."""
        self._rows += 1
        item, fmt = row.item, self.layout.format
        if fmt in WHOLE_FILE:
            return _encode(self._whole(item, result))
        values = _result_values(result, item)
        if fmt == "csv":
            cells = row.payload if isinstance(row.payload, list) else []
            return self._csv_line([*cells, *self._csv_cells(values, result)])
        obj = row.payload if isinstance(row.payload, dict) else {}
        joined = {**obj, **{_key(obj, k): v for k, v in values.items()}}
        if fmt == "jsonl":
            return _encode(json.dumps(joined, ensure_ascii=False) + "\n")
        # json: the same text as json.dumps(all_objects, indent=2), one element at a time
        text = json.dumps(joined, ensure_ascii=False, indent=2)
        element = "\n".join("  " + line for line in text.split("\n"))
        return _encode(("" if self._rows == 1 else ",\n") + element)

    def tail(self) -> bytes:
        if self.layout.format == "json":
            return b"\n]\n" if self._rows else b"[]\n"
        return b""

    def _whole(self, item: Item, result: BatchItemCompleted | None) -> str:
        if result is None or result.status not in ("ok", "cached") or not result.optimized:
            return item.prompt  # unchanged: the report says why
        text = result.optimized
        if self.layout.trailing_newline and not text.endswith("\n"):
            text += "\n"
        return text

    @staticmethod
    def _csv_cells(values: dict[str, Any], result: BatchItemCompleted | None) -> list[str]:
        extra = []
        for key in RESULT_FIELDS:
            value = values[key]
            if key == "cost_usd":
                extra.append(_usd(result.cost_ticks if result is not None else 0))
            elif isinstance(value, bool):
                extra.append("true" if value else "false")
            else:
                extra.append("" if value is None else str(value))
        return extra

    def _csv_line(self, cells: list[str]) -> bytes:
        self._buf.seek(0)
        self._buf.truncate()
        self._csv.writerow(cells)
        return _encode(self._buf.getvalue())


def render(parsed: Parsed, results: Mapping[int, BatchItemCompleted]) -> bytes:
    """The whole output file at once: the input's format, each row gaining the result fields."""
    writer = RowWriter(parsed)
    payloads: Iterable[list[str] | dict[str, Any] | None]
    if parsed.format == "csv":
        payloads = parsed.cells
    elif parsed.format in WHOLE_FILE:
        payloads = [None] * len(parsed.items)
    else:
        payloads = parsed.objects
    parts = [writer.head()]
    for item, payload in zip(parsed.items, payloads, strict=True):
        parts.append(writer.row(Row(item=item, payload=payload), results.get(item.index)))
    parts.append(writer.tail())
    return b"".join(parts)


class Spool:
    """The output being written: a temporary file beside ``path`` (mode 0600), renamed into
    place by :meth:`commit`. Each :meth:`write` goes on where the last one stopped, so a write
    that failed (a full disk) can simply be tried again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(
            fit_name(f".{path.name}", f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        )
        self._fd = -1
        self._pending = bytearray()

    def add(self, data: bytes) -> None:
        """Queue bytes for the next :meth:`write`."""
        self._pending += data

    @property
    def pending(self) -> int:
        return len(self._pending)

    def write(self) -> None:
        """Write what is queued (blocking: run it in a thread). On an error the bytes not
        written stay queued."""
        if self._fd < 0:
            self._fd = os.open(
                self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600
            )
        view = memoryview(self._pending)
        written = 0
        try:
            while written < len(view):
                written += os.write(self._fd, view[written:])
        finally:
            view.release()
            del self._pending[:written]

    def commit(self) -> None:
        """Write the rest, fsync and rename into place (blocking)."""
        self.write()
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        """Remove the temporary file (a batch that did not complete)."""
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1
        self._pending.clear()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


def remove_stale_spools(path: Path) -> None:
    """Remove temporary files of ``path`` left by a daemon that was killed mid-batch."""
    prefix, ours = f".{path.name}.", f".{path.name}.{os.getpid()}."
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            name = entry.name
            if name.startswith(prefix) and name.endswith(".tmp") and not name.startswith(ours):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)

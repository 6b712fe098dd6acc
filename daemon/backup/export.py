"""``promptd export``: the history in forms people, spreadsheets and ``promptd import`` read.

Formats:

* ``jsonl`` — every event, one JSON object a line (what ``import`` reads)::

    {"seq": 7, "at": "2026-11-27T10:00:00.123Z", "ts_ns": ..., "schema": 1,
     "origin": "STORE_ID/7", "event": {"type": "optimization.completed", ...}}

  ``origin`` names the event's first home (``store id/sequence``), so importing the same
  events twice, or into the home they came from, adds nothing. An event this version does not
  know also carries ``raw`` (its MessagePack, base64) so it survives the trip.
* ``csv`` — one row per optimization: time, type, engine, model, scores, cost, findings,
  original and optimized prompt. A text cell that a spreadsheet would take for a formula
  (starting with ``= + - @``) gets a leading ``'``; the JSON formats keep the exact text.
* ``json`` — one document: the optimizations (with scores, findings, changes, costs) and
  every event as in ``jsonl``.
* ``zip`` — ``events.jsonl`` + ``optimizations.csv`` + ``README.txt``.

Secrets: events never hold an API key, and as a second line of defence the value of every
provider key variable set in the environment is replaced by ``[redacted]`` wherever it
appears. The file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import zipfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import msgspec

from .. import __version__
from ..errors import BackupError
from ..events import OptimizationCompleted, Record, UnknownEvent
from ..paths import open_private
from ..values import ticks_to_usd

__all__ = ["FORMATS", "ExportSummary", "event_line", "export", "iso", "origin_of", "secret_values"]

FORMATS: Final = ("json", "jsonl", "csv", "zip")
FORMAT_NAME: Final = "promptd-export"
REDACTED: Final = "[redacted]"
KEY_VARIABLES: Final = ("XAI_API_KEY", "OPENAI_API_KEY")

CSV_COLUMNS: Final = (
    "id", "at", "source", "prompt_type", "engine", "model", "route",
    "score_before", "score_after", "changed", "cost_usd", "cached", "degraded",
    "findings", "finding_codes", "changes", "duration_ms", "batch_id", "original", "optimized",
)  # fmt: skip

_json: Final = msgspec.json.Encoder()


class ExportSummary(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    format: str
    events: int
    optimizations: int
    bytes: int
    encrypted: bool = False  # age-encrypted to [backup] encrypt_to


def secret_values(extra_variables: Sequence[str] = ()) -> list[str]:
    """The values of the provider key variables set now (only ones long enough to be keys)."""
    names = {*KEY_VARIABLES, *extra_variables}
    return sorted({v for n in names if len(v := os.environ.get(n, "")) >= 8}, key=len, reverse=True)


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def iso(ts_ns: int) -> str:
    """A record time as ISO 8601 UTC with milliseconds."""
    at = datetime.fromtimestamp(ts_ns / 1e9, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def origin_of(record: Record, store_id: str) -> str:
    """Where an event was first recorded: its own origin if imported, else ``store_id/seq``."""
    return record.origin or f"{store_id}/{record.seq}"


def event_line(record: Record, store_id: str, secrets: Sequence[str]) -> str:
    """One JSONL line (without the newline) for ``record``."""
    event = record.event
    line: dict[str, Any] = {
        "seq": record.seq,
        "at": iso(record.ts_ns),
        "ts_ns": record.ts_ns,
        "schema": record.schema,
        "origin": origin_of(record, store_id),
    }
    if isinstance(event, UnknownEvent):
        line["event"] = {"type": event.type}
        line["raw"] = base64.b64encode(event.raw).decode("ascii")
    else:
        line["event"] = event
    return _redact(_json.encode(line).decode("utf-8"), secrets)


def optimization_row(record: Record, event: OptimizationCompleted) -> dict[str, Any]:
    """The optimization in ``event`` as a flat, readable dict (the JSON export's item)."""
    before = event.score_before.total if event.score_before else 0
    after = event.score_after.total if event.score_after else 0
    return {
        "id": event.opt_id,
        "at": iso(record.ts_ns),
        "source": event.source,
        "prompt_type": event.prompt_type,
        "engine": event.engine,
        "model": event.model,
        "route": event.route,
        "score_before": before,
        "score_after": after,
        "scores_before": event.score_before,
        "scores_after": event.score_after,
        "changed": event.changed,
        "unchanged_reason": event.unchanged_reason,
        "cost_usd": ticks_to_usd(event.cost_ticks),
        "cost_ticks": event.cost_ticks,
        "cached": event.cached,
        "degraded": event.degraded,
        "degraded_reason": event.degraded_reason,
        "duration_ms": event.duration_ms,
        "batch_id": event.batch_id,
        "placeholders": event.placeholders,
        "findings": event.findings,
        "changes": event.changes,
        "original": event.original,
        "optimized": event.optimized,
    }


_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")
_NUMERIC_TEXT: Final = frozenset({"cost_usd"})


def _csv_row(row: dict[str, Any]) -> list[str]:
    out = []
    for column in CSV_COLUMNS:
        value = row.get(column)
        if column == "findings":
            value = len(row["findings"])
        elif column == "finding_codes":
            value = " ".join(f.code for f in row["findings"])
        elif column == "changes":
            value = len(row["changes"])
        elif column == "cost_usd":
            value = f"{row['cost_usd']:.6f}"
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, str) and column not in _NUMERIC_TEXT and value.startswith(_FORMULA):
            value = "'" + value  # a spreadsheet would run it as a formula
        out.append("" if value is None else str(value))
    return out


class _Writer:
    """Streams one export: events to a JSONL sink, optimizations to CSV and JSON lists."""

    def __init__(self, store_id: str, secrets: Sequence[str]) -> None:
        self.store_id = store_id
        self.secrets = secrets
        self.events = 0
        self.optimizations = 0

    def lines(self, records: Iterable[Record]) -> Iterable[tuple[str, dict[str, Any] | None]]:
        for record in records:
            self.events += 1
            row = None
            if isinstance(record.event, OptimizationCompleted):
                self.optimizations += 1
                row = optimization_row(record, record.event)
            yield event_line(record, self.store_id, self.secrets), row

    def csv_text(self, row: dict[str, Any]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow(_csv_row(row))
        return _redact(buf.getvalue(), self.secrets)

    def json_text(self, row: dict[str, Any]) -> str:
        return _redact(_json.encode(row).decode("utf-8"), self.secrets)


def _csv_header() -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(CSV_COLUMNS)
    return buf.getvalue()


def _readme(writer: _Writer, exported_at: str) -> str:
    return (
        f"promptd export\n==============\n\nExported {exported_at} by promptd {__version__} "
        f"from store {writer.store_id}.\n\n"
        f"events.jsonl       every event of the log ({writer.events}), one JSON object a line.\n"
        "                   Merge it into another home with:  promptd import FILE.zip\n"
        f"optimizations.csv  one row per optimization ({writer.optimizations}): time, type,\n"
        "                   engine, model, scores before/after, cost in USD, findings,\n"
        "                   the original and the optimized prompt. Opens in any spreadsheet.\n\n"
        "Times are UTC. Costs are USD. No API key is ever part of an export.\n"
    )


def _write(fmt: str, records: Iterable[Record], writer: _Writer, out: IO[bytes]) -> None:
    exported_at = iso(int(datetime.now(UTC).timestamp() * 1e9))
    if fmt == "jsonl":
        for line, _ in writer.lines(records):
            out.write(line.encode("utf-8") + b"\n")
    elif fmt == "csv":
        out.write(_csv_header().encode("utf-8"))
        for _, row in writer.lines(records):
            if row is not None:
                out.write(writer.csv_text(row).encode("utf-8"))
    elif fmt == "json":
        rows: list[str] = []
        head = {
            "format": FORMAT_NAME,
            "version": 1,
            "promptd_version": __version__,
            "exported_at": exported_at,
            "store_id": writer.store_id,
        }
        out.write(_json.encode(head)[:-1] + b',\n"events": [\n')
        first = True
        for line, row in writer.lines(records):
            out.write((b"" if first else b",\n") + line.encode("utf-8"))
            first = False
            if row is not None:
                rows.append(writer.json_text(row))
        out.write(b'\n],\n"optimizations": [\n')
        out.write(",\n".join(rows).encode("utf-8"))
        out.write(b"\n]}\n")
    else:  # zip
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            csv_buf = io.StringIO()
            csv_buf.write(_csv_header())
            with zf.open("events.jsonl", "w", force_zip64=True) as events:
                for line, row in writer.lines(records):
                    events.write(line.encode("utf-8") + b"\n")
                    if row is not None:
                        csv_buf.write(writer.csv_text(row))
            zf.writestr("optimizations.csv", csv_buf.getvalue())
            zf.writestr("README.txt", _readme(writer, exported_at))


def export(
    records: Iterable[Record],
    *,
    store_id: str,
    fmt: str,
    output: Path,
    key_variables: Sequence[str] = (),
    encrypt_to: Sequence[str] = (),
) -> ExportSummary:
    """Write ``records`` to ``output`` in ``fmt``; what was written.

    ``encrypt_to``: age public keys; the file is then age-encrypted to them (the plain text
    exists only as a 0600 temporary beside ``output`` while it is written)."""
    if fmt not in FORMATS:
        raise BackupError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    writer = _Writer(store_id, secret_values(key_variables))
    output = output.expanduser()
    if output.is_dir():
        raise BackupError(f"{output} is a folder; give a file name, e.g. {output}/promptd.{fmt}")
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(open_private(tmp), "wb") as out:
            _write(fmt, records, writer, out)
            out.flush()
            os.fsync(out.fileno())
        if encrypt_to:
            from . import crypto

            sealed = tmp.with_name(tmp.name + crypto.SUFFIX)
            try:
                crypto.encrypt_file(tmp, sealed, crypto.parse_recipients(encrypt_to))
            finally:
                tmp.unlink(missing_ok=True)
            tmp = sealed
        os.replace(tmp, output)
        size = output.stat().st_size
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise BackupError(f"cannot write {output}: {reason}; choose another --output") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return ExportSummary(
        path=str(output),
        format=fmt,
        events=writer.events,
        optimizations=writer.optimizations,
        bytes=size,
        encrypted=bool(encrypt_to),
    )

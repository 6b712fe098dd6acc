"""``promptd import``: read an export's events, refusing what cannot be read with line and reason.

Reads the ``jsonl``, ``json`` and ``zip`` exports (a ``csv`` export holds the history table but
not the events, so it cannot be merged). Every event is checked before anything is written:
one bad line refuses the whole file, naming the line and what is wrong with it.

Merging keeps each event's time and origin (``store id/sequence`` of its first home), and skips

* events whose origin the log already holds (importing twice adds nothing),
* events that came from this very store (importing your own export adds nothing),
* events about the exporting home's own machinery, which would be wrong here: its backups
  (``backup.*``), its budget settings (``budget.set``) and its provider breaker
  (``circuit.changed``).
"""

from __future__ import annotations

import base64
import binascii
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Final

import msgspec

from ..errors import BackupError
from ..events import TAGS, Event, encode_event
from .export import FORMAT_NAME

__all__ = ["LOCAL_ONLY_TAGS", "ImportRecord", "ParsedImport", "read_import"]

LOCAL_ONLY_TAGS: Final = frozenset(
    {
        "backup.created",
        "backup.failed",
        "backup.pruned",
        "backup.restored",
        "budget.set",
        "circuit.changed",
    }
)
ORIGIN_RE: Final = re.compile(r"^[^/\s]+/\d+$")
MAX_LINE_BYTES: Final = 64 * 1024 * 1024


class ImportRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One event ready to merge: its MessagePack, time, schema and origin."""

    tag: str
    event: bytes
    ts_ns: int
    schema: int
    origin: str

    @property
    def origin_store(self) -> str:
        return self.origin.split("/", 1)[0]


class ParsedImport(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    format: str
    records: list[ImportRecord]


class _Line(msgspec.Struct, kw_only=True):
    ts_ns: int
    origin: str
    event: msgspec.Raw
    schema: int = 1
    seq: int = 0
    raw: str | None = None


class _Tagged(msgspec.Struct):
    type: str


class _Doc(msgspec.Struct):
    format: str
    events: list[msgspec.Raw]


_line_decoder: Final = msgspec.json.Decoder(_Line)
_event_decoder: Final = msgspec.json.Decoder(Event)
_tag_decoder: Final = msgspec.json.Decoder(_Tagged)
_doc_decoder: Final = msgspec.json.Decoder(_Doc)


class _LineError(Exception):
    pass


def _reason(exc: msgspec.MsgspecError) -> str:
    text = str(exc)
    return text[0].lower() + text[1:] if text else "unreadable"


def parse_line(data: bytes | memoryview) -> ImportRecord:
    """One event line of an export; :class:`_LineError` with the reason when it is unusable."""
    try:
        line = _line_decoder.decode(data)
    except msgspec.ValidationError as exc:  # (a subclass of DecodeError: first)
        raise _LineError(_reason(exc)) from exc
    except msgspec.DecodeError as exc:
        raise _LineError(f"not a JSON object ({_reason(exc)})") from exc
    if line.ts_ns < 0:
        raise _LineError("ts_ns is negative")
    if line.schema < 1:
        raise _LineError(f"schema {line.schema} is not a schema version (1 or more)")
    if not ORIGIN_RE.match(line.origin):
        raise _LineError(f"origin {line.origin!r} is not 'STORE_ID/SEQ'")
    try:
        tag = _tag_decoder.decode(line.event).type
    except msgspec.MsgspecError as exc:
        raise _LineError(f"'event' has no type ({_reason(exc)})") from exc
    if tag in TAGS:
        try:
            event = _event_decoder.decode(line.event)
        except msgspec.ValidationError as exc:
            raise _LineError(f"{tag} event: {_reason(exc)}") from exc
        payload = encode_event(event)
    elif line.raw is not None:
        try:
            payload = base64.b64decode(line.raw, validate=True)
        except binascii.Error as exc:
            raise _LineError(f"'raw' of the {tag} event is not base64") from exc
    else:
        raise _LineError(
            f"event type {tag!r} is unknown to this promptd and the line has no 'raw' bytes; "
            "upgrade promptd or export again with it"
        )
    return ImportRecord(
        tag=tag, event=payload, ts_ns=line.ts_ns, schema=line.schema, origin=line.origin
    )


def _jsonl(stream: Iterable[bytes], where: str) -> Iterator[ImportRecord]:
    for number, raw in enumerate(stream, start=1):
        text = raw.strip()
        if number == 1 and text.startswith(b"\xef\xbb\xbf"):
            text = text[3:]
        if not text:
            continue
        if len(text) > MAX_LINE_BYTES:
            raise BackupError(f"{where}, line {number}: longer than 64 MiB; this is not an export")
        try:
            yield parse_line(text)
        except _LineError as exc:
            raise BackupError(f"{where}, line {number}: {exc}; nothing was imported") from exc


def _from_json(data: bytes, where: str) -> list[ImportRecord]:
    try:
        doc = _doc_decoder.decode(data)
    except msgspec.MsgspecError as exc:
        raise BackupError(
            f"{where}: not a promptd JSON export ({_reason(exc)}); nothing was imported"
        ) from exc
    if doc.format != FORMAT_NAME:
        raise BackupError(f"{where}: format is {doc.format!r}, not {FORMAT_NAME!r}")
    out = []
    for index, raw in enumerate(doc.events):
        try:
            out.append(parse_line(raw))
        except _LineError as exc:
            raise BackupError(f"{where}, events[{index}]: {exc}; nothing was imported") from exc
    return out


def _sniff(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if suffix == "csv":
        return "csv"
    if suffix in ("json", "jsonl"):
        return suffix
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" if stripped.startswith(b'{"format"') else "jsonl"


def _read_zip(fh: IO[bytes], where: str) -> list[ImportRecord]:
    try:
        with zipfile.ZipFile(fh) as zf:
            try:
                member = zf.open("events.jsonl")
            except KeyError as exc:
                raise BackupError(
                    f"{where} holds no events.jsonl; is it a promptd export (--format zip)?"
                ) from exc
            with member:
                return list(_jsonl(member, f"{where}:events.jsonl"))
    except zipfile.BadZipFile as exc:
        raise BackupError(f"{where} is not a readable zip file ({exc})") from exc


def read_import(path: Path) -> ParsedImport:
    """Read and check every event of the export at ``path`` (nothing is written)."""
    where = str(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
            fmt = _sniff(path, head)
            fh.seek(0)
            if fmt == "csv":
                raise BackupError(
                    f"{where} is a CSV export: it holds the history table, not the events; "
                    "import the .jsonl, .json or .zip export instead"
                )
            if fmt == "zip":
                records = _read_zip(fh, where)
            elif fmt == "json":
                records = _from_json(fh.read(), where)
            else:
                records = list(_jsonl(fh, where))
    except FileNotFoundError as exc:
        raise BackupError(f"{where}: no such file") from exc
    except IsADirectoryError as exc:
        raise BackupError(f"{where} is a folder; give the export file") from exc
    except UnicodeDecodeError as exc:
        raise BackupError(f"{where}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise BackupError(f"cannot read {where}: {exc.strerror or exc}") from exc
    return ParsedImport(path=where, format=fmt, records=records)

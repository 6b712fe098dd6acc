"""Inbox file formats: parse a dropped file into prompts, write the results in the same format.

* ``.txt`` / ``.md`` / ``.prompt``: the whole text is one prompt.
* ``.json``: an array of strings or of objects ``{"prompt": ..., "type"?: ..., "id"?: ...}``.
* ``.jsonl``: one such string or object per line.
* ``.csv``: a header row with a ``prompt`` column (optional ``type`` and ``id``); every other
  column is carried through to the output unchanged.

Text must be UTF-8, with or without a BOM. A file that cannot be used at all raises
:class:`~promptd.daemon.errors.InboxError` whose message says what is wrong and how to fix it;
one bad row in a good file becomes an :class:`Item` with ``error`` set, and only that row
fails. A JSON string with a lone surrogate (``"\\ud800"``), a value nested too deeply or a
number too long for Python fails its row (JSONL) or the file (JSON) with such a message, never
the daemon; a CSV cell may be as long as the file.

Files are read as a stream of :class:`Row` (:func:`open_file`, then :func:`rows` as often as
needed), so a 100,000-row file is never held as 100,000 parsed rows: only its bytes (at most
``inbox.max_file_bytes``) stay in memory while its batch runs. A ``.json`` array is the one
format parsed whole at each pass (JSON has no row boundaries); that too is bounded by
``inbox.max_file_bytes``. :func:`parse` gives every row at once, for small files and tests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Final

from ..errors import InboxError
from ..values import PROMPT_TYPES

FORMATS: Final[tuple[str, ...]] = ("txt", "md", "prompt", "json", "jsonl", "csv")
WHOLE_FILE: Final[frozenset[str]] = frozenset({"txt", "md", "prompt"})
TYPES: Final[frozenset[str]] = frozenset({"auto", *PROMPT_TYPES})
BOM: Final = b"\xef\xbb\xbf"  # UTF-8's byte-order mark: read past, written back
_JSON_HINT: Final = (
    'expected an array like ["first prompt", {"prompt": "second", "type": "code", "id": "a1"}]'
)
_JSONL_HINT: Final = 'one prompt per line, each a JSON string or {"prompt": "...", "id": "..."}'


@dataclass(frozen=True, slots=True)
class Item:
    """One prompt of a file. ``error`` set: the row is unusable and is not sent."""

    index: int
    prompt: str
    prompt_type: str = ""  # "" = the batch's type
    item_id: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed inbox file: its items plus what is needed to write results in its format."""

    format: str
    items: list[Item]
    bom: bool = False
    trailing_newline: bool = False  # whole-file formats: keep the file's last newline
    # csv: the header as written, the delimiter, and each item's cells
    header: list[str] = field(default_factory=list)
    delimiter: str = ","
    cells: list[list[str]] = field(default_factory=list)
    # json / jsonl: each item's original object (strings become {"prompt": s})
    objects: list[dict[str, Any]] = field(default_factory=list)


def format_of(name: str) -> str | None:
    """The format of a file name by its extension, or None when it is not an inbox format."""
    suffix = PurePath(name).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else None


NAME_MAX: Final = 255  # bytes in one file name (ext4, APFS, NTFS...)


def fit_name(stem: str, tail: str) -> str:
    """``stem + tail`` cut to fit in :data:`NAME_MAX` bytes: a stem too long loses its end
    and gains ``~`` and 8 hex digits of its hash, so long names stay distinct."""
    if len((stem + tail).encode("utf-8", "surrogateescape")) <= NAME_MAX:
        return stem + tail
    digest = hashlib.sha256(stem.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    room = NAME_MAX - len(tail.encode("utf-8", "surrogateescape")) - 9
    cut = stem.encode("utf-8", "surrogateescape")[: max(room, 1)]
    return cut.decode("utf-8", "ignore") + "~" + digest + tail


def _numbered(name: str, n: int) -> str:
    stem = PurePath(name).stem
    return stem if n <= 1 else f"{stem}-{n}"


def output_name(name: str, n: int = 1) -> str:
    """``prompts.csv`` -> ``prompts.optimized.csv``; run ``n`` > 1: ``prompts-2.optimized.csv``
    (the inbox takes the first ``n`` whose output and report are both free)."""
    return fit_name(_numbered(name, n), f".optimized{PurePath(name).suffix}")


def report_name(name: str, n: int = 1) -> str:
    """``prompts.csv`` -> ``prompts.report.md``; run ``n`` > 1: ``prompts-2.report.md``."""
    return fit_name(_numbered(name, n), ".report.md")


def report_for(output: str, name: str) -> str:
    """The report that goes with the output file ``output`` of input ``name``."""
    for n in range(1, 100_000):
        if output_name(name, n) == output:
            return report_name(name, n)
    return fit_name(PurePath(output).stem, ".report.md")


def error_name(name: str) -> str:
    """``prompts.csv`` -> ``prompts.csv.error.txt`` (beside the file in ``inbox/failed/``)."""
    return fit_name(PurePath(name).name, ".error.txt")


def has_surrogates(text: str) -> bool:
    """True when ``text`` holds a lone surrogate (``"\\ud800"`` in JSON): not Unicode text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def printable(text: str) -> str:
    """``text`` safe to store and show: lone surrogates written as ``\\udXXX`` escapes."""
    if not has_surrogates(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# --- reading ---------------------------------------------------------------------------------


def check_size(name: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise InboxError(
            f"{name}: the file is {_mb(size)}, over the inbox limit of {_mb(max_bytes)}; "
            "split it into smaller files, or raise inbox.max_file_bytes in config.toml"
        )


def decode_text(name: str, data: bytes) -> tuple[str, bool]:
    """UTF-8 text (BOM removed) and whether there was a BOM; a clear error otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InboxError(
            f"{name}: the file is UTF-16, not UTF-8; save it as UTF-8 and drop it again"
        )
    bom = data.startswith(BOM)
    try:
        text = data[len(BOM) :].decode("utf-8") if bom else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start + (len(BOM) if bom else 0)
        line = data.count(b"\n", 0, start) + 1
        raise InboxError(
            f"{name}: not UTF-8 text (byte 0x{data[start]:02x} at line {line}, byte offset "
            f"{start}); save the file as UTF-8 (with or without BOM) and drop it again"
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise InboxError(
            f"{name}: the file contains a NUL byte at line {line}, so it looks binary; "
            "inbox files are UTF-8 text (txt, md, prompt, json, jsonl, csv)"
        )
    return text, bom


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a file as read: its item, and what the output needs to write it back."""

    item: Item
    # csv: the row's cells (padded to the header); json / jsonl: the original object
    # (strings become {"prompt": s}); whole-file formats: None
    payload: list[str] | dict[str, Any] | None = None
    invalid: bool = False  # jsonl: the line is not JSON at all


@dataclass(frozen=True, slots=True)
class InboxFile:
    """A checked inbox file: its bytes, its format and how many prompts it holds.

    :func:`rows` reads the rows again from ``data`` at each pass; nothing per row is kept.
    """

    name: str
    format: str
    data: bytes
    count: int
    bom: bool = False
    trailing_newline: bool = False  # whole-file formats: keep the file's last newline
    header: list[str] = field(default_factory=list)  # csv: the header as written
    delimiter: str = ","


def open_file(name: str, data: bytes, max_bytes: int) -> InboxFile:
    """Check one inbox file by its extension and count its prompts (one pass, nothing kept).

    Raises InboxError, saying what is wrong and how to fix it, when it cannot be used."""
    fmt = format_of(name)
    if fmt is None:
        raise InboxError(
            f"{name}: not an inbox format; use one of " + ", ".join("." + f for f in FORMATS)
        )
    check_size(name, len(data), max_bytes)
    text, bom = decode_text(name, data)
    if fmt in WHOLE_FILE:
        if not text.strip():
            raise InboxError(f"{name}: the file is empty; write the prompt in it and drop it again")
        return InboxFile(
            name=name,
            format=fmt,
            data=data,
            count=1,
            bom=bom,
            trailing_newline=text.endswith("\n"),
        )
    del text  # checked; rows are decoded again as a stream
    header: list[str] = []
    delimiter = ","
    count = invalid = 0
    first_error = ""
    if fmt == "csv":
        header, delimiter = _csv_header(name, data)
    for row in _rows(name, fmt, data, delimiter):
        count += 1
        if row.invalid:
            invalid += 1
            first_error = first_error or row.item.error
    if fmt == "jsonl" and count and invalid == count:
        raise InboxError(
            f"{name}: no line is valid JSON (first: {first_error}); "
            f"a .jsonl file holds {_JSONL_HINT}"
        )
    if not count:
        raise InboxError(f"{name}: the file holds no prompts; add at least one and drop it again")
    return InboxFile(
        name=name,
        format=fmt,
        data=data,
        count=count,
        bom=bom,
        header=header,
        delimiter=delimiter,
    )


def rows(file: InboxFile) -> Iterator[Row]:
    """The rows of a file checked by :func:`open_file`, in order, read again from its bytes."""
    if file.format in WHOLE_FILE:
        text, _ = decode_text(file.name, file.data)
        yield Row(item=Item(index=0, prompt=text))
        return
    yield from _rows(file.name, file.format, file.data, file.delimiter)


def parse(name: str, data: bytes, max_bytes: int) -> Parsed:
    """Parse one inbox file by its extension, every row at once (small files and tests; a
    batch reads its rows as a stream). Raises InboxError when it cannot be used."""
    file = open_file(name, data, max_bytes)
    items: list[Item] = []
    cells: list[list[str]] = []
    objects: list[dict[str, Any]] = []
    for row in rows(file):
        items.append(row.item)
        if isinstance(row.payload, list):
            cells.append(row.payload)
        elif isinstance(row.payload, dict):
            objects.append(row.payload)
    return Parsed(
        format=file.format,
        items=items,
        bom=file.bom,
        trailing_newline=file.trailing_newline,
        header=file.header,
        delimiter=file.delimiter,
        cells=cells,
        objects=objects,
    )


def _text_stream(data: bytes) -> io.TextIOWrapper:
    """The bytes as text read line by line (BOM dropped, line ends kept as written)."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def _rows(name: str, fmt: str, data: bytes, delimiter: str) -> Iterator[Row]:
    if fmt == "json":
        yield from _json_rows(name, data)
    elif fmt == "jsonl":
        yield from _jsonl_rows(data)
    else:
        yield from _csv_rows(name, data, delimiter)


class _Unusable(ValueError):
    """A JSON value Python can parse but no prompt can come from (message says why)."""


def _loads(text: str) -> Any:
    """``json.loads`` that turns Python's limits into a plain :class:`_Unusable`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise _Unusable(
            "the JSON is nested too deeply (arrays or objects inside each other hundreds of "
            "levels down); a prompt file needs one level: a list of strings or objects"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise _Unusable(f"a value Python cannot read ({exc}); write long ids as strings") from None


def _item(index: int, value: object, where: str) -> tuple[Item, dict[str, Any]]:
    """An item from one JSON value (a string or an object with ``prompt``)."""
    if isinstance(value, str):
        obj: dict[str, Any] = {"prompt": value}
        return _checked(Item(index=index, prompt=value), where), obj
    if not isinstance(value, dict):
        kind = type(value).__name__ if value is not None else "null"
        return Item(
            index=index,
            prompt="",
            error=f'{where}: expected a string or an object with a "prompt" field, got {kind}',
        ), {"value": value}
    prompt = value.get("prompt")
    raw_id = value.get("id", "")
    item_id = "" if raw_id is None else printable(str(raw_id))
    raw_type = value.get("type", "")
    if not isinstance(prompt, str):
        got = 'no "prompt" field' if prompt is None else 'a "prompt" that is not a string'
        return Item(
            index=index, prompt="", item_id=item_id, error=f"{where}: the object has {got}"
        ), value
    if not isinstance(raw_type, str):
        return Item(
            index=index,
            prompt=prompt,
            item_id=item_id,
            error=f'{where}: "type" must be a string, one of {_types()}',
        ), value
    return _checked(
        Item(index=index, prompt=prompt, prompt_type=raw_type.strip().lower(), item_id=item_id),
        where,
    ), value


def _checked(item: Item, where: str) -> Item:
    if has_surrogates(item.prompt):
        return _with_error(
            Item(index=item.index, prompt=printable(item.prompt), item_id=item.item_id),
            f"{where}: the prompt holds a lone surrogate escape such as \\ud800, which is "
            "not text; fix that escape (a pair like \\ud83d\\ude00 is fine)",
        )
    if not item.prompt.strip():
        return _with_error(item, f"{where}: the prompt is empty")
    if item.prompt_type and item.prompt_type not in TYPES:
        return _with_error(
            item, f"{where}: unknown type {item.prompt_type!r}; use one of {_types()}"
        )
    return item


def _with_error(item: Item, error: str) -> Item:
    return Item(
        index=item.index,
        prompt=item.prompt,
        prompt_type=item.prompt_type,
        item_id=item.item_id,
        error=error,
    )


def _types() -> str:
    return ", ".join(("auto", *PROMPT_TYPES))


def _json_rows(name: str, data: bytes) -> Iterator[Row]:
    # JSON has no row boundaries: the array is parsed whole (bounded by max_file_bytes)
    text, _ = decode_text(name, data)
    try:
        value = _loads(text)
    except json.JSONDecodeError as exc:
        raise InboxError(
            f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}; "
            f"fix it ({_JSON_HINT}) and drop the file again"
        ) from None
    except _Unusable as exc:
        raise InboxError(f"{name}: {exc}; fix it and drop the file again") from None
    del text
    if not isinstance(value, list):
        got = "an object" if isinstance(value, dict) else f"a {type(value).__name__}"
        raise InboxError(f"{name}: the JSON is {got}; {_JSON_HINT}")
    for index, element in enumerate(value):
        item, obj = _item(index, element, f"item {index + 1}")
        yield Row(item=item, payload=obj)


def _lines(data: bytes) -> Iterator[str]:
    """The lines of the text as ``str.splitlines`` cuts them, read as a stream."""
    for chunk in _text_stream(data):
        yield from chunk.splitlines()


def _jsonl_rows(data: bytes) -> Iterator[Row]:
    index = 0
    for lineno, line in enumerate(_lines(data), start=1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except (json.JSONDecodeError, _Unusable) as exc:
            error = (
                f"line {lineno} column {exc.colno}: invalid JSON: {exc.msg}"
                if isinstance(exc, json.JSONDecodeError)
                else f"line {lineno}: {exc}"
            )
            item = Item(index=index, prompt="", error=error)
            yield Row(item=item, payload={"line": lineno}, invalid=True)
        else:
            item, obj = _item(index, value, f"line {lineno}")
            yield Row(item=item, payload=obj)
        index += 1


def _sniff_delimiter(first_line: str) -> str:
    for delimiter in (",", ";", "\t"):
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:  # a lone CR or an open quote: the full parse says what is wrong
            continue
        if any(c.strip().lower() == "prompt" for c in cells):
            return delimiter
    return ","


def _csv_reader(name: str, data: bytes, delimiter: str) -> Any:
    # A cell may be as long as the file (the engine then refuses an over-long prompt for that
    # row alone); Python's default limit of 131,072 characters would fail the whole file.
    if csv.field_size_limit() < len(data):
        csv.field_size_limit(min(max(len(data), 1 << 17), sys.maxsize))
    return csv.reader(_text_stream(data), delimiter=delimiter, strict=True)


def _csv_error(name: str, line: int, exc: csv.Error) -> InboxError:
    return InboxError(
        f"{name}: invalid CSV at line {line}: {exc}; check the quoting on that "
        "line (a cell with a quote, comma or newline must be in double quotes, and a quote "
        'inside is written "")'
    )


def _csv_header(name: str, data: bytes) -> tuple[list[str], str]:
    """The header row and the delimiter (``,``, ``;`` or tab: the one that shows ``prompt``)."""
    first = next(iter(_text_stream(data)), "")
    delimiter = _sniff_delimiter((first.splitlines() or [""])[0])
    reader = _csv_reader(name, data, delimiter)
    try:
        header: list[str] | None = next(reader, None)
    except csv.Error as exc:
        raise _csv_error(name, reader.line_num, exc) from None
    if header is None:
        raise InboxError(
            f'{name}: the file is empty; a CSV needs a header row with a "prompt" column'
        )
    if "prompt" not in [h.strip().lower() for h in header]:
        found = ", ".join(repr(h) for h in header) or "none"
        raise InboxError(
            f'{name}: the CSV has no "prompt" column (columns found: {found}); '
            "add a header row whose prompt column is named prompt "
            "(optional columns: type, id)"
        )
    return header, delimiter


def _csv_rows(name: str, data: bytes, delimiter: str) -> Iterator[Row]:
    reader = _csv_reader(name, data, delimiter)
    try:
        header: list[str] = next(reader)
        lowered = [h.strip().lower() for h in header]
        at = {col: lowered.index(col) for col in ("prompt", "type", "id") if col in lowered}
        index = 0
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            where = f"row {index + 1} (line {reader.line_num})"
            if len(row) > len(header):
                error = (
                    f"{where}: {len(row)} cells but the header has {len(header)}; "
                    "quote cells that contain the delimiter"
                )
                yield Row(
                    item=Item(index=index, prompt="", error=error), payload=row[: len(header)]
                )
            else:
                row = row + [""] * (len(header) - len(row))
                item = Item(
                    index=index,
                    prompt=row[at["prompt"]],
                    prompt_type=row[at["type"]].strip().lower() if "type" in at else "",
                    item_id=row[at["id"]].strip() if "id" in at else "",
                )
                yield Row(item=_checked(item, where), payload=row)
            index += 1
    except csv.Error as exc:
        raise _csv_error(name, reader.line_num, exc) from None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size} bytes"

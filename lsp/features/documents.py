"""Open documents and position conversion.

LSP positions count lines split at ``\\n``, ``\\r\\n`` and ``\\r`` only, and characters in
the negotiated encoding's code units (UTF-16 unless the client asked otherwise). Everything
inside the server works on code-point offsets into the document text; this module is the
one place that converts, with a line index built once per document version.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from lsprotocol import types

_NEWLINE = re.compile(r"\r\n|\r|\n")


def _units(text: str, encoding: str) -> int:
    """How many code units of ``encoding`` the code points of ``text`` take."""
    if text.isascii() or encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


class LineIndex:
    """Line starts of one text, for offset <-> position conversion."""

    __slots__ = ("_ends", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self._ends: list[int] = []  # offset of each line's terminator (or len(text))
        for match in _NEWLINE.finditer(text):
            self._ends.append(match.start())
            self.starts.append(match.end())
        self._ends.append(len(text))

    def edited(self, start: int, end: int, inserted: str) -> LineIndex:
        """The index of the text with ``text[start:end]`` replaced by ``inserted``: shifted
        when no line break changes (typing within a line), else built afresh."""
        text = self.text[:start] + inserted + self.text[end:]
        if (
            "\n" in inserted
            or "\r" in inserted
            or (start > 0 and self.text[start - 1] == "\r")
            or _NEWLINE.search(self.text, start, end) is not None
        ):
            return LineIndex(text)
        delta = len(inserted) - (end - start)
        line = self.line_of(start)
        index = LineIndex.__new__(LineIndex)
        index.text = text
        index.starts = self.starts[: line + 1] + [s + delta for s in self.starts[line + 1 :]]
        index._ends = self._ends[:line] + [e + delta for e in self._ends[line:]]
        return index

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def line_text(self, line: int) -> str:
        return self.text[self.starts[line] : self._ends[line]]

    def position(
        self, offset: int, encoding: str = types.PositionEncodingKind.Utf16
    ) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self.starts[line]
        column = min(offset, self._ends[line]) - start
        return types.Position(
            line=line, character=_units(self.text[start : start + column], encoding)
        )

    def range(
        self, start: int, end: int, encoding: str = types.PositionEncodingKind.Utf16
    ) -> types.Range:
        return types.Range(start=self.position(start, encoding), end=self.position(end, encoding))

    def offset(
        self, position: types.Position, encoding: str = types.PositionEncodingKind.Utf16
    ) -> int:
        """The code-point offset of ``position``; out-of-range values are clamped."""
        if position.line < 0:
            return 0
        if position.line >= len(self.starts):
            return len(self.text)
        start = self.starts[position.line]
        line = self.text[start : self._ends[position.line]]
        want = max(0, position.character)
        if line.isascii() or encoding == types.PositionEncodingKind.Utf32:
            return start + min(want, len(line))
        units = 0
        for index, ch in enumerate(line):
            if units >= want:
                return start + index
            units += _units(ch, encoding)
        return start + len(line)

    def offsets(
        self, rng: types.Range, encoding: str = types.PositionEncodingKind.Utf16
    ) -> tuple[int, int]:
        start = self.offset(rng.start, encoding)
        end = self.offset(rng.end, encoding)
        return (start, end) if start <= end else (end, start)


def range_json(rng: types.Range) -> dict[str, dict[str, int]]:
    """``rng`` as plain JSON, for command arguments and action data the client echoes."""
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def uri_path(uri: str) -> PurePosixPath:
    """The path part of a URI (``file:///a/b.py`` -> ``/a/b.py``), for language detection."""
    parsed = urlparse(uri)
    return PurePosixPath(unquote(parsed.path or uri))


@dataclass(slots=True)
class Document:
    """One open document: its text, version and language."""

    uri: str
    text: str
    language_id: str = ""
    version: int = 0
    _index: LineIndex | None = field(default=None, repr=False)

    @property
    def index(self) -> LineIndex:
        if self._index is None or self._index.text is not self.text:
            self._index = LineIndex(self.text)
        return self._index

    @property
    def path(self) -> PurePosixPath:
        return uri_path(self.uri)

    def apply(
        self,
        changes: list[types.TextDocumentContentChangeEvent],
        version: int,
        encoding: str = types.PositionEncodingKind.Utf16,
        on_edit: Callable[[str, int, int, str], None] | None = None,
    ) -> None:
        """Apply didChange content changes in order (full or incremental); ``on_edit`` hears
        each partial one as (text before, start, end, inserted), in code-point offsets."""
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start, end = self.index.offsets(change.range, encoding)
                if on_edit is not None:
                    on_edit(self.text, start, end, change.text)
                self._index = self.index.edited(start, end, change.text)
                self.text = self._index.text
            else:
                if on_edit is not None:
                    on_edit(self.text, -1, -1, change.text)
                self.text = change.text
        self.version = version


class Documents:
    """The open documents by URI."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def open(self, uri: str, text: str, language_id: str, version: int) -> Document:
        doc = Document(uri=uri, text=text, language_id=language_id, version=version)
        self._docs[uri] = doc
        return doc

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._docs.values()))

"""What detection finds: a prompt in a document, and how its literal is written."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Piece:
    """One literal token: ``start``/``end`` cover prefix and quotes (document offsets)."""

    start: int
    end: int
    prefix: str = ""  # as written: "", "r", "F", "rb", ... (JS: the tag of a template)
    quote: str = '"'  # ' " ''' """ ` (markdown: the fence, or "" for a whole file)
    column: int = 0  # code-point column of ``start`` on its line
    line_indent: str = ""  # leading whitespace of the line ``start`` is on
    own_line: bool = False  # nothing but whitespace before it on its line


@dataclass(frozen=True, slots=True)
class Style:
    """Everything needed to write new text back as the same kind of literal."""

    language: str  # python | javascript | typescript | tsx | markdown
    pieces: tuple[Piece, ...]
    kind: str = "string"  # string | template | jsx | file | fence
    fields: tuple[str, ...] = ()  # f-string / ${} fields, verbatim (content keeps them)
    lead: str = ""  # whitespace before the content inside the literal (kept on rewrite)
    trail: str = ""  # whitespace after the content inside the literal
    indent: str = ""  # common indentation removed from the content's lines
    first_line_exempt: bool = True  # the first content line carries no ``indent``
    eol: str = "\n"  # the document's line ending


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt found in a document.

    ``start``/``end`` are document offsets (code points) of the text an edit replaces;
    ``content`` is the prompt text the engine sees; ``offsets[i]`` is the document offset
    of ``content[i]`` (one extra entry for the end), so findings map back to ranges.
    """

    start: int
    end: int
    content: str
    offsets: Sequence[int]
    style: Style
    reason: str  # name | role | marker | natural | file | fence | selection
    name: str = ""  # the name, key or call that says it is a prompt
    editable: bool = True
    why_not: str = ""  # when not editable: why, in words for a person

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Document offsets of content[start:end] (clamped)."""
        last = len(self.content)
        start = max(0, min(start, last))
        end = max(start, min(end, last))
        if end > start:
            return self.offsets[start], self.offsets[end - 1] + 1
        return self.offsets[start], self.offsets[start]

    def contains(self, start: int, end: int) -> bool:
        """Whether the document range [start, end] touches this prompt's literal."""
        return self.start <= end and start <= self.end


def find_at(prompts: Sequence[Prompt], start: int, end: int | None = None) -> Prompt | None:
    """The prompt whose literal contains the offset range (prompts sorted by start)."""
    end = start if end is None else end
    index = bisect.bisect_right([p.start for p in prompts], start) - 1
    for candidate in prompts[max(0, index) : index + 2]:
        if candidate.contains(start, end):
            return candidate
    return None

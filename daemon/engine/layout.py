"""A prompt's layout: its sections, paragraphs and the sentences of its prose.

The instruction and target-model transforms (:mod:`.instruct`, :mod:`.targets`) move and
wrap what the author wrote without touching it; this module gives them the pieces:

* :func:`chunks` splits a prompt into top-level chunks: markdown sections (``## Title`` and
  the text under it), top-level XML blocks (``<name>`` ... ``</name>`` each alone on its line)
  and untitled text. Fenced code is never split or looked into.
* :func:`paragraphs` splits untitled text at blank lines (a fenced block stays whole), and
  :func:`is_input` tells a paragraph that holds outside data (a fenced block, a quoted block,
  a labeled placeholder line such as ``Review: {review}``) from one of instructions.
* :func:`prose_sentences` gives the sentences of a paragraph that is plain prose (no list,
  heading, code or labeled line), or nothing.
"""

from __future__ import annotations

import re
from typing import Final, Literal

import msgspec

from .guards import placeholder_name, placeholder_spans
from .text import split_sentences

ChunkKind = Literal["text", "md", "xml"]

_HEADING: Final = re.compile(r"^(#{1,6})[ \t]+(\S.*?)[ \t#]*$")
_OPEN: Final = re.compile(r"^<([A-Za-z_][\w-]{0,40})>$")
_FENCE: Final = re.compile(r"^[ \t]*(```|~~~)")
_LIST_ITEM: Final = re.compile(r"^[ \t]*(?:[-*•+]|\d+[.)])[ \t]+\S")
_LABELED: Final = re.compile(r"^[ \t]*[A-Za-z][\w /&()-]{0,40}:[ \t]*(?:\S.*)?$")
_ROLE: Final = re.compile(r"^(?:you are|you're|act as|i want you to act as)\b", re.I)


class Chunk(msgspec.Struct, frozen=True):
    """One top-level piece: ``kind`` text (untitled), md (``title`` is the heading text, and
    ``heading`` the heading line as written) or xml (``title`` is the tag name)."""

    kind: ChunkKind
    title: str
    body: str
    heading: str = ""


def chunks(text: str) -> list[Chunk]:
    """The top-level chunks of ``text`` in order (their bodies without outer blank lines)."""
    lines = text.split("\n")
    out: list[Chunk] = []
    kind: ChunkKind = "text"
    title = heading = ""
    buf: list[str] = []

    def flush() -> None:
        body = "\n".join(buf).strip("\n")
        if body.strip() or kind != "text":
            out.append(Chunk(kind, title, body, heading))
        buf.clear()

    fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            fence = not fence
        elif not fence:
            m = _HEADING.match(line)
            if m:
                flush()
                kind, title, heading = "md", m.group(2), line
                i += 1
                continue
            m = _OPEN.match(line.strip())
            if m and kind == "text" and line == line.lstrip():
                close = f"</{m.group(1)}>"
                end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == close), -1)
                if end > 0:
                    flush()
                    out.append(Chunk("xml", m.group(1), "\n".join(lines[i + 1 : end]).strip("\n")))
                    i = end + 1
                    continue
        buf.append(line)
        i += 1
    flush()
    return out


def paragraphs(body: str) -> list[str]:
    """``body`` split at blank lines; a fenced block stays in one paragraph."""
    out: list[str] = []
    buf: list[str] = []
    fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            fence = not fence
        if not fence and not line.strip():
            if buf:
                out.append("\n".join(buf))
                buf = []
            continue
        buf.append(line)
    if buf:
        out.append("\n".join(buf))
    return out


def xml_block(body: str) -> tuple[str, str] | None:
    """(name, inner) when ``body`` is exactly one XML block, else None."""
    found = chunks(body)
    if len(found) == 1 and found[0].kind == "xml":
        return found[0].title, found[0].body
    return None


def is_input(paragraph: str) -> bool:
    """Outside data rather than instructions: a fenced or quoted block, an XML block, a line
    that is only a placeholder, or labeled placeholder lines (``Review: {review}``)."""
    s = paragraph.strip()
    if _FENCE.match(s) or s.startswith(('"""', "'''")) or xml_block(s) is not None:
        return True
    lines = [ln for ln in s.split("\n") if ln.strip()]
    if len(lines) >= 2 and is_label(lines[0]):
        second = lines[1].lstrip()
        if _FENCE.match(second) or second.startswith(('"""', "'''")) or _OPEN.match(second):
            return True  # "Code:" over a fenced, quoted or tagged block
    spans = placeholder_spans(s)
    if not spans:
        return False
    for ln in lines:
        bare = ln.strip()
        only_ph = any(tok == bare for tok, _st, _s, _e in spans)
        labeled = bool(_LABELED.match(ln)) and any(tok in ln for tok, _st, _s, _e in spans)
        if not (only_ph or (labeled and len(bare.split(":", 1)[0].split()) <= 4)):
            return False
    return True


def is_label(line: str) -> bool:
    """A line that only names what follows: ``Code:``, ``The email:``."""
    bare = line.strip()
    return bare.endswith(":") and 0 < len(bare[:-1].split()) <= 4 and bool(_LABELED.match(bare))


def input_name(paragraph: str) -> str:
    """A tag or heading name for an input paragraph: its label, else its placeholder's name."""
    first = paragraph.strip().split("\n")[0]
    if _LABELED.match(first) and not first.lstrip().startswith(("```", '"""')):
        label = first.split(":", 1)[0].strip()
        if label and len(label.split()) <= 4:
            return label
    spans = placeholder_spans(paragraph)
    if spans:
        return placeholder_name(spans[0][0]).split(".")[-1].replace("_", " ") or "input"
    return "input"


def slug(title: str) -> str:
    """An XML tag name for a section title: ``Output format`` -> ``output_format``."""
    name = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    if not name or not name[0].isalpha():
        name = "section_" + name if name else "section"
    return name[:40]


def heading_title(tag: str) -> str:
    """A heading for an XML tag name: ``output_format`` -> ``Output format``."""
    words = tag.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def prose_sentences(paragraph: str) -> list[str]:
    """The sentences of ``paragraph`` when it is plain prose (else an empty list)."""
    lines = [ln for ln in paragraph.split("\n") if ln.strip()]
    for ln in lines:
        if _FENCE.match(ln) or _LIST_ITEM.match(ln) or _HEADING.match(ln) or _OPEN.match(ln):
            return []
        if ln.lstrip().startswith(("|", ">", '"""', "<")):
            return []
    if len(lines) > 1 and any(_LABELED.match(ln) for ln in lines):
        return []
    if any(style == "block" for _t, style, _s, _e in placeholder_spans(paragraph)):
        return []  # a {% if %} template: its lines are not sentences
    if len(lines) > 1 and not all(ln.rstrip().endswith((".", "!", "?")) for ln in lines):
        return []  # wrapped text, a CSV, a poem: not a run of sentences
    sentences = [s.text for s in split_sentences(paragraph)]
    if any(not re.match(r"[\"'“«(]?[A-Z]", s) for s in sentences[1:]):
        return []  # "vom 24. bis 26. Dezember": a split that is not a sentence boundary
    return sentences


def is_role(sentence: str) -> bool:
    """A sentence that names the role the model plays ("You are an experienced editor.")."""
    return bool(_ROLE.match(sentence.strip()))

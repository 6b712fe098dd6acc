"""Positions: UTF-16 (and UTF-8/32) code units, LSP line breaks, incremental changes."""

from __future__ import annotations

import random

from lsprotocol import types

from promptd.lsp.features.documents import Document, LineIndex

TEXT = "a🐶b\r\nsecond é line\rthird\nfourth"


def test_utf16_counts_surrogate_pairs_and_utf8_counts_bytes() -> None:
    index = LineIndex(TEXT)
    offset = TEXT.index("b")
    assert index.position(offset, "utf-16") == types.Position(line=0, character=3)
    assert index.position(offset, "utf-8") == types.Position(line=0, character=5)
    assert index.position(offset, "utf-32") == types.Position(line=0, character=2)
    for encoding in ("utf-8", "utf-16", "utf-32"):
        assert index.offset(index.position(offset, encoding), encoding) == offset


def test_lines_split_at_crlf_cr_and_lf_only() -> None:
    index = LineIndex(TEXT + "\x0c\u2028tail")  # form feed and LS are not LSP line breaks
    assert index.line_count == 4
    assert index.position(TEXT.index("third"), "utf-16") == types.Position(line=2, character=0)
    assert index.line_text(3).endswith("\x0c\u2028tail")


def test_positions_past_the_end_are_clamped() -> None:
    index = LineIndex(TEXT)
    assert index.offset(types.Position(line=99, character=0)) == len(TEXT)
    assert index.offset(types.Position(line=0, character=99)) == TEXT.index("\r")


def test_incremental_changes_apply_in_order() -> None:
    doc = Document(uri="file:///x.py", text=TEXT)
    start = types.Position(line=1, character=7)
    doc.apply(
        [
            types.TextDocumentContentChangePartial(
                range=types.Range(start=start, end=types.Position(line=1, character=8)), text="E"
            ),
            types.TextDocumentContentChangePartial(
                range=types.Range(
                    start=types.Position(line=0, character=1),
                    end=types.Position(line=0, character=3),
                ),
                text="🐱🐱",
            ),
        ],
        version=2,
    )
    assert doc.text == "a🐱🐱b\r\nsecond E line\rthird\nfourth"
    assert doc.version == 2
    doc.apply([types.TextDocumentContentChangeWholeDocument(text="new")], version=3)
    assert doc.text == "new" and doc.index.line_count == 1


def test_an_edited_index_matches_one_built_afresh() -> None:
    rng = random.Random(3)
    text = "one\r\ntwo\rthree\nfour 🐱\n\nsix"
    index = LineIndex(text)
    for _ in range(500):
        start = rng.randint(0, len(text))
        end = min(len(text), start + rng.choice([0, 1, 2]))
        inserted = "".join(
            rng.choice(["a", "🐱", "\r", "\n", " "]) for _ in range(rng.choice([0, 1, 2]))
        )
        index = index.edited(start, end, inserted)
        text = text[:start] + inserted + text[end:]
        fresh = LineIndex(text)
        assert (index.text, index.starts, index._ends) == (fresh.text, fresh.starts, fresh._ends)

"""The local library index: past optimizations and the user's prompt files, searchable.

A tantivy index in ``library/`` under the home. It is derived, never the source of truth:
``promptd rebuild`` (or a schema change, or a different event log) wipes it and feeds it again
from the log and the library folders. A small ``state.json`` beside it keeps the checkpoint:
the last event sequence folded in, the log's store id and the schema version.

One document per thing found: ``opt:ID`` for an optimization (its original prompt is the
searchable text, its result is stored beside it) and ``file:PATH`` for a prompt file. A verdict
(kept or rejected) re-writes the optimization's document with the new flag. Ranking is BM25 on
the text, then kept rewrites first among close scores; rejected ones never come back as
examples. Not thread-safe: the library service calls it from one worker thread at a time.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import msgspec
import tantivy

from ..errors import PromptdError

SCHEMA_VERSION: Final = 1
KEPT, NONE, REJECTED = 1, 0, -1
_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_QUERY_TERMS: Final = 32
# Words too common to tell prompts apart: left out of the query (their posting lists are the
# longest, so they cost the most and rank the least), kept in the similarity measure.
_STOPWORD_TEXT: Final = (
    "a an and are as at be but by do for from has have i if in into is it its me my no not "
    "of on or our so that the their them then there these they this to up us was we were "
    "what when which who will with you your please"
)
_STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())
_HEAP_BYTES: Final = 32_000_000


class LibraryError(PromptdError):
    """The library index cannot be opened or written."""


class Doc(msgspec.Struct, frozen=True, kw_only=True):
    """One indexed thing: an optimization or a prompt file."""

    doc_id: str  # "opt:ID" | "file:PATH"
    kind: str  # optimization | file
    text: str  # what is searched: the original prompt, or the file's text
    result: str = ""  # the optimized prompt (optimizations)
    prompt_type: str = ""
    score: int = 0  # score after (optimizations)
    verdict: int = NONE  # KEPT | NONE | REJECTED
    ts_ns: int = 0
    title: str = ""  # a file's path, shown to the user


class Hit(msgspec.Struct, frozen=True, kw_only=True):
    """A search result: the document and how well it matched."""

    doc: Doc
    rank: float  # BM25 score, after the kept boost
    similarity: int  # 0-100: word overlap between the query and the document's text


class State(msgspec.Struct, kw_only=True):
    """The checkpoint kept in ``state.json``."""

    schema: int = SCHEMA_VERSION
    store_id: str = ""
    seq: int = 0  # last event folded in
    kept: int = 0
    rejected: int = 0


def words(text: str) -> list[str]:
    """Lowercase word tokens, as the query and the similarity measure see a text."""
    return [w.lower() for w in _WORD.findall(text)]


def similarity(a: str, b: str) -> int:
    """Cosine similarity of two texts' word counts, 0-100."""
    from collections import Counter

    ca, cb = Counter(words(a)), Counter(words(b))
    if not ca or not cb:
        return 0
    dot = sum(n * cb[w] for w, n in ca.items() if w in cb)
    norm = math.sqrt(sum(n * n for n in ca.values()) * sum(n * n for n in cb.values()))
    return round(100 * dot / norm)


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("doc_id", stored=True, tokenizer_name="raw")
    sb.add_text_field("kind", stored=True, tokenizer_name="raw")
    sb.add_text_field("text", stored=True)
    sb.add_text_field("result", stored=True, index_option="basic")
    sb.add_text_field("prompt_type", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name="raw")
    sb.add_integer_field("score", stored=True)
    sb.add_integer_field("verdict", stored=True, indexed=True)
    sb.add_integer_field("ts_ns", stored=True)
    return sb.build()


def _doc_of(stored: dict[str, list[Any]]) -> Doc:
    def one(name: str, default: Any) -> Any:
        values = stored.get(name) or [default]
        return values[0]

    return Doc(
        doc_id=one("doc_id", ""),
        kind=one("kind", ""),
        text=one("text", ""),
        result=one("result", ""),
        prompt_type=one("prompt_type", ""),
        score=int(one("score", 0)),
        verdict=int(one("verdict", NONE)),
        ts_ns=int(one("ts_ns", 0)),
        title=one("title", ""),
    )


class LibraryIndex:
    """The tantivy index and its checkpoint in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index_dir = folder / "index"
        self._state_file = folder / "state.json"
        self.state = State()
        self._index: tantivy.Index | None = None
        self._writer: Any = None
        self._dirty = False
        # the writes since the last commit, which the index's searcher does not see yet
        self._pending: dict[str, Doc] = {}
        self._removed: set[str] = set()

    # --- open / close -----------------------------------------------------------------

    def open(self, store_id: str) -> bool:
        """Open (or create) the index for the log ``store_id``; False when it was wiped (the
        schema changed, the log is another one, or the folder was unreadable) and must be fed
        again from the start."""
        fresh = False
        state = self._read_state()
        if state is None or state.schema != SCHEMA_VERSION or state.store_id != store_id:
            self._wipe()
            state, fresh = State(store_id=store_id), True
        self.state = state
        self._index_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            self._index = tantivy.Index(_schema(), path=str(self._index_dir))
        except ValueError as exc:  # a damaged index: it is derived, so start it again
            self._wipe()
            self._index_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.state, fresh = State(store_id=store_id), True
            try:
                self._index = tantivy.Index(_schema(), path=str(self._index_dir))
            except ValueError as again:
                raise LibraryError(f"cannot open the library index: {again}") from exc
        return not fresh

    def close(self) -> None:
        self.commit()
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None
        self._index = None

    def reset(self, store_id: str) -> None:
        """Empty the index (for ``rebuild``)."""
        self.close()
        self._wipe()
        self.open(store_id)

    def _wipe(self) -> None:
        shutil.rmtree(self._index_dir, ignore_errors=True)
        self._state_file.unlink(missing_ok=True)

    def _read_state(self) -> State | None:
        try:
            return msgspec.json.decode(self._state_file.read_bytes(), type=State)
        except (OSError, msgspec.DecodeError):
            return None

    # --- writing ----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._index is not None

    @property
    def index(self) -> tantivy.Index:
        if self._index is None:
            raise LibraryError("the library index is not open")
        return self._index

    def _w(self) -> Any:
        if self._writer is None:
            self._writer = self.index.writer(heap_size=_HEAP_BYTES, num_threads=1)
        return self._writer

    def put(self, doc: Doc) -> None:
        """Add ``doc``, replacing any document with the same id."""
        self._pending[doc.doc_id] = doc
        self._removed.discard(doc.doc_id)
        w = self._w()
        w.delete_documents_by_term("doc_id", doc.doc_id)
        w.add_document(
            tantivy.Document(
                doc_id=doc.doc_id,
                kind=doc.kind,
                text=doc.text,
                result=doc.result,
                prompt_type=doc.prompt_type,
                title=doc.title,
                score=doc.score,
                verdict=doc.verdict,
                ts_ns=doc.ts_ns,
            )
        )
        self._dirty = True

    def remove(self, doc_id: str) -> None:
        self._pending.pop(doc_id, None)
        self._removed.add(doc_id)
        self._w().delete_documents_by_term("doc_id", doc_id)
        self._dirty = True

    def set_verdict(self, opt_id: str, verdict: int) -> bool:
        """Mark an optimization kept or rejected; False when it is not indexed.

        An optimization written since the last commit is found among the pending writes:
        folding a log whose verdicts follow their optimizations commits once, not once per
        verdict (a commit is tens of milliseconds: a minute for 2,000 verdicts)."""
        doc_id = f"opt:{opt_id}"
        doc = self._pending.get(doc_id)
        if doc is None and doc_id not in self._removed:
            doc = self.get(doc_id)
        if doc is not None and doc.verdict != verdict:
            self.put(msgspec.structs.replace(doc, verdict=verdict))
        if verdict == KEPT:
            self.state.kept += 1
        elif verdict == REJECTED:
            self.state.rejected += 1
        return doc is not None

    def rest(self) -> None:
        """Give back the memory an idle index holds: the writer (its indexing arena, up to
        its heap size, and its merge threads; the next write makes a new one), and the
        readers with their caches and the pages of the segment files that searches mapped
        (the index is opened again). Searches keep working."""
        self.commit()
        if self._writer is not None:
            self._writer.wait_merging_threads()
            self._writer = None
        if self._index is not None:
            self._index = None  # its readers go, and unmap their segments
            self._index = tantivy.Index(_schema(), path=str(self._index_dir))
        from ..footprint import trim_heap

        trim_heap()

    def commit(self, seq: int | None = None) -> None:
        """Make the writes searchable and move the checkpoint to ``seq``."""
        if self._dirty and self._writer is not None:
            self._writer.commit()
            self.index.reload()
            self._dirty = False
            self._pending.clear()
            self._removed.clear()
        if seq is not None:
            self.state.seq = max(self.state.seq, seq)
        self._write_state()

    def _write_state(self) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(msgspec.json.encode(self.state))
        os.replace(tmp, self._state_file)

    # --- reading ----------------------------------------------------------------------

    def get(self, doc_id: str) -> Doc | None:
        searcher = self.index.searcher()
        query = tantivy.Query.term_query(self.index.schema, "doc_id", doc_id)
        hits = searcher.search(query, 1).hits
        return _doc_of(searcher.doc(hits[0][1]).to_dict()) if hits else None

    def search(
        self,
        text: str,
        limit: int = 5,
        *,
        kinds: Iterable[str] = (),
        exclude: Iterable[str] = (),
        include_rejected: bool = True,
    ) -> list[Hit]:
        """The best matches for ``text``, kept rewrites first among close scores."""
        all_terms = dict.fromkeys(words(text))
        terms = [t for t in all_terms if t not in _STOPWORDS][:_MAX_QUERY_TERMS]
        terms = terms or list(all_terms)[:_MAX_QUERY_TERMS]  # a query of stopwords only
        if not terms or limit <= 0:
            return []
        searcher = self.index.searcher()
        query = self.index.parse_query(" ".join(terms), ["text"])
        wanted_kinds, skip = set(kinds), set(exclude)
        hits: list[Hit] = []
        for rank, address in searcher.search(query, limit * 2 + len(skip)).hits:
            doc = _doc_of(searcher.doc(address).to_dict())
            if doc.doc_id in skip or (wanted_kinds and doc.kind not in wanted_kinds):
                continue
            if doc.verdict == REJECTED and not include_rejected:
                continue
            boost = 1.25 if doc.verdict == KEPT else 0.5 if doc.verdict == REJECTED else 1.0
            hits.append(Hit(doc=doc, rank=rank * boost, similarity=similarity(text, doc.text)))
        hits.sort(key=lambda h: h.rank, reverse=True)
        return hits[:limit]

    def doc_ids(self, kind: str) -> list[str]:
        """The ids of every document of ``kind``."""
        searcher = self.index.searcher()
        query = tantivy.Query.term_query(self.index.schema, "kind", kind)
        limit = max(1, searcher.num_docs)
        hits = searcher.search(query, limit).hits
        return [searcher.doc(address)["doc_id"][0] for _, address in hits]

    def counts(self) -> dict[str, int]:
        """How many documents of each kind are searchable."""
        searcher = self.index.searcher()
        out: dict[str, int] = {}
        for kind in ("optimization", "file"):
            query = tantivy.Query.term_query(self.index.schema, "kind", kind)
            found = searcher.search(query, 1, count=True)
            out[kind] = int(getattr(found, "count", 0) or 0)  # the stubs lack `count`
        return out

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self._index_dir.glob("*") if p.is_file())

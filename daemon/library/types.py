"""The library's part of the control API: params and results of its JSON-RPC methods.

``library.search`` ({text, limit, kinds}) -> :class:`SearchResult`; ``library.status`` ->
:class:`LibraryStatus`; ``optimization.keep`` / ``optimization.reject`` ({id, why}) ->
:class:`VerdictResult`. Light (msgspec only): the CLI imports it without the index.
"""

from __future__ import annotations

import msgspec

from ..api import Params


class SearchParams(Params):
    text: str
    limit: int = 10
    kinds: list[str] = msgspec.field(default_factory=list)  # optimization | file | collection


class SearchHit(msgspec.Struct, kw_only=True):
    ref: str  # "opt:ID" | "file:PATH" | "collection:ID/DOC"
    kind: str  # optimization | file | collection
    source: str  # local | xai
    rank: float  # the search engine's score (BM25 locally), kept rewrites boosted
    similarity: int  # 0-100 word overlap with the query
    text: str  # the original prompt, the file's text or the passage
    result: str = ""  # the optimized prompt (optimizations)
    prompt_type: str = ""
    score: int = 0
    kept: bool = False
    rejected: bool = False
    at: str = ""
    title: str = ""


class SearchResult(msgspec.Struct, kw_only=True):
    query: str
    hits: list[SearchHit]
    took_ms: float
    degraded_reason: str = ""  # xAI Collections failed or its breaker is open: local only


class LibraryStatus(msgspec.Struct, kw_only=True):
    path: str
    optimizations: int
    files: int
    folders: list[str]
    collections: list[str]
    index_bytes: int
    last_seq: int
    kept: int
    rejected: int
    acceptance_rate: float | None  # kept / (kept + rejected); None before any verdict
    pending: int = 0  # events not folded in yet
    error: str = ""


class VerdictParams(Params):
    id: str
    why: str = ""
    source: str = "cli"


class VerdictResult(msgspec.Struct, kw_only=True):
    id: str
    verdict: str  # kept | rejected
    acceptance_rate: float | None = None


class UploadParams(Params):
    collection: str
    files: list[str]

"""The library service: keeps the search index current and answers the library's methods.

* Follows the event log from the index's checkpoint (catch-up, then live) and folds
  optimizations and verdicts in, in batches, on one worker thread: an optimization never
  waits for the index.
* Scans the ``[library] paths`` folders at start and watches them with watchfiles; each
  prompt file found or changed is offered to the core service's cache warming.
* Gives the core service a ``retriever``: the few most similar past optimizations and prompt
  files for a prompt, within a short deadline; a slow or broken index gives nothing, never an
  error (nothing about retrieval can make an optimization fail). And a ``grounder``: the same,
  plus (for the LLM engine) the examples and passages the Designer is given within
  ``[library] examples_tokens``, xAI Collections hits included when configured, and the
  reason when there are none (:mod:`.grounding`).
* Control API: ``library.search``, ``library.status``, ``optimization.keep``,
  ``optimization.reject``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import api
from ..errors import InputError, RPCError
from ..events import (
    OptimizationCompleted,
    OptimizationKept,
    OptimizationRejected,
    Record,
)
from ..values import Related
from ..wire import Call, Method
from . import feed, grounding, types
from .collections import CollectionsClient, CollectionsError, Match
from .index import KEPT, REJECTED, Hit, LibraryIndex, similarity

if TYPE_CHECKING:
    from ..config import Config, LibraryConfig
    from ..projections import StoreView
    from ..server.app import Daemon
    from ..store import AsyncEventLog

log = logging.getLogger("promptd.library")
T = TypeVar("T")

_FOLDED = (OptimizationCompleted, OptimizationKept, OptimizationRejected)
_BATCH = 256  # records folded per trip to the worker thread
_IDLE_FLUSH_S = 0.2  # a partial batch waits at most this long
_REST_AFTER_S = 5.0  # with no new events this long, the index gives its memory back
RETRIEVE_TIMEOUT_S = 0.25  # the default of [library] retrieve_timeout_ms
COLLECTIONS_TIMEOUT_S = 15.0
GROUND_COLLECTIONS_TIMEOUT_S = 3.0  # an optimization waits at most this for Collections
GROUND_CANDIDATES = 8  # local hits considered for the Designer


def related_of(hit: Hit, used: str = "shown") -> Related:
    doc = hit.doc
    kind = doc.kind
    return Related(
        ref=doc.doc_id,
        kind=kind,
        similarity=hit.similarity,
        score=doc.score,
        at=feed.iso_date(doc.ts_ns) if kind == "optimization" else "",
        kept=doc.verdict == KEPT,
        used=used,
        excerpt=(doc.result or doc.text)[:400],
    )


def search_hit(hit: Hit) -> types.SearchHit:
    doc = hit.doc
    return types.SearchHit(
        ref=doc.doc_id,
        kind=doc.kind,
        source="local",
        rank=round(hit.rank, 4),
        similarity=hit.similarity,
        text=doc.text,
        result=doc.result,
        prompt_type=doc.prompt_type,
        score=doc.score,
        kept=doc.verdict == KEPT,
        rejected=doc.verdict == REJECTED,
        at=feed.iso_date(doc.ts_ns) if doc.kind == "optimization" else "",
        title=doc.title,
    )


class LibraryService:
    """The daemon's library: index upkeep, retrieval for optimizations, search."""

    name = "library"

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.index = LibraryIndex(daemon.paths.library)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promptd-library")
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._error = ""
        self._last_seen = 0
        self._rest_timer: asyncio.TimerHandle | None = None
        self._collections: CollectionsClient | None = None
        self._http: Any = None
        self._breaker: Any = None
        # how the Collections client gets its httpx.AsyncClient (tests hand a MockTransport)
        self.http_factory: Callable[[], Any] | None = None
        # where the Collections key is read (None: the environment; tests hand a dict)
        self.environ: Mapping[str, str] | None = None
        daemon.reload_hooks.append(self._reloaded)
        core = getattr(daemon, "core", None)
        if core is not None and self.config.enabled:
            core.retriever = self.related
            core.grounder = self.ground
            core.library_lookup = self.lookup

    @property
    def ready(self) -> bool:
        """The index has caught up with the folders and answers retrieval."""
        return self._ready.is_set()

    @property
    def config(self) -> LibraryConfig:
        return self.daemon.config.library

    def methods(self) -> Mapping[str, Method]:
        return {
            "library.search": Method(types.SearchParams, self.search),
            "library.status": Method(api.Empty, self.library_status),
            "optimization.keep": Method(types.VerdictParams, self.keep),
            "optimization.reject": Method(types.VerdictParams, self.reject),
        }

    # --- life ----------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.config.enabled:
            return
        store = self._store()
        try:
            await self._run(self.index.open, store.store_id())
        except Exception as exc:  # the library is derived: a broken index must not stop us
            self._error = f"the library index could not be opened: {exc}"
            log.error("%s", self._error)
            return
        self.daemon.spawn(self._follow(store), "library-follow")
        self.daemon.spawn(self._watch(), "library-folders")

    async def stop(self) -> None:
        self._stopping.set()
        if self._rest_timer is not None:
            self._rest_timer.cancel()
        if self._http is not None:
            with contextlib.suppress(Exception):
                await self._http.aclose()
        with contextlib.suppress(Exception):
            await self._run(self.index.close)
        self._pool.shutdown(wait=True, cancel_futures=False)

    def _reloaded(self, config: Config) -> None:
        # folders may have changed: rescan them (the watcher restarts on its next change)
        if self._ready.is_set():
            self.daemon.spawn(self._scan(), "library-rescan")

    def _store(self) -> AsyncEventLog[StoreView]:
        core = self.daemon.core
        store = core.store if core is not None else None
        if store is None:
            raise RuntimeError("the core service has not started")
        return store

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, *args)

    # --- feeding -------------------------------------------------------------------------

    async def _follow(self, store: AsyncEventLog[StoreView]) -> None:
        """Fold the log into the index: what it missed, then every new event."""
        await self._scan()
        pending: list[Record] = []
        flush_at = 0.0
        self._ready.set()
        async for rec in store.subscribe(self.index.state.seq + 1):
            self._last_seen = rec.seq
            if isinstance(rec.event, _FOLDED):
                pending.append(rec)
                flush_at = flush_at or time.monotonic() + _IDLE_FLUSH_S
            caught_up = rec.seq >= store.last_seq()
            if pending and (len(pending) >= _BATCH or caught_up or time.monotonic() > flush_at):
                batch, pending, flush_at = pending, [], 0.0
                await self._fold(batch)
            if self._stopping.is_set():
                return

    async def _fold(self, batch: list[Record]) -> None:
        try:
            await self._run(feed.fold_records, self.index, batch)
        except Exception as exc:
            self._error = f"indexing failed: {type(exc).__name__}: {exc}"
            log.exception("library: %s", self._error)
        self._rest_later()

    def _rest_later(self) -> None:
        """Once the writes stop (a batch ended), let the index give back its memory."""
        if self._rest_timer is not None:
            self._rest_timer.cancel()
        loop = asyncio.get_running_loop()
        self._rest_timer = loop.call_later(
            _REST_AFTER_S, lambda: self.daemon.spawn(self._rest(), "library-rest")
        )

    async def _rest(self) -> None:
        self._rest_timer = None
        if self._stopping.is_set() or not self.index.is_open:
            return
        try:
            await self._run(self.index.rest)
        except Exception as exc:  # memory not given back is no reason to stop indexing
            log.warning("library: the index could not give its memory back (%s)", exc)

    async def _scan(self) -> None:
        folders = feed.folders_of(self.config.paths)
        try:
            changed = await self._run(
                feed.scan_folders, self.index, folders, self.config.max_file_bytes
            )
        except Exception as exc:
            self._error = f"scanning the library folders failed: {exc}"
            log.exception("library: %s", self._error)
            return
        if changed:
            log.info("library: %d prompt files indexed or dropped", changed)
        await self._warm(list(feed.prompt_files(folders)))

    async def _watch(self) -> None:
        """Re-index prompt files as they change in the library folders."""
        import watchfiles

        while not self._stopping.is_set():
            folders = feed.folders_of(self.config.paths)
            if not folders:
                return
            try:
                async for changes in watchfiles.awatch(
                    *folders, stop_event=self._stopping, recursive=True
                ):
                    paths = sorted({Path(p) for _, p in changes if feed.is_prompt_file(Path(p))})
                    if paths:
                        await self._run(self._sync, paths)
                        await self._warm(paths)
            except Exception as exc:  # a folder removed, an undecodable name: rescan and go on
                log.warning("library: watching the folders failed (%s); rescanning", exc)
                await asyncio.sleep(5)
                await self._scan()

    async def _warm(self, paths: list[Path]) -> None:
        """Offer the prompt files' texts to the daemon's cache warming (never fails)."""
        core = self.daemon.core
        warm = getattr(core, "warm_prompts", None)
        if warm is None or not paths:
            return
        try:
            texts = await self._run(feed.prompt_texts, paths, self.config.max_file_bytes)
            warm(texts, "library")
        except Exception as exc:
            log.warning("library: could not offer the prompt files for warming (%s)", exc)

    def _sync(self, paths: list[Path]) -> None:
        for path in paths:
            feed.sync_file(self.index, path, self.config.max_file_bytes)
        self.index.commit()

    # --- retrieval -----------------------------------------------------------------------

    async def related(self, text: str) -> list[Related]:
        """The most similar past optimizations and prompt files for ``text``; [] when the
        index is not ready, slow or broken."""
        cfg = self.config
        if not self._ready.is_set() or cfg.related <= 0:
            return []
        try:
            hits = await asyncio.wait_for(
                self._run(self._similar, text, cfg.related, cfg.min_similarity),
                self._retrieve_timeout_s(),
            )
        except Exception as exc:  # TimeoutError included: an optimization never waits on us
            log.warning("library: no similar prompts for this run (%s)", type(exc).__name__)
            return []
        return [related_of(h) for h in hits]

    async def ground(
        self, text: str, llm: bool, *, budget: int | None = None
    ) -> grounding.Retrieval:
        """What the library gives one optimization: the similar prompts shown to the author
        and, for the LLM engine (``llm``), the examples and passages for the Designer within
        the token budget. Never raises: a slow or broken index, a failing or hanging
        Collections call, an open breaker give less, with the reason in ``note``."""
        try:
            return await self._ground(text, llm, budget)
        except Exception as exc:  # nothing about retrieval can make an optimization fail
            log.warning("library: no grounding for this run (%s: %s)", type(exc).__name__, exc)
            return grounding.Retrieval(note=f"retrieval failed ({type(exc).__name__}: {exc})")

    async def lookup(self, query: str) -> grounding.Lookup:
        """One ``search_library`` lookup of the LLM Designer: the best examples and passages
        for ``query`` within half the token budget. Never raises (see :meth:`ground`)."""
        started = time.perf_counter()
        found = await self.ground(query, True, budget=self.config.examples_tokens // 2)
        return grounding.Lookup(
            query=query,
            materials=found.materials,
            note=found.note,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )

    async def _ground(self, text: str, llm: bool, budget: int | None = None) -> grounding.Retrieval:
        cfg = self.config
        notes: list[str] = []
        remote = None
        if llm and cfg.xai_collections and cfg.examples_tokens > 0:
            remote = asyncio.ensure_future(
                self._search_collections(text, grounding.MAX_PASSAGES, GROUND_COLLECTIONS_TIMEOUT_S)
            )
        hits: list[Hit] = []
        if not self._ready.is_set():
            notes.append(self._error or "the library index is not ready yet")
        else:
            want = max(cfg.related, GROUND_CANDIDATES if llm else 0)
            try:
                hits = await asyncio.wait_for(
                    self._run(self._similar, text, want, cfg.min_similarity),
                    self._retrieve_timeout_s(),
                )
            except Exception as exc:  # TimeoutError included: an optimization never waits
                notes.append(f"the local library did not answer ({type(exc).__name__})")
        related = [related_of(h) for h in hits[: max(cfg.related, 0)]]
        candidates = [_material(h) for h in hits] if llm else []
        if remote is not None:
            found, reason = await remote
            if reason:
                notes.append(reason)
            candidates += [_passage(h) for h in found if h.similarity > 0]
        budget = cfg.examples_tokens if budget is None else budget
        chosen = grounding.select(candidates, budget) if candidates else []
        if llm and candidates and not chosen:
            notes.append(f"nothing fitted the token budget ({budget}, [library] examples_tokens)")
        note = "; ".join(notes)
        if note and llm:
            log.info("library: grounding for this run: %s", note)
        return grounding.Retrieval(related=related, materials=chosen, note=note)

    def _retrieve_timeout_s(self) -> float:
        ms = self.config.retrieve_timeout_ms
        return ms / 1000 if ms > 0 else RETRIEVE_TIMEOUT_S

    def _similar(self, text: str, limit: int, min_similarity: int) -> list[Hit]:
        hits = self.index.search(text, limit * 2, include_rejected=False)
        return [h for h in hits if h.similarity >= min_similarity][:limit]

    async def search(self, params: types.SearchParams, call: Call) -> types.SearchResult:
        text = params.text.strip()
        if not text:
            raise InputError("nothing to search for: give some words (promptd search 'fix a bug')")
        if not 1 <= params.limit <= 100:
            raise InputError(f"limit must be 1-100, not {params.limit}")
        self._need_index()
        started = time.perf_counter()
        local_kinds = [k for k in params.kinds if k != "collection"]
        want_local = not params.kinds or bool(local_kinds)
        want_remote = bool(self.config.xai_collections) and (
            not params.kinds or "collection" in params.kinds
        )
        # the two searches run side by side
        local = (
            asyncio.ensure_future(
                self._run(lambda: self.index.search(text, params.limit, kinds=local_kinds))
            )
            if want_local
            else None
        )
        remote = (
            asyncio.ensure_future(self._search_collections(text, params.limit))
            if want_remote
            else None
        )
        hits: list[types.SearchHit] = []
        reason = ""
        if local is not None:
            hits += [search_hit(h) for h in await local]
        if remote is not None:
            found, reason = await remote
            hits += found
        # each list is best-first on its own scale: interleave them by similarity
        hits.sort(key=lambda h: (h.similarity, h.rank), reverse=True)
        return types.SearchResult(
            query=text,
            hits=hits[: params.limit],
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            degraded_reason=reason,
        )

    async def _search_collections(
        self, text: str, limit: int, timeout_s: float = COLLECTIONS_TIMEOUT_S
    ) -> tuple[list[types.SearchHit], str]:
        """Hits from xAI Collections, and why there are none when they failed."""
        from ..errors import CircuitOpenError

        client, breaker = self._collections_client()
        try:
            breaker.before_call()
        except CircuitOpenError:
            return [], "xAI Collections skipped: too many recent failures (breaker open)"
        try:
            # httpx's timeouts do not cover the DNS lookup: bound the whole call
            matches = await asyncio.wait_for(
                client.search(text, list(self.config.xai_collections), limit),
                timeout_s,
            )
        except TimeoutError:
            breaker.record_failure("timed out")
            return [], (
                f"xAI Collections did not answer within {timeout_s:g} s; showing local hits only"
            )
        except CollectionsError as exc:
            breaker.record_failure(str(exc))
            log.warning("library: %s", exc)
            return [], f"{exc}; showing local hits only"
        breaker.record_success()
        return [_collection_hit(text, m) for m in matches], ""

    def _collections_client(self) -> tuple[CollectionsClient, Any]:
        if self._collections is None:
            import os

            import httpx

            from ..providers.breaker import CircuitBreaker

            self._http = (self.http_factory or httpx.AsyncClient)()
            env = os.environ if self.environ is None else self.environ
            self._collections = CollectionsClient(self._http, api_key=env.get("XAI_API_KEY", ""))
            self._breaker = CircuitBreaker(
                "xai-collections", failures=3, cooldown_s=60.0, on_change=self._circuit
            )
        return self._collections, self._breaker

    def _circuit(self, event: Any) -> None:
        self.daemon.spawn(self._store().append(event), "library-circuit")

    def _need_index(self) -> None:
        if not self.config.enabled:
            raise InputError("the library is off ([library] enabled = false in config.toml)")
        if not self.index.is_open:
            raise InputError(self._error or "the library index is not open yet; try again")

    # --- status and verdicts -------------------------------------------------------------

    def summary(self) -> api.LibrarySummary | None:
        """The library's part of ``status``."""
        if not self.index.is_open:
            return None
        state = self.index.state
        counts = self.index.counts()
        return api.LibrarySummary(
            documents=sum(counts.values()),
            kept=state.kept,
            rejected=state.rejected,
            acceptance_rate=_rate(state.kept, state.rejected),
        )

    async def library_status(self, params: api.Empty, call: Call) -> types.LibraryStatus:
        store = self._store()
        ready = self.index.is_open
        counts = await self._run(self.index.counts) if ready else {}
        state = self.index.state
        return types.LibraryStatus(
            path=str(self.index.folder),
            optimizations=counts.get("optimization", 0),
            files=counts.get("file", 0),
            folders=[str(Path(p).expanduser()) for p in self.config.paths],
            collections=list(self.config.xai_collections),
            index_bytes=await self._run(self.index.size_bytes) if ready else 0,
            last_seq=state.seq,
            kept=state.kept,
            rejected=state.rejected,
            acceptance_rate=_rate(state.kept, state.rejected),
            pending=max(0, store.last_seq() - max(state.seq, self._last_seen)),
            error=self._error,
        )

    async def keep(self, params: types.VerdictParams, call: Call) -> types.VerdictResult:
        opt_id = self._resolve(params.id)
        await self._store().append(OptimizationKept(opt_id=opt_id, source=params.source))
        state = self.index.state
        return types.VerdictResult(
            id=opt_id, verdict="kept", acceptance_rate=_rate(state.kept + 1, state.rejected)
        )

    async def reject(self, params: types.VerdictParams, call: Call) -> types.VerdictResult:
        opt_id = self._resolve(params.id)
        why = params.why.strip()[:2000]
        await self._store().append(
            OptimizationRejected(opt_id=opt_id, why=why, source=params.source)
        )
        state = self.index.state
        return types.VerdictResult(
            id=opt_id, verdict="rejected", acceptance_rate=_rate(state.kept, state.rejected + 1)
        )

    def _resolve(self, wanted: str) -> str:
        """The full id of a completed optimization named by ``wanted`` (or a prefix of it)."""
        wanted = wanted.strip()
        if not wanted:
            raise InputError("give an optimization id; `promptd history` lists them")
        with self._store().view() as view:
            entry = view.history.get(wanted)
            if entry is None:
                matches = view.history.match(wanted, limit=2)
                if len(matches) > 1:
                    raise RPCError(
                        api.NOT_FOUND,
                        f"{wanted!r} matches several optimizations; give more of the id",
                    )
                entry = matches[0] if matches else None
            if entry is None or view.history.completed(entry.opt_id) is None:
                raise RPCError(
                    api.NOT_FOUND,
                    f"no finished optimization with id {wanted!r}; `promptd history` lists them",
                )
            return entry.opt_id


def _collection_hit(query: str, match: Match) -> types.SearchHit:
    collection = match.collection_ids[0] if match.collection_ids else ""
    return types.SearchHit(
        ref=f"collection:{collection}/{match.file_id}#{match.chunk_id}",
        kind="collection",
        source="xai",
        rank=round(match.score, 4),
        similarity=similarity(query, match.chunk_content),
        text=match.chunk_content,
        title=match.file_id,
    )


def _material(hit: Hit) -> grounding.Material:
    """A local hit as a candidate: a past optimization is an example, a file a passage."""
    doc = hit.doc
    if doc.kind == "optimization" and doc.result.strip():
        return grounding.Material(
            ref=doc.doc_id,
            kind="example",
            source="history",
            similarity=hit.similarity,
            text=doc.text,
            result=doc.result,
            kept=doc.verdict == KEPT,
        )
    return grounding.Material(
        ref=doc.doc_id,
        kind="passage",
        source="library" if doc.kind == "file" else "history",
        similarity=hit.similarity,
        text=doc.result or doc.text,
    )


def _passage(hit: types.SearchHit) -> grounding.Material:
    return grounding.Material(
        ref=hit.ref, kind="passage", source="collection", similarity=hit.similarity, text=hit.text
    )


def _rate(kept: int, rejected: int) -> float | None:
    total = kept + rejected
    return round(kept / total, 3) if total else None

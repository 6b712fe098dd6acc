"""The daemon's library in the editor: similar past prompts (hover, lens, pick and insert)
and warming the analysis of the prompts of opened documents.

Everything here is optional and never slows the editor down: no daemon, or a daemon
without the method, means no section in the hover, no lens, no warming. Searches are cached
by prompt hash; the hover waits for one at most :data:`HOVER_DEADLINE_S` and a search that
misses it still fills the cache for the next hover. Lenses come from the cache only: the
missing counts are looked up in the background (at most :data:`MAX_LENS_LOOKUPS` prompts a
document) and the editor is asked to refresh its lenses when some were found.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Final

from lsprotocol import types

from promptd.daemon.errors import PromptdError, RPCError
from promptd.daemon.library.types import SearchHit, SearchParams, SearchResult
from promptd.daemon.wire import METHOD_NOT_FOUND

from .. import protocol
from ..errors import BadArguments, Failed
from ..features import literals, similar
from ..features.analysis import Checked
from ..features.detect import find_at
from ..features.documents import range_json

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger(__name__)

HOVER_DEADLINE_S: Final = 0.3
SEARCH_TIMEOUT_S: Final = 5.0
CACHE_TTL_S: Final = 120.0
CACHE_SIZE: Final = 5000
MAX_LENS_LOOKUPS: Final = 50  # prompts per document whose similar count is looked up
WARM_LIMIT: Final = 200  # prompts of a document sent to analysis.warm
WARM_DEBOUNCE_S: Final = 1.0


class LibraryFlow:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[str, tuple[float, list[SearchHit]]] = {}
        self._searching: dict[str, asyncio.Future[list[SearchHit] | None]] = {}
        self._lens_jobs: dict[str, asyncio.Task[None]] = {}
        self._warm_timers: dict[str, asyncio.TimerHandle] = {}
        self._warmed: dict[str, set[str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.search_supported = True
        self.warm_supported = True

    # --- searching -----------------------------------------------------------------------------

    def cached(self, text: str) -> list[SearchHit] | None:
        entry = self._cache.get(similar.key(text))
        if entry is None or time.monotonic() - entry[0] > CACHE_TTL_S:
            return None
        return entry[1]

    def lookup(self, text: str) -> asyncio.Future[list[SearchHit] | None]:
        """The similar past optimizations of ``text`` (None: no daemon or no library), one
        search per text however many wait for it."""
        key = similar.key(text)
        job = self._searching.get(key)
        if job is None:
            job = asyncio.ensure_future(self._search(text))
            self._searching[key] = job
            job.add_done_callback(lambda _: self._searching.pop(key, None))
        return job

    async def _search(self, text: str) -> list[SearchHit] | None:
        link = self.session.link
        if not link.connected or not self.search_supported:
            return None
        try:
            result: SearchResult = await link.call(
                "library.search",
                SearchParams(text=text, limit=similar.PICK_HITS + 1, kinds=["optimization"]),
                result_type=SearchResult,
                timeout=SEARCH_TIMEOUT_S,
                autostart=False,
            )
        except (TimeoutError, PromptdError) as exc:
            if isinstance(exc, RPCError) and exc.code == METHOD_NOT_FOUND:
                self.search_supported = False
            log.info("library.search failed: %s", exc)
            return None
        hits = similar.similar(result.hits, text)
        if len(self._cache) >= CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[similar.key(text)] = (time.monotonic(), hits)
        return hits

    async def hover_section(self, text: str, *, markdown: bool) -> str:
        """The "Similar past prompts" hover section, or "" (none, no daemon, too slow)."""
        hits = self.cached(text)
        if hits is None:
            job = self.lookup(text)
            done, _ = await asyncio.wait({job}, timeout=HOVER_DEADLINE_S)
            hits = job.result() if done else None
        return similar.hover_lines(hits or [], markdown=markdown)

    # --- code lens ---------------------------------------------------------------------------

    def lenses(
        self, uri: str, checked: list[Checked], index: Any, encoding: str
    ) -> list[types.CodeLens]:
        """ "N similar prompts" above the prompts whose count is known (and not 0); the
        unknown counts of the first MAX_LENS_LOOKUPS prompts are looked up meanwhile."""
        out: list[types.CodeLens] = []
        missing: list[str] = []
        for item in checked[:MAX_LENS_LOOKUPS]:
            prompt = item.prompt
            if not prompt.editable:
                continue
            hits = self.cached(prompt.content)
            if hits is None:
                missing.append(prompt.content)
                continue
            if not hits:
                continue
            rng = index.range(prompt.start, prompt.end, encoding)
            out.append(
                types.CodeLens(
                    range=types.Range(start=rng.start, end=rng.start),
                    command=types.Command(
                        title=similar.lens_title(len(hits)),
                        command=protocol.CLIENT_PICK_SIMILAR,
                        arguments=[uri, range_json(rng)],
                    ),
                )
            )
        if missing and self.session.link.connected and uri not in self._lens_jobs:
            task = asyncio.get_running_loop().create_task(self._count(missing))
            self._lens_jobs[uri] = task
            task.add_done_callback(lambda _: self._lens_jobs.pop(uri, None))
        return out

    async def _count(self, texts: list[str]) -> None:
        found = False
        for text in texts:
            hits = await self.lookup(text)
            found = found or bool(hits)
        if found:
            ws = self.session.caps().workspace
            if ws and ws.code_lens and ws.code_lens.refresh_support:
                self.session.server.workspace_code_lens_refresh(None)

    # --- commands ------------------------------------------------------------------------------

    async def similar_command(self, args: list[Any]) -> dict[str, Any]:
        """promptd.similarPrompts [uri, range]: the prompt's range and its similar past
        optimizations, for the client to list."""
        session = self.session
        if len(args) < 2 or not isinstance(args[0], str):
            raise BadArguments(f"{protocol.CMD_SIMILAR_PROMPTS} needs arguments [uri, range]")
        doc = session.document(args[0])
        start, end = doc.index.offsets(session.range_argument(args[1]), session.encoding)
        prompt = find_at(session.analyzer.prompts(doc, session.settings.min_words), start, end)
        if prompt is None:
            raise Failed("promptd: no prompt here: put the cursor in a prompt string")
        hits = await self._search_or_fail(prompt.content)
        rng = doc.index.range(prompt.start, prompt.end, session.encoding)
        return {"uri": doc.uri, "range": range_json(rng), "items": similar.picks(hits)}

    async def search_command(self, args: list[Any]) -> dict[str, Any]:
        """promptd.searchLibrary [text]: past optimizations matching ``text``."""
        if not args or not isinstance(args[0], str) or not args[0].strip():
            raise BadArguments(f"{protocol.CMD_SEARCH_LIBRARY} needs arguments [text]")
        return {"items": similar.picks(await self._search_or_fail(args[0]))}

    async def _search_or_fail(self, text: str) -> list[SearchHit]:
        try:
            await self.session.link.client(autostart=True)
        except PromptdError as exc:
            raise Failed(f"promptd: {exc}") from exc
        hits = await self.lookup(text)
        if hits is None:
            raise Failed("promptd: the library search failed (see the daemon log: promptd logs)")
        return hits

    async def insert_command(self, args: list[Any]) -> dict[str, Any]:
        """promptd.insertText [uri, range, text, inPrompt?]: put ``text`` at the range; with
        ``inPrompt``, in place of the content of the prompt literal there (kept valid)."""
        session = self.session
        if len(args) < 3 or not isinstance(args[0], str) or not isinstance(args[2], str):
            raise BadArguments(
                f"{protocol.CMD_INSERT_TEXT} needs arguments [uri, range, text, inPrompt?]"
            )
        doc = session.document(args[0])
        start, end = doc.index.offsets(session.range_argument(args[1]), session.encoding)
        text = args[2]
        if len(args) > 3 and args[3]:
            prompts = session.analyzer.prompts(doc, session.settings.min_words)
            prompt = find_at(prompts, start, end)
            if prompt is None:
                raise Failed("promptd: the prompt is no longer there; nothing inserted")
            try:
                text = literals.render(prompt, text)
            except literals.RenderError as exc:
                raise Failed(f"promptd: {exc}; nothing inserted") from exc
            start, end = prompt.start, prompt.end
        edit = types.WorkspaceEdit(
            changes={
                doc.uri: [
                    types.TextEdit(
                        range=doc.index.range(start, end, session.encoding), new_text=text
                    )
                ]
            }
        )
        applied = await session.server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label="Insert a past prompt")
        )
        if not applied.applied:
            reason = applied.failure_reason or "the editor refused the edit"
            raise Failed(f"promptd: the past prompt was not inserted: {reason}")
        return {"applied": True}

    # --- warming -----------------------------------------------------------------------------

    def warm_soon(self, uri: str, *, immediate: bool = False) -> None:
        """Send the document's new prompts to ``analysis.warm`` soon (debounced)."""
        if not self.warm_supported:
            return
        handle = self._warm_timers.pop(uri, None)
        if handle is not None:
            handle.cancel()
        delay = 0.0 if immediate else WARM_DEBOUNCE_S
        loop = asyncio.get_running_loop()
        self._warm_timers[uri] = loop.call_later(delay, lambda: self._spawn(self._warm(uri)))

    def forget(self, uri: str) -> None:
        handle = self._warm_timers.pop(uri, None)
        if handle is not None:
            handle.cancel()
        self._warmed.pop(uri, None)

    async def _warm(self, uri: str) -> None:
        self._warm_timers.pop(uri, None)
        session = self.session
        doc = session.documents.get(uri)
        if doc is None or not session.link.connected:
            return
        prompts = await session.docs.prompts(doc)
        sent = self._warmed.setdefault(uri, set())
        texts: list[str] = []
        for prompt in prompts[:WARM_LIMIT]:
            key = similar.key(prompt.content)
            if key not in sent:
                sent.add(key)
                texts.append(prompt.content)
        if not texts:
            return
        try:
            await session.link.call(
                "analysis.warm",
                {"prompts": texts, "source": "lsp"},
                timeout=SEARCH_TIMEOUT_S,
                autostart=False,
            )
        except (TimeoutError, PromptdError) as exc:
            if isinstance(exc, RPCError) and exc.code == METHOD_NOT_FOUND:
                self.warm_supported = False  # an older daemon: stop asking
            else:
                sent.difference_update(similar.key(t) for t in texts)
            log.info("analysis.warm failed: %s", exc)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def shutdown(self) -> None:
        for handle in self._warm_timers.values():
            handle.cancel()
        self._warm_timers.clear()
        for task in list(self._lens_jobs.values()) + list(self._tasks):
            task.cancel()

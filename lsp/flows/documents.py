"""Documents and what the editor shows on them: settings, diagnostics, actions, hover, lens.

All offline (detection and lint run in this process), so they keep working with no daemon.
Diagnostics are published soon after a change: at once after a quiet spell, else once per
debounce window. Checking a document lints its prompts a slice at a time, yielding to the
event loop between slices, so a huge file never holds up requests on other documents;
past :data:`~promptd.lsp.features.analysis.MAX_PROMPTS` prompts the rest are left out and a
summary diagnostic says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from lsprotocol import types

from promptd.daemon import api
from promptd.daemon.errors import PromptdError

from .. import protocol, pygls_compat
from ..features import actions, diagnostics, hover, lens, settings, tools
from ..features.analysis import MAX_PROMPTS, Checked
from ..features.detect import Prompt, find_at
from ..features.documents import Document
from ..features.verdicts import as_edit as verdict_edit

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger(__name__)

DEBOUNCE_S: Final = 0.15
SLICE_S: Final = 0.01  # lint for at most this long before letting other requests in
# Detection of a text this long runs in a worker thread: a generated file of 20,000 prompts
# takes a second or more, and the event loop (other documents' requests) goes on meanwhile.
THREAD_CHARS: Final = 200_000


class DocumentsFlow:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._last_run: dict[str, float] = {}
        self._detecting: dict[str, tuple[tuple[int, int], asyncio.Future[list[Prompt]]]] = {}

    # --- settings ------------------------------------------------------------------------------

    def apply_settings(self, raw: Any) -> None:
        session = self.session
        old = session.settings
        session.settings = new = settings.parse(raw, old)
        for problem in new.problems:
            session.show(types.MessageType.Warning, f"promptd: {problem}")
        if (old.min_words, old.diagnostics_enabled, old.diagnostics_severity) != (
            new.min_words,
            new.diagnostics_enabled,
            new.diagnostics_severity,
        ):
            for doc in session.documents:
                self.schedule_diagnostics(doc.uri, immediate=True)
        if old.code_lens != new.code_lens or old.min_words != new.min_words:
            self._refresh_lenses()

    async def pull_settings(self) -> None:
        session = self.session
        ws = session.caps().workspace
        if not (ws and ws.configuration):
            return
        try:
            result = await session.server.workspace_configuration_async(
                types.ConfigurationParams(
                    items=[types.ConfigurationItem(section=protocol.SETTINGS_SECTION)]
                )
            )
        except Exception as exc:
            log.warning("workspace/configuration failed: %s", exc)
            return
        if result and isinstance(result[0], dict):
            self.apply_settings({protocol.SETTINGS_SECTION: result[0]})

    def _refresh_lenses(self) -> None:
        ws = self.session.caps().workspace
        if ws and ws.code_lens and ws.code_lens.refresh_support:
            self.session.server.workspace_code_lens_refresh(None)

    # --- documents -----------------------------------------------------------------------------

    def open(self, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        self.session.documents.open(item.uri, item.text, item.language_id, item.version)
        self.schedule_diagnostics(item.uri, immediate=True)
        self.session.library.warm_soon(item.uri, immediate=True)

    def change(self, params: types.DidChangeTextDocumentParams) -> None:
        session = self.session
        doc = session.documents.get(params.text_document.uri)
        if doc is None:
            return
        uri, verdicts = doc.uri, session.verdicts

        def edited(before: str, start: int, end: int, inserted: str) -> None:
            if not verdicts.tracks.get(uri):
                return  # nothing followed here: no diff of a whole text for nothing
            if start < 0:  # the whole text: follow it as the one edit it amounts to
                start, end, inserted = verdict_edit(before, inserted)
            verdicts.edited(uri, before, start, end, inserted)

        doc.apply(
            list(params.content_changes), params.text_document.version, session.encoding, edited
        )
        self.schedule_diagnostics(doc.uri)
        session.library.warm_soon(doc.uri)

    def save(self, params: types.DidSaveTextDocumentParams) -> None:
        doc = self.session.documents.get(params.text_document.uri)
        if doc is not None:
            self.session.verdicts.saved(doc.uri, doc.text)

    def close(self, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        closing = self.session.documents.get(uri)
        if closing is not None:
            self.session.verdicts.closed(uri, closing.text)
        self.session.documents.close(uri)
        self.session.analyzer.forget(uri)
        self.session.library.forget(uri)
        self._cancel(uri)
        self.session.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def _cancel(self, uri: str) -> None:
        handle = self._pending.pop(uri, None)
        if handle is not None:
            handle.cancel()
        task = self._running.pop(uri, None)
        if task is not None:
            task.cancel()

    def shutdown(self) -> None:
        for uri in list(self._pending) + list(self._running):
            self._cancel(uri)

    async def prompts(self, doc: Document) -> list[Prompt]:
        """The document's prompts; a long text is read in a worker thread (one detection per
        version, however many requests wait for it)."""
        analyzer, min_words = self.session.analyzer, self.session.settings.min_words
        hit = analyzer.cached(doc, min_words)
        if hit is not None:
            return hit
        if len(doc.text) < THREAD_CHARS:
            return analyzer.prompts(doc, min_words)
        key = (doc.version, id(doc.text))
        job = self._detecting.get(doc.uri)
        if job is None or job[0] != key:
            snapshot = Document(doc.uri, doc.text, doc.language_id, doc.version)
            future = asyncio.ensure_future(asyncio.to_thread(analyzer.detection(doc, min_words)))

            def done(f: asyncio.Future[list[Prompt]]) -> None:
                if self._detecting.get(doc.uri, (None, None))[1] is f:
                    del self._detecting[doc.uri]
                if not f.cancelled() and f.exception() is None:
                    analyzer.store(snapshot, min_words, f.result())

            future.add_done_callback(done)
            job = self._detecting[doc.uri] = (key, future)
        return await asyncio.shield(job[1])

    async def checked(self, doc: Document) -> tuple[list[Checked], int]:
        """The document's first MAX_PROMPTS prompts, linted a slice at a time; and how many
        prompts it has."""
        analyzer = self.session.analyzer
        prompts = await self.prompts(doc)
        out: list[Checked] = []
        deadline = time.monotonic() + SLICE_S
        for prompt in prompts[:MAX_PROMPTS]:
            out.append(analyzer.check(prompt))
            if time.monotonic() > deadline:
                await asyncio.sleep(0)
                deadline = time.monotonic() + SLICE_S
        return out, len(prompts)

    # --- diagnostics -----------------------------------------------------------------------

    def schedule_diagnostics(self, uri: str, *, immediate: bool = False) -> None:
        """Publish soon: at once after a quiet spell, else once per debounce window."""
        if uri in self._pending:
            return
        since = time.monotonic() - self._last_run.get(uri, 0.0)
        delay = 0.0 if immediate or since >= DEBOUNCE_S else DEBOUNCE_S - since
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(delay, self._start_publish, uri)

    def _start_publish(self, uri: str) -> None:
        self._pending.pop(uri, None)
        self._last_run[uri] = time.monotonic()
        running = self._running.pop(uri, None)
        if running is not None:
            running.cancel()  # a newer version supersedes it
        task = asyncio.get_running_loop().create_task(self.publish(uri))
        self._running[uri] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._running.get(uri) is done:
                del self._running[uri]

        task.add_done_callback(forget)

    async def publish(self, uri: str) -> None:
        """Check the document and send its diagnostics (as JSON text: a large file has a
        thousand, and building objects for them costs more than finding them)."""
        session = self.session
        doc = session.documents.get(uri)
        if doc is None:
            return
        version = doc.version
        code_links = session.supports_code_links()
        try:
            checked, total = await self.checked(doc)
            if doc.version != version:
                return  # changed meanwhile: a newer publish is on its way
            index, how = doc.index, session.settings
            prepared: list[list[tuple[int, int, int, str]]] = []
            if how.diagnostics_enabled:
                deadline = time.monotonic() + SLICE_S
                for item in checked:
                    if item.report is not None:
                        prepared.append(
                            diagnostics.prepare(item, index, how, session.encoding, code_links)
                        )
                    if time.monotonic() > deadline:
                        await asyncio.sleep(0)
                        deadline = time.monotonic() + SLICE_S
                        if doc.version != version:
                            return  # changed meanwhile: a newer publish is on its way
            found = diagnostics.encode(
                checked,
                index,
                how,
                session.encoding,
                code_links=code_links,
                prompts_total=total,
                prepared=prepared,
            )
        except Exception:
            log.exception("diagnostics failed for %s", uri)
            found = "[]"
        method = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
        pygls_compat.send_json(
            session.server,
            f'{{"jsonrpc":"2.0","method":"{method}","params":{{"uri":{json.dumps(uri)},'
            f'"diagnostics":{found},"version":{version}}}}}',
        )

    # --- code actions, hover, lens ---------------------------------------------------------

    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        session = self.session
        doc = session.documents.get(params.text_document.uri)
        if doc is None:
            return []
        version = doc.version
        prompts = await self.prompts(doc)
        if doc.version != version:
            return []  # changed while it was read: the editor asks again
        start, end = doc.index.offsets(params.range, session.encoding)
        only = [str(k) for k in params.context.only] if params.context.only else None
        found = actions.list_actions(
            doc,
            prompts,
            session.analyzer,
            start,
            end,
            session.encoding,
            only=only,
            use_resolve=session.supports_resolve_edit(),
            document_changes=session.supports_document_changes(),
        )
        return found + self._tool_actions(doc, prompts, start, end, only)

    def _tool_actions(
        self, doc: Document, prompts: list[Prompt], start: int, end: int, only: list[str] | None
    ) -> list[types.CodeAction]:
        """Extract variables, Trim prompt, Optimize with instruction… (listed offline)."""
        session = self.session
        prompt = find_at(prompts, start, end)
        rng = (
            None if prompt is None else doc.index.range(prompt.start, prompt.end, session.encoding)
        )
        return tools.list_actions(
            doc.uri,
            doc.version,
            prompt,
            rng,
            only=only,
            use_resolve=session.supports_resolve_edit(),
            client_commands=session.settings.client_commands,
        )

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        session = self.session
        doc = session.documents.get(params.text_document.uri)
        if doc is None:
            return None
        version = doc.version
        prompts = await self.prompts(doc)
        if doc.version != version:
            return None  # changed while it was read: the editor asks again
        offset = doc.index.offset(params.position, session.encoding)
        prompt = find_at(prompts, offset)
        if prompt is None:
            return None
        report, error = session.analyzer.lint(prompt.content)
        last, note = await self._last_optimization(prompt.content)
        markdown = session.supports_markdown()
        text = hover.hover_text(prompt, report, error, last, note, markdown=markdown)
        extra = await session.library.hover_section(prompt.content, markdown=markdown)
        if extra:
            text = f"{text}\n\n{extra}"
        kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
        return types.Hover(
            contents=types.MarkupContent(kind=kind, value=text),
            range=doc.index.range(prompt.start, prompt.end, session.encoding),
        )

    async def _last_optimization(self, text: str) -> tuple[api.HistoryItem | None, str]:
        link = self.session.link
        if not link.connected:
            return None, "History: the daemon is not running (start it: promptd start)."
        try:
            result = await link.call(
                "history",
                api.HistoryParams(limit=1, text=text),
                result_type=api.HistoryResult,
                timeout=1.0,
                autostart=False,
            )
        except (TimeoutError, PromptdError) as exc:
            return None, f"History unavailable: {exc}"
        items = result.items
        return (items[0], "") if items else (None, "Not optimized yet.")

    async def code_lenses(self, params: types.CodeLensParams) -> list[types.CodeLens]:
        session = self.session
        doc = session.documents.get(params.text_document.uri)
        if doc is None or not session.settings.code_lens:
            return []
        version = doc.version
        checked, _ = await self.checked(doc)
        if doc.version != version:
            return []  # changed while it was read: the editor asks again
        found = lens.lenses(doc.uri, checked, doc.index, session.settings, session.encoding)
        return found + session.library.lenses(doc.uri, checked, doc.index, session.encoding)

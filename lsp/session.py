"""The server's state and its flows: documents, settings, diagnostics, optimize, status.

``server.py`` registers handlers that call into one :class:`Session`; the answers are
computed by the pure functions in :mod:`promptd.lsp.features`. Everything here is defensive: a
feature that fails is logged and answers nothing, the others go on.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import msgspec
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from promptd.daemon import api
from promptd.daemon.errors import DaemonError, PromptdError
from promptd.daemon.paths import resolve

from . import protocol
from .features import actions, diagnostics, hover, lens, literals, optimize, settings
from .features.analysis import Analyzer
from .features.daemon_link import DaemonLink
from .features.detect import find_at
from .features.documents import Document, Documents

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803  # LSP RequestFailed
DEBOUNCE_S = 0.15


class Failed(JsonRpcException):
    """An error answer the editor shows as is (the message says what to do)."""

    CODE = REQUEST_FAILED


class Session:
    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.documents = Documents()
        self.analyzer = Analyzer()
        self.settings = settings.Settings()
        self.link = DaemonLink(resolve(), on_notice=self._on_notice, on_state=self._on_state)
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._last_run: dict[str, float] = {}
        self._status: dict[str, Any] = {
            "connected": False,
            "engine": "",
            "model": "",
            "circuit": "",
            "spend_today_usd": 0.0,
            "daily_budget_usd": None,
            "message": "",
        }

    # --- client capabilities ---------------------------------------------------------------

    @property
    def encoding(self) -> str:
        caps = self.server.protocol.server_capabilities
        encoding = caps.position_encoding if caps is not None else None
        return str(encoding or types.PositionEncodingKind.Utf16)

    def _caps(self) -> types.ClientCapabilities:
        return self.server.client_capabilities or types.ClientCapabilities()

    def supports_resolve_edit(self) -> bool:
        td = self._caps().text_document
        code_action = td.code_action if td is not None else None
        if code_action is None or not code_action.data_support:
            return False
        support = code_action.resolve_support
        return support is not None and "edit" in support.properties

    def supports_document_changes(self) -> bool:
        ws = self._caps().workspace
        return bool(ws and ws.workspace_edit and ws.workspace_edit.document_changes)

    def supports_progress(self) -> bool:
        window = self._caps().window
        return bool(window and window.work_done_progress)

    def supports_code_links(self) -> bool:
        td = self._caps().text_document
        pd = td.publish_diagnostics if td else None
        return bool(pd and pd.code_description_support)

    def supports_markdown(self) -> bool:
        td = self._caps().text_document
        formats = td.hover.content_format if td and td.hover else None
        return bool(formats and types.MarkupKind.Markdown in formats)

    # --- settings ------------------------------------------------------------------------------

    def apply_settings(self, raw: Any) -> None:
        old = self.settings
        self.settings = settings.parse(raw, old)
        for problem in self.settings.problems:
            self.show(types.MessageType.Warning, f"promptd: {problem}")
        if (old.min_words, old.diagnostics_enabled, old.diagnostics_severity) != (
            self.settings.min_words,
            self.settings.diagnostics_enabled,
            self.settings.diagnostics_severity,
        ):
            for doc in self.documents:
                self.schedule_diagnostics(doc.uri, immediate=True)
        if old.code_lens != self.settings.code_lens or old.min_words != self.settings.min_words:
            self._refresh_lenses()

    async def pull_settings(self) -> None:
        ws = self._caps().workspace
        if not (ws and ws.configuration):
            return
        try:
            result = await self.server.workspace_configuration_async(
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
        ws = self._caps().workspace
        if ws and ws.code_lens and ws.code_lens.refresh_support:
            self.server.workspace_code_lens_refresh(None)

    # --- documents and diagnostics -----------------------------------------------------------

    def open(self, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        self.documents.open(item.uri, item.text, item.language_id, item.version)
        self.schedule_diagnostics(item.uri, immediate=True)

    def change(self, params: types.DidChangeTextDocumentParams) -> None:
        doc = self.documents.get(params.text_document.uri)
        if doc is None:
            return
        doc.apply(list(params.content_changes), params.text_document.version, self.encoding)
        self.schedule_diagnostics(doc.uri)

    def close(self, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        self.documents.close(uri)
        self.analyzer.forget(uri)
        handle = self._pending.pop(uri, None)
        if handle is not None:
            handle.cancel()
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    def schedule_diagnostics(self, uri: str, *, immediate: bool = False) -> None:
        """Publish soon: at once after a quiet spell, else once per debounce window."""
        if uri in self._pending:
            return
        since = time.monotonic() - self._last_run.get(uri, 0.0)
        delay = 0.0 if immediate or since >= DEBOUNCE_S else DEBOUNCE_S - since
        loop = asyncio.get_running_loop()
        self._pending[uri] = loop.call_later(delay, self._publish, uri)

    def _publish(self, uri: str) -> None:
        self._pending.pop(uri, None)
        self._last_run[uri] = time.monotonic()
        doc = self.documents.get(uri)
        if doc is None:
            return
        try:
            found = diagnostics.encode(
                self.analyzer.checked(doc, self.settings.min_words),
                doc.index,
                self.settings,
                self.encoding,
                code_links=self.supports_code_links(),
            )
        except Exception:
            log.exception("diagnostics failed for %s", uri)
            found = "[]"
        # JSON text, not lsprotocol structs nor dicts: a large file has a thousand
        # diagnostics, and building and encoding objects for them (then collecting the
        # garbage) costs more than finding them; the text is assembled from cached pieces.
        method = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
        self._send_json(
            f'{{"jsonrpc":"2.0","method":"{method}","params":{{"uri":{json.dumps(uri)},'
            f'"diagnostics":{found},"version":{doc.version}}}}}'
        )

    def _send_json(self, body: str) -> None:
        """Write one JSON-RPC message that is already JSON text (ASCII) to the client."""
        writer = self.server.protocol.writer
        if writer is None:
            log.error("no transport to send %d bytes to", len(body))
            return
        data = body.encode()
        writer.write(f"Content-Length: {len(data)}\r\n\r\n".encode() + data)

    def document(self, uri: str) -> Document:
        doc = self.documents.get(uri)
        if doc is None:
            raise Failed(f"document {uri} is not open in the editor: open it and try again")
        return doc

    # --- code actions, hover, lens ---------------------------------------------------------

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        doc = self.documents.get(params.text_document.uri)
        if doc is None:
            return []
        start, end = doc.index.offsets(params.range, self.encoding)
        only = [str(k) for k in params.context.only] if params.context.only else None
        return actions.list_actions(
            doc,
            self.analyzer.prompts(doc, self.settings.min_words),
            self.analyzer,
            start,
            end,
            self.encoding,
            only=only,
            use_resolve=self.supports_resolve_edit(),
            document_changes=self.supports_document_changes(),
        )

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        data = actions.parse_data(action.data)
        if data is None or action.edit is not None:
            return action  # not ours (Neovim 0.7 resolves every action): unchanged
        rng = self.server.protocol._converter.structure(data["range"], types.Range)
        edit = await self.optimize(
            str(data["uri"]),
            rng,
            data.get("prompt_type"),
            selection=bool(data.get("selection")),
            apply=False,
        )
        action.edit = edit
        return action

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        doc = self.documents.get(params.text_document.uri)
        if doc is None:
            return None
        offset = doc.index.offset(params.position, self.encoding)
        prompts = self.analyzer.prompts(doc, self.settings.min_words)
        prompt = find_at(prompts, offset)
        if prompt is None:
            return None
        report, error = self.analyzer.lint(prompt.content)
        last, note = await self._last_optimization(prompt.content)
        markdown = self.supports_markdown()
        text = hover.hover_text(prompt, report, error, last, note, markdown=markdown)
        kind = types.MarkupKind.Markdown if markdown else types.MarkupKind.PlainText
        return types.Hover(
            contents=types.MarkupContent(kind=kind, value=text),
            range=doc.index.range(prompt.start, prompt.end, self.encoding),
        )

    async def _last_optimization(self, text: str) -> tuple[api.HistoryItem | None, str]:
        if not self.link.connected:
            return None, "History: the daemon is not running (start it: promptd start)."
        try:
            result = await self.link.call(
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

    def code_lenses(self, params: types.CodeLensParams) -> list[types.CodeLens]:
        doc = self.documents.get(params.text_document.uri)
        if doc is None:
            return []
        checked = self.analyzer.checked(doc, self.settings.min_words)
        return lens.lenses(doc.uri, checked, doc.index, self.settings, self.encoding)

    # --- optimize ------------------------------------------------------------------------------

    async def optimize(
        self,
        uri: str,
        rng: types.Range,
        prompt_type: Any,
        *,
        selection: bool,
        apply: bool,
    ) -> types.WorkspaceEdit:
        """Optimize the prompt (or selection) at ``rng``; the edit, applied when ``apply``."""
        doc = self.document(uri)
        try:
            ptype = optimize.check_type(prompt_type if isinstance(prompt_type, str) else None)
            start, end = doc.index.offsets(rng, self.encoding)
            prompts = self.analyzer.prompts(doc, self.settings.min_words)
            target = optimize.find_target(doc, prompts, start, end, selection=selection)
        except optimize.TargetError as exc:
            raise Failed(str(exc)) from exc
        params = optimize.params_for(target, ptype, self.settings)
        result = await self._run_with_progress(params)
        if not result.changed or result.optimized == target.text:
            reason = result.unchanged_reason or "it already scores well"
            self.show(
                types.MessageType.Info,
                f"promptd: prompt left as it is ({reason}); score {result.score_before}",
            )
            return types.WorkspaceEdit(changes={})
        doc = self.document(uri)
        try:
            target = optimize.revalidate(
                doc, self.analyzer.prompts(doc, self.settings.min_words), target
            )
            text = optimize.replacement(target, result.optimized)
        except (optimize.TargetError, literals.RenderError) as exc:
            raise Failed(f"promptd: {exc}") from exc
        edit = optimize.workspace_edit(
            doc, target, text, self.encoding, document_changes=self.supports_document_changes()
        )
        note = f"score {result.score_before} → {result.score_after}"
        if result.cached:
            note += ", from cache"
        if result.degraded:
            self.show(
                types.MessageType.Warning,
                f"promptd: degraded answer ({result.degraded_reason or 'provider down'})",
            )
        if apply:
            applied = await self.server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=edit, label=f"Optimize prompt ({note})")
            )
            if not applied.applied:
                reason = applied.failure_reason or "the editor refused the edit"
                raise Failed(f"promptd: the optimized prompt was not applied: {reason}")
        return edit

    async def _run_with_progress(self, params: api.OptimizeParams) -> api.OptimizeResult:
        token: str | None = None
        task = asyncio.current_task()
        cancelled_by_user = False

        def cancel(_: Future[Any]) -> None:
            nonlocal cancelled_by_user
            if _.cancelled() and task is not None:
                cancelled_by_user = True
                task.cancel()

        # $/cancelRequest of workspace/executeCommand cancels pygls's outer future only, not
        # this task: follow it (for codeAction/resolve the outer future is this task).
        outer: Any = self.server.protocol._request_futures.get(self.server.protocol.msg_id or "")
        if outer is not None and outer is not task:
            outer.add_done_callback(cancel)
        progress = self.server.work_done_progress
        if self.supports_progress():
            token = f"promptd-{uuid.uuid4()}"
            try:
                await progress.create_async(token)
                progress.begin(
                    token,
                    types.WorkDoneProgressBegin(
                        title="promptd: optimizing prompt",
                        cancellable=True,
                        message="starting",
                        percentage=0,
                    ),
                )
                progress.tokens[token].add_done_callback(cancel)
            except Exception as exc:
                log.warning("work-done progress unavailable: %s", exc)
                token = None

        def report(p: api.Progress) -> None:
            if token is not None:
                progress.report(token, optimize.progress_report(p))

        end_message = "failed"
        try:
            result: api.OptimizeResult = await self.link.call(
                "optimize", params, result_type=api.OptimizeResult, on_progress=report
            )
            end_message = f"score {result.score_before} → {result.score_after}"
            return result
        except asyncio.CancelledError:
            end_message = "cancelled"
            if cancelled_by_user:
                raise Failed("promptd: optimization cancelled; nothing applied") from None
            raise
        except PromptdError as exc:
            raise Failed(f"promptd: {exc}") from exc
        finally:
            if token is not None:
                progress.end(token, types.WorkDoneProgressEnd(message=end_message))
                progress.tokens.pop(token, None)

    # --- commands ------------------------------------------------------------------------------

    async def command_optimize(self, args: list[Any], *, selection: bool) -> dict[str, Any]:
        if len(args) < 2 or not isinstance(args[0], str):
            name = protocol.CMD_OPTIMIZE_SELECTION if selection else protocol.CMD_OPTIMIZE
            raise Failed(f"{name} needs arguments [uri, range, prompt_type?]")
        try:
            rng = self.server.protocol._converter.structure(args[1], types.Range)
        except Exception as exc:
            raise Failed(f"the range argument is not an LSP Range: {args[1]!r}") from exc
        ptype = args[2] if len(args) > 2 else None
        try:
            edit = await self.optimize(args[0], rng, ptype, selection=selection, apply=True)
        except Failed as exc:
            self.show(types.MessageType.Error, exc.message)
            raise
        return {"applied": bool(edit.changes or edit.document_changes)}

    async def command_history(self, args: list[Any]) -> list[dict[str, Any]]:
        text: str | None = None
        if len(args) >= 2 and isinstance(args[0], str):
            doc = self.document(args[0])
            rng = self.server.protocol._converter.structure(args[1], types.Range)
            start, end = doc.index.offsets(rng, self.encoding)
            prompt = find_at(self.analyzer.prompts(doc, self.settings.min_words), start, end)
            text = prompt.content if prompt is not None else doc.text[start:end] or None
        try:
            result = await self.link.call(
                "history", api.HistoryParams(limit=20, text=text), result_type=api.HistoryResult
            )
        except PromptdError as exc:
            raise Failed(f"promptd: {exc}") from exc
        items = [msgspec.to_builtins(item) for item in result.items]
        if not items:
            self.show(types.MessageType.Info, "promptd: no optimizations yet")
        else:
            last = result.items[0]
            self.show(
                types.MessageType.Info,
                f"promptd: {len(items)} optimization(s); last {last.at}: "
                f"{last.score_before} → {last.score_after} ({last.preview})",
            )
        return items

    async def command_status(self) -> dict[str, Any]:
        try:
            status = await self.link.call(
                "status", {}, result_type=api.StatusResult, autostart=False
            )
        except PromptdError as exc:
            self._status.update(connected=False, message=str(exc))
            self._notify_status()
            return dict(self._status)
        self._status.update(
            connected=True,
            engine=status.engine,
            model=status.provider.model,
            circuit=status.provider.circuit,
            spend_today_usd=status.spend.today_usd,
            daily_budget_usd=status.spend.daily_budget_usd,
            message="",
        )
        self._notify_status()
        out = msgspec.to_builtins(status)
        assert isinstance(out, dict)
        return out

    async def command_start_daemon(self) -> dict[str, Any]:
        try:
            await self.link.client(autostart=True)
        except PromptdError as exc:
            raise Failed(f"promptd: {exc}") from exc
        self.show(types.MessageType.Info, "promptd: the daemon is running")
        return await self.command_status()

    async def command_stop_daemon(self) -> dict[str, Any]:
        if not self.link.connected:
            try:
                await self.link.client(autostart=False)
            except DaemonError:
                self.show(types.MessageType.Info, "promptd: the daemon is not running")
                return {"stopped": False}
        await self.link.stop_daemon()
        self.show(types.MessageType.Info, "promptd: the daemon stopped")
        return {"stopped": True}

    # --- daemon state ----------------------------------------------------------------------

    def _on_state(self, connected: bool, message: str) -> None:
        self._status.update(connected=connected, message="" if connected else message)
        self._notify_status()
        if connected:
            asyncio.get_running_loop().create_task(self.command_status())

    def _on_notice(self, notice: api.StatusNotice) -> None:
        self._status.update(
            connected=True,
            engine=notice.engine,
            model=notice.model,
            circuit=notice.circuit,
            spend_today_usd=notice.today_usd,
            daily_budget_usd=notice.daily_budget_usd,
            message=notice.message,
        )
        if notice.message:
            level = {"error": types.MessageType.Error, "warning": types.MessageType.Warning}
            self.show(level.get(notice.level, types.MessageType.Info), f"promptd: {notice.message}")
        self._notify_status()

    def _notify_status(self) -> None:
        try:
            self.server.protocol.notify(protocol.NOTIFY_STATUS, dict(self._status))
        except Exception:
            log.exception("promptd/status notification failed")

    def show(self, kind: types.MessageType, message: str) -> None:
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    async def shutdown(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        await self.link.close()


def guarded(fallback: Callable[[], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Catch and log a failing handler, answering ``fallback()``; Failed passes through."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any) -> Any:
                try:
                    return await fn(*args)
                except (Failed, asyncio.CancelledError):
                    raise
                except Exception:
                    log.exception("%s failed", fn.__name__)
                    return fallback()

            return run_async

        @functools.wraps(fn)
        def run(*args: Any) -> Any:
            try:
                return fn(*args)
            except Failed:
                raise
            except Exception:
                log.exception("%s failed", fn.__name__)
                return fallback()

        return run

    return wrap

"""Optimize a prompt through the daemon: the target, work-done progress, cancel, the edit.

Two ways in: ``codeAction/resolve`` (the edit is returned, the editor applies it) and the
``promptd.optimize`` / ``promptd.optimizeSelection`` commands (the edit is applied with
``workspace/applyEdit``). Either can be cancelled from the editor: ``$/cancelRequest`` or the
progress notification's cancel button stops the daemon's work and nothing is applied.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from promptd.daemon import api
from promptd.daemon.errors import PromptdError

from .. import protocol, pygls_compat
from ..errors import BadArguments, Failed
from ..features import actions, literals, optimize
from ..features.optimize import Target

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger(__name__)


class OptimizeFlow:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        """codeAction/resolve: our "Optimize prompt" actions get their edit; others pass."""
        data = actions.parse_data(action.data)
        if data is None or action.edit is not None:
            return action  # not ours (Neovim 0.7 resolves every action): unchanged
        rng = self.session.range_argument(data.get("range"))
        uri = data.get("uri")
        if not isinstance(uri, str):
            raise BadArguments(f"the action's data has no document uri: {data!r}")
        selection = bool(data.get("selection"))
        action.edit = await self.optimize(
            uri, rng, data.get("prompt_type"), selection=selection, apply=False
        )
        return action

    async def command(self, args: list[Any], *, selection: bool) -> dict[str, Any]:
        """promptd.optimize / promptd.optimizeSelection [uri, range, prompt_type?, options?];
        options: ``{"instruct": "more formal"}``."""
        name = protocol.CMD_OPTIMIZE_SELECTION if selection else protocol.CMD_OPTIMIZE
        if len(args) < 2 or not isinstance(args[0], str):
            raise BadArguments(
                f"{name} needs arguments [uri, range, prompt_type?] (or [uri, range, prompt_type,"
                " options])"
            )
        rng = self.session.range_argument(args[1])
        ptype = args[2] if len(args) > 2 else None
        try:
            instruct = optimize.instruction(args[3] if len(args) > 3 else None)
        except optimize.TargetError as exc:
            raise BadArguments(f"{name}: {exc}") from exc
        try:
            edit = await self.optimize(
                args[0], rng, ptype, selection=selection, apply=True, instruct=instruct
            )
        except Failed as exc:
            self.session.show(types.MessageType.Error, exc.message)
            raise
        return {"applied": bool(edit.changes or edit.document_changes)}

    async def optimize(
        self,
        uri: str,
        rng: types.Range,
        prompt_type: Any,
        *,
        selection: bool,
        apply: bool,
        instruct: str | None = None,
    ) -> types.WorkspaceEdit:
        """Optimize the prompt (or selection) at ``rng``; the edit, applied when ``apply``."""
        session = self.session
        doc = session.document(uri)
        min_words = session.settings.min_words
        try:
            ptype = optimize.check_type(prompt_type if isinstance(prompt_type, str) else None)
            start, end = doc.index.offsets(rng, session.encoding)
            prompts = session.analyzer.prompts(doc, min_words)
            target = optimize.find_target(doc, prompts, start, end, selection=selection)
        except optimize.TargetError as exc:
            raise Failed(str(exc)) from exc
        params = optimize.params_for(target, ptype, session.settings)
        request = optimize.with_extras(params, instruct=instruct, target=session.settings.target)
        result, unmet = await self._run_with_progress(request)
        if unmet:
            session.show(types.MessageType.Warning, optimize.unmet_note(unmet))
        if not result.changed or result.optimized == target.text:
            reason = result.unchanged_reason or "it already scores well"
            session.show(
                types.MessageType.Info,
                f"promptd: prompt left as it is ({reason}); score {result.score_before}",
            )
            return types.WorkspaceEdit(changes={})
        target, text, edit = self.rewrite(uri, target, result.optimized)
        original = session.document(uri).text[target.start : target.end]
        session.verdicts.expect(uri, target.start, target.end, original, text, result.id)
        note = f"score {result.score_before} → {result.score_after}"
        if result.cached:
            note += ", from cache"
        if result.degraded:
            session.show(
                types.MessageType.Warning,
                f"promptd: degraded answer ({result.degraded_reason or 'provider down'})",
            )
        if apply:
            await self.apply(edit, f"Optimize prompt ({note})", "the optimized prompt")
        return edit

    def rewrite(
        self, uri: str, target: Target, new_text: str
    ) -> tuple[Target, str, types.WorkspaceEdit]:
        """The edit putting ``new_text`` in place of ``target``'s prompt, found again in the
        document as it is now (it may have been edited while the daemon worked)."""
        session = self.session
        doc = session.document(uri)
        try:
            prompts = session.analyzer.prompts(doc, session.settings.min_words)
            target = optimize.revalidate(doc, prompts, target)
            text = optimize.replacement(target, new_text)
        except (optimize.TargetError, literals.RenderError) as exc:
            raise Failed(f"promptd: {exc}") from exc
        edit = optimize.workspace_edit(
            doc,
            target,
            text,
            session.encoding,
            document_changes=session.supports_document_changes(),
        )
        return target, text, edit

    async def apply(self, edit: types.WorkspaceEdit, label: str, what: str) -> None:
        """workspace/applyEdit; Failed ("``what`` was not applied: why") when refused."""
        applied = await self.session.server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
        if not applied.applied:
            reason = applied.failure_reason or "the editor refused the edit"
            raise Failed(f"promptd: {what} was not applied: {reason}")

    async def _run_with_progress(
        self, params: api.OptimizeParams | dict[str, Any]
    ) -> tuple[api.OptimizeResult, list[str]]:
        """The daemon's answer, and the instructions it could not honour."""
        session = self.session
        token: str | None = None
        task = asyncio.current_task()
        cancelled_by_user = False

        def cancel(done: Future[Any]) -> None:
            nonlocal cancelled_by_user
            if done.cancelled() and task is not None:
                cancelled_by_user = True
                task.cancel()

        # $/cancelRequest of workspace/executeCommand cancels pygls's outer future only, not
        # this task: follow it (for codeAction/resolve the outer future is this task).
        outer = pygls_compat.request_future(session.server)
        if outer is not None and outer is not task:
            outer.add_done_callback(cancel)
        progress = session.server.work_done_progress
        if session.supports_progress():
            token = f"promptd-{uuid.uuid4()}"
            # The token gets its cancel future before the editor hears of it: a cancel that
            # follows the create reply at once (one read, one callback) must find it.
            progress.tokens[token] = Future()
            progress.tokens[token].add_done_callback(cancel)

        def report(p: api.Progress) -> None:
            if token is not None:
                progress.report(token, optimize.progress_report(p))

        end_message = "failed"
        try:
            if token is not None and not await self._begin_progress(token):
                progress.tokens.pop(token, None)
                token = None
            raw = await session.link.call("optimize", params, on_progress=report)
            result, unmet = optimize.decode_result(raw)
            end_message = f"score {result.score_before} → {result.score_after}"
            return result, unmet
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

    async def _begin_progress(self, token: str) -> bool:
        """Ask the editor for a progress bar and begin it; False when it has none to give."""
        server = self.session.server
        try:
            await server.protocol.send_request_async(
                types.WINDOW_WORK_DONE_PROGRESS_CREATE,
                types.WorkDoneProgressCreateParams(token=token),
            )
        except Exception as exc:
            log.warning("work-done progress unavailable: %s", exc)
            return False
        server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title="promptd: optimizing prompt",
                cancellable=True,
                message="starting",
                percentage=0,
            ),
        )
        return True

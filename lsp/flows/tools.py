"""The prompt tools through the daemon: "Extract variables" (``templatize``) and "Trim prompt"
(``trim``).

Two ways in, as for optimize: ``codeAction/resolve`` returns the edit (the editor applies it),
and the ``promptd.extractVariables`` / ``promptd.trim`` commands apply it with
``workspace/applyEdit``. The extracted values, or the tokens before → after, are shown with
``window/showMessage`` (there is no virtual document to open in every editor). Nothing is
applied when the prompt changed meanwhile or the result would not be a valid literal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from promptd.daemon.errors import PromptdError
from promptd.daemon.tools.types import (
    TemplatizeParams,
    TemplatizeResult,
    TrimParams,
    TrimResult,
)

from ..errors import BadArguments, Failed
from ..features import optimize, tools

if TYPE_CHECKING:
    from ..session import Session


class ToolsFlow:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def owns(action: types.CodeAction) -> bool:
        return tools.parse_data(action.data) is not None

    async def resolve(self, action: types.CodeAction) -> types.CodeAction:
        """codeAction/resolve of a tool action: its edit; anyone else's comes back unchanged."""
        data = tools.parse_data(action.data)
        if data is None or action.edit is not None:
            return action
        uri = data.get("uri")
        if not isinstance(uri, str):
            raise BadArguments(f"the action's data has no document uri: {data!r}")
        rng = self.session.range_argument(data.get("range"))
        action.edit = await self.run(str(data["tool"]), uri, rng, apply=False)
        return action

    async def command(self, tool: str, args: list[Any]) -> dict[str, Any]:
        """promptd.extractVariables / promptd.trim [uri, range]."""
        if len(args) < 2 or not isinstance(args[0], str):
            raise BadArguments(f"{tools.COMMANDS[tool]} needs arguments [uri, range]")
        rng = self.session.range_argument(args[1])
        try:
            edit = await self.run(tool, args[0], rng, apply=True)
        except Failed as exc:
            self.session.show(types.MessageType.Error, exc.message)
            raise
        return {"applied": bool(edit.changes or edit.document_changes)}

    async def run(
        self, tool: str, uri: str, rng: types.Range, *, apply: bool
    ) -> types.WorkspaceEdit:
        """Run ``tool`` on the prompt at ``rng``; the edit (applied when ``apply``)."""
        session = self.session
        doc = session.document(uri)
        min_words = session.settings.min_words
        try:
            start, end = doc.index.offsets(rng, session.encoding)
            prompts = session.analyzer.prompts(doc, min_words)
            target = optimize.find_target(doc, prompts, start, end, selection=False)
        except optimize.TargetError as exc:
            raise Failed(f"promptd: {exc}") from exc
        assert target.prompt is not None  # not a selection
        if tool == "templatize":
            refusal = tools.extract_refusal(target.prompt)
            if refusal:
                raise Failed(f"promptd: cannot extract variables: {refusal}")
        new_text, note = await self._call(tool, target.text)
        if new_text == target.text:
            session.show(types.MessageType.Info, note)
            return types.WorkspaceEdit(changes={})
        _, _, edit = session.optimizer.rewrite(uri, target, new_text)
        if apply:
            title = tools.TITLES[tool]
            await session.optimizer.apply(edit, title, f"the {title.lower()} edit")
        session.show(types.MessageType.Info, note)
        return edit

    async def _call(self, tool: str, text: str) -> tuple[str, str]:
        """(new prompt text, the note for the user) from the daemon."""
        link = self.session.link
        try:
            if tool == "templatize":
                made: TemplatizeResult = await link.call(
                    "templatize", TemplatizeParams(text=text), result_type=TemplatizeResult
                )
                return made.template, tools.variables_table(made)
            budget = tools.trim_budget(self.session.settings.trim_max_tokens)
            cut: TrimResult = await link.call(
                "trim", TrimParams(text=text, max_tokens=budget), result_type=TrimResult
            )
            return cut.trimmed, tools.trim_note(cut)
        except PromptdError as exc:
            raise Failed(f"promptd: {exc}") from exc

"""A pytest-lsp editor for the promptd language server: it keeps document texts, applies
``workspace/applyEdit`` like an editor (and sends the didChange), and waits on conditions
with deadlines."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

from promptd.lsp.features.documents import LineIndex
from tests.waiting import until

SERVER_COMMAND = [sys.executable, "-m", "promptd.lsp.server"]
PROFILES = ("visual-studio-code", "neovim@v0.7.0", "neovim@v0.11.0")
PROMPTD = str(Path(sys.executable).with_name("promptd"))


def _code_action_or_command(obj: Any, _: type) -> types.Command | types.CodeAction:
    # lsprotocol parses any object with a "command" key as a Command; a CodeAction carrying
    # a Command has an object there.
    if isinstance(obj.get("command"), str):
        return types.Command(**{k: obj[k] for k in ("title", "command", "arguments") if k in obj})
    return CONVERTER_OF[0].structure(obj, types.CodeAction)  # type: ignore[no-any-return]


CONVERTER_OF: list[Any] = []


class Editor:
    """The test's side of the session: documents as an editor holds them."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.applied: list[types.WorkspaceEdit] = []
        self.status: list[dict[str, Any]] = []
        self.encoding = types.PositionEncodingKind.Utf16
        self.refuse_edits = False
        self.profile = ""
        self.capabilities = types.ServerCapabilities()
        converter = client.protocol._converter
        CONVERTER_OF[:] = [converter]
        converter.register_structure_hook(
            Union[types.Command, types.CodeAction],  # noqa: UP007 (the hook's key)
            _code_action_or_command,
        )

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            if self.refuse_edits:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="refused")
            self.apply(params.edit)
            return types.ApplyWorkspaceEditResult(applied=True)

        @client.feature("promptd/status")
        def status(params: Any) -> None:
            self.status.append(params if isinstance(params, dict) else params._asdict())

        @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
        def refresh(params: None) -> None:
            return None

    async def start(
        self, profile: str, options: dict[str, Any] | None = None
    ) -> types.InitializeResult:
        result = await self.client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities(profile),
                initialization_options=options,
                root_uri=Path.cwd().as_uri(),
            )
        )
        self.encoding = result.capabilities.position_encoding or types.PositionEncodingKind.Utf16
        self.profile = profile
        self.capabilities = result.capabilities
        return result

    # --- documents ---------------------------------------------------------------------------

    def open(self, uri: str, text: str, language_id: str) -> None:
        self.texts[uri] = text
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id=language_id, version=1, text=text
                )
            )
        )

    def replace(self, uri: str, text: str) -> None:
        """A full-text change (what an edit in the editor amounts to)."""
        self.texts[uri] = text
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def edit(self, uri: str, start: int, end: int, new: str) -> None:
        """An incremental change replacing text[start:end] (code points) with ``new``."""
        index = LineIndex(self.texts[uri])
        rng = index.range(start, end, self.encoding)
        text = self.texts[uri]
        self.texts[uri] = text[:start] + new + text[end:]
        self.versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new)],
            )
        )

    def apply(self, edit: types.WorkspaceEdit) -> None:
        self.applied.append(edit)
        changes: dict[str, Sequence[types.TextEdit]] = dict(edit.changes or {})
        for doc_edit in edit.document_changes or []:
            assert isinstance(doc_edit, types.TextDocumentEdit)
            version = doc_edit.text_document.version
            uri = doc_edit.text_document.uri
            assert version is None or version == self.versions[uri], "stale edit"
            changes[uri] = [e for e in doc_edit.edits if isinstance(e, types.TextEdit)]
        for uri, edits in changes.items():
            text = self.texts[uri]
            index = LineIndex(text)
            spans = sorted(
                ((*index.offsets(e.range, self.encoding), e.new_text) for e in edits),
                reverse=True,
            )
            for start, end, new in spans:
                text = text[:start] + new + text[end:]
            self.replace(uri, text)

    # --- positions -----------------------------------------------------------------------

    def range_of(self, uri: str, needle: str, occurrence: int = 0) -> types.Range:
        text = self.texts[uri]
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(needle, start + 1)
        return LineIndex(text).range(start, start + len(needle), self.encoding)

    def text_at(self, uri: str, rng: types.Range) -> str:
        index = LineIndex(self.texts[uri])
        start, end = index.offsets(rng, self.encoding)
        return self.texts[uri][start:end]

    # --- requests ------------------------------------------------------------------------

    async def actions(
        self, uri: str, rng: types.Range, only: list[str] | None = None
    ) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=rng,
                context=types.CodeActionContext(diagnostics=[], only=only),
            )
        )
        out = []
        for item in result or []:
            assert isinstance(item, types.CodeAction), item
            out.append(item)
        return out

    async def command(self, name: str, *args: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(args))
        )

    async def wait_for(
        self, condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> Any:
        def ready() -> tuple[Any] | None:  # a value counts unless None or False, even []
            value = condition()
            return None if value is None or value is False else (value,)

        return (await until(ready, timeout, what, interval=0.01))[0]

    async def diagnostics(
        self,
        uri: str,
        check: Callable[[list[types.Diagnostic]], bool] | None = None,
        timeout: float = 10.0,
    ) -> list[types.Diagnostic]:
        """The diagnostics last published for ``uri`` (once they pass ``check``)."""

        def ready() -> list[types.Diagnostic] | None:
            if uri not in self.client.diagnostics:
                return None
            found = list(self.client.diagnostics[uri])
            return found if check is None or check(found) else None

        result: list[types.Diagnostic] = await self.wait_for(
            ready, timeout, f"diagnostics of {uri}"
        )
        return result


def promptd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the promptd CLI (the test's PROMPTD_HOME) and fail with its stderr."""
    result = subprocess.run(
        [PROMPTD, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 0, f"promptd {' '.join(args)} failed: {result.stderr}"
    return result


async def stop_server(client: LanguageClient, timeout: float = 30.0) -> None:
    """End the server under test whatever the test did: shutdown and exit when it still
    runs, and kill it when it has not exited after ``timeout``. pytest-lsp's own teardown
    waits for the server to exit without asking it to, so a test that failed before its
    shutdown (or a client that saw an error and skips the shutdown) would hang there."""
    process = client._server
    if process is None or process.returncode is not None:
        return
    try:
        await asyncio.wait_for(client.shutdown_session(), timeout)
        await asyncio.wait_for(process.wait(), timeout)
    except (TimeoutError, Exception):
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise AssertionError(
            f"the language server did not exit within {timeout} s of shutdown and exit"
        ) from None

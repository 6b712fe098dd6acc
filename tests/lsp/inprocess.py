"""The real language server in the test's process and event loop, with no stdio: messages go
in through the same dispatch the stdio loop uses, and what the server writes is parsed and
kept. Requests the server makes (applyEdit, progress, configuration) are answered as an
editor would, so every flow runs end to end and its coverage counts."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

from lsprotocol import converters, types
from pytest_lsp import client_capabilities

from promptd.lsp import pygls_compat
from promptd.lsp.features.documents import LineIndex
from promptd.lsp.server import create_server
from tests.waiting import until

_converter = converters.get_converter()
_LENGTH = re.compile(rb"Content-Length: (\d+)")


class InProcess:
    """An editor talking to the server object directly."""

    def __init__(self) -> None:
        self.server, self.session = create_server()
        self.server.protocol.set_writer(self)
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.apply_edits = True
        self.texts: dict[str, str] = {}
        self.ids = 0

    # --- the writer the server sends through -----------------------------------------------

    def write(self, data: bytes) -> None:
        head, body = data.split(b"\r\n\r\n", 1)
        match = _LENGTH.search(head)
        assert match is not None and int(match.group(1)) == len(body), head
        message = json.loads(body)
        if "id" in message and "method" in message:
            self.server_requests.append(message)
            asyncio.get_running_loop().call_soon(self._answer, message)
        elif "id" in message:
            self.responses[message["id"]] = message
        else:
            self.notifications.append(message)

    def close(self) -> None:
        pass

    def _answer(self, request: dict[str, Any]) -> None:
        result: Any = None
        if request["method"] == "workspace/applyEdit":
            result = {"applied": self.apply_edits}
            if not self.apply_edits:
                result["failureReason"] = "refused by the test"
        elif request["method"] == "workspace/configuration":
            result = [None for _ in request["params"]["items"]]
        self.send({"jsonrpc": "2.0", "id": request["id"], "result": result})

    # --- the editor's side ---------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        pygls_compat.dispatch(self.server, message)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": _plain(params)})

    def request_id(self, method: str, params: Any) -> int:
        self.ids += 1
        self.send({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": _plain(params)})
        return self.ids

    async def wait(self, condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
        return await until(condition, timeout, what, interval=0.005)

    async def answer(self, method: str, params: Any, timeout: float = 10.0) -> dict[str, Any]:
        msg_id = self.request_id(method, params)
        reply: dict[str, Any] = await self.wait(
            lambda: self.responses.get(msg_id), f"the answer to {method}", timeout
        )
        return reply

    async def result(self, method: str, params: Any, timeout: float = 10.0) -> Any:
        reply = await self.answer(method, params, timeout)
        assert "error" not in reply, reply
        return reply["result"]

    async def start(
        self, profile: str = "visual-studio-code", options: Any = None, caps: Any = None
    ) -> None:
        """initialize (with a pytest-lsp client profile, or ``caps`` as given) + initialized."""
        if caps is None:
            caps = _converter.unstructure(client_capabilities(profile))
        await self.result(
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": caps,
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})

    def open(self, uri: str, text: str, language_id: str = "python") -> None:
        self.texts[uri] = text
        item = {"uri": uri, "languageId": language_id, "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})

    def published(self, uri: str) -> list[dict[str, Any]] | None:
        for note in reversed(self.notifications):
            method = note.get("method")
            if method == "textDocument/publishDiagnostics" and note["params"]["uri"] == uri:
                found: list[dict[str, Any]] = note["params"]["diagnostics"]
                return found
        return None

    def shown(self) -> list[str]:
        return [
            n["params"]["message"]
            for n in self.notifications
            if n["method"] == "window/showMessage"
        ]

    def range_of(self, uri: str, needle: str) -> dict[str, Any]:
        text = self.texts[uri]
        start = text.index(needle)
        rng = LineIndex(text).range(start, start + len(needle))
        plain: dict[str, Any] = _converter.unstructure(rng)
        return plain

    def position_of(self, uri: str, needle: str) -> dict[str, Any]:
        position: dict[str, Any] = self.range_of(uri, needle)["start"]
        return position

    async def shutdown(self) -> None:
        await self.result("shutdown", None)


def _plain(params: Any) -> Any:
    return (
        params
        if isinstance(params, dict | list) or params is None
        else _converter.unstructure(params)
    )


def text_document(uri: str) -> dict[str, str]:
    return {"uri": uri}


__all__ = ["InProcess", "text_document", "types"]

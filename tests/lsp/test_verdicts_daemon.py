"""Kept or undone in the editor, told to a real daemon: an optimization applied and then
undone is rejected; one saved in place is kept; each at most once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from promptd.lsp import protocol
from promptd.lsp.features.documents import LineIndex, range_json
from tests.lsp.harness import promptd
from tests.lsp.inprocess import InProcess, text_document
from tests.waiting import until

PY = "file:///work/project/app.py"
SOURCE = 'SYSTEM_PROMPT = "Please kindly write some stuff about dogs for the kids!!!"\n'


@pytest.fixture
async def ed(daemon: None) -> AsyncIterator[InProcess]:
    editor = InProcess()
    await editor.start()
    await editor.wait(lambda: editor.session.link.connected, "the daemon link")
    yield editor
    await editor.shutdown()


def library() -> dict[str, Any]:
    status = json.loads(promptd("status", "--json").stdout)
    found: dict[str, Any] = status["library"] or {}
    return found


async def optimize(ed: InProcess) -> dict[str, Any]:
    """Run promptd.optimize and apply its edit as the editor would (didChange, version 2)."""
    ed.open(PY, SOURCE)
    rng = ed.range_of(PY, "stuff")
    command = {"command": protocol.CMD_OPTIMIZE, "arguments": [PY, rng]}
    assert await ed.result("workspace/executeCommand", command, timeout=30) == {"applied": True}
    (request,) = [r for r in ed.server_requests if r["method"] == "workspace/applyEdit"]
    (edit,) = request["params"]["edit"]["documentChanges"][0]["edits"]
    change(ed, 2, edit["range"], edit["newText"])
    return dict(edit)


def change(ed: InProcess, version: int, rng: dict[str, Any], text: str) -> None:
    ed.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": PY, "version": version},
            "contentChanges": [{"range": rng, "text": text}],
        },
    )


def range_now(ed: InProcess, needle: str) -> dict[str, Any]:
    """Where ``needle`` is in the server's copy of the document now."""
    doc = ed.session.documents.get(PY)
    assert doc is not None
    start = doc.text.index(needle)
    rng: dict[str, Any] = range_json(LineIndex(doc.text).range(start, start + len(needle)))
    return rng


async def test_an_optimization_undone_in_the_editor_is_rejected(ed: InProcess) -> None:
    edit = await optimize(ed)
    original = SOURCE[len("SYSTEM_PROMPT = ") : SOURCE.index("\n")]
    top = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    change(ed, 3, top, "x = 1\n")
    change(ed, 4, range_now(ed, edit["newText"]), original)
    await until(lambda: library().get("rejected") == 1, 20, "the rejection in status")
    assert library()["kept"] == 0
    # Saving and closing afterwards says nothing more: at most one verdict per optimization.
    ed.notify("textDocument/didSave", {"textDocument": text_document(PY)})
    ed.notify("textDocument/didClose", {"textDocument": text_document(PY)})
    await ed.session.verdicts.drain()
    assert library()["kept"] == 0 and library()["rejected"] == 1


async def test_an_optimization_saved_in_place_is_kept_once(ed: InProcess) -> None:
    await optimize(ed)
    # An edit above the prompt shifts its range; it is still in place when saved.
    top = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    change(ed, 3, top, "import os\n")
    ed.notify("textDocument/didSave", {"textDocument": text_document(PY)})
    await until(lambda: library().get("kept") == 1, 20, "the kept verdict in status")
    ed.notify("textDocument/didClose", {"textDocument": text_document(PY)})
    await ed.session.verdicts.drain()
    assert library()["kept"] == 1 and library()["rejected"] == 0
    assert library()["acceptance_rate"] == 1.0


async def test_a_rewrite_by_hand_is_neither(ed: InProcess) -> None:
    edit = await optimize(ed)
    start = edit["range"]["start"]
    inside = {"line": start["line"], "character": start["character"] + 1}
    change(ed, 3, {"start": inside, "end": inside}, "My own words. ")
    ed.notify("textDocument/didClose", {"textDocument": text_document(PY)})
    await ed.session.verdicts.drain()
    assert not ed.session.verdicts.sent
    assert library()["kept"] == 0 and library()["rejected"] == 0

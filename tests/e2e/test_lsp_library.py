"""The library in the editor, over stdio against a real daemon (offline engine): an
optimization applied and then undone is rejected, one saved in place is kept (status says
so); the hover and the "N similar prompts" lens show a similar past prompt."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from promptd.lsp import protocol
from tests.lsp.harness import Editor, promptd
from tests.waiting import until

PY = "file:///work/project/app.py"
SOURCE = 'SYSTEM_PROMPT = "Please kindly write some stuff about dogs for the kids!!!"\n'
NEW = "file:///work/project/new.py"
NEW_SOURCE = 'USER_PROMPT = "Please kindly write some nice stuff about dogs for the little kids"\n'


def library() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(promptd("status", "--json").stdout)["library"] or {}
    return found


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def test_applied_then_undone_is_rejected(client: LanguageClient, ed: Editor) -> None:
    ed.open(PY, SOURCE, "python")
    assert await ed.command(protocol.CMD_OPTIMIZE, PY, ed.range_of(PY, "stuff")) == {
        "applied": True
    }
    assert ed.texts[PY] != SOURCE
    ed.edit(PY, 0, 0, "import os\n")  # an edit elsewhere first
    ed.replace(PY, "import os\n" + SOURCE)  # then the undo of the optimization
    await until(lambda: library().get("rejected") == 1, 30, "the rejection in status")
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=doc(PY)))
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=doc(PY)))
    assert library()["kept"] == 0


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_applied_and_saved_is_kept(client: LanguageClient, ed: Editor) -> None:
    ed.open(PY, SOURCE, "python")
    await ed.command(protocol.CMD_OPTIMIZE, PY, ed.range_of(PY, "stuff"))
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=doc(PY)))
    await until(lambda: library().get("kept") == 1, 30, "the kept verdict in status")
    assert library()["acceptance_rate"] == 1.0


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_hover_and_lens_show_a_similar_past_prompt(
    client: LanguageClient, ed: Editor
) -> None:
    ed.open(PY, SOURCE, "python")
    await ed.command(protocol.CMD_OPTIMIZE, PY, ed.range_of(PY, "stuff"))
    await until(
        lambda: json.loads(promptd("search", "stuff about dogs", "--json").stdout)["hits"],
        30,
        "the library to index the optimization",
    )
    ed.open(NEW, NEW_SOURCE, "python")
    position = ed.range_of(NEW, "nice").start

    async def hover_text() -> str:
        hover = await client.text_document_hover_async(
            types.HoverParams(text_document=doc(NEW), position=position)
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        return hover.contents.value

    text = await hover_text()
    for _ in range(100):  # the first hover may miss its 0.3 s deadline; then the cache has it
        if "Similar past prompts" in text:
            break
        text = await hover_text()
    assert "Similar past prompts" in text and "% similar" in text

    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=doc(NEW))
    )
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert "1 similar prompt" in titles, titles

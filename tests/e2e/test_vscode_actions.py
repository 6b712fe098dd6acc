"""Ctrl+. on a prompt offers "Optimize prompt" first: the server lists it first and marks it
preferred, ahead of the local quick fixes ("Remove the filler (PD013)"); the VS Code extension
shows the preferred action at the top of the menu (clients/vscode/src/actionOrder.ts)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.lsp.harness import PROFILES, Editor

URI = "file:///work/project/prompts.py"
SOURCE = 'SYSTEM_PROMPT = "Could you please kindly summarize the report about {topic}?"\n'


@pytest.fixture(params=PROFILES)
async def ed(client: LanguageClient, request: pytest.FixtureRequest) -> AsyncIterator[Editor]:
    editor = Editor(client)
    await editor.start(request.param)
    yield editor
    await client.shutdown_session()


async def test_optimize_prompt_is_first_and_the_only_preferred_action(ed: Editor) -> None:
    ed.open(URI, SOURCE, "python")
    actions = await ed.actions(URI, ed.range_of(URI, "kindly"))
    titles = [a.title for a in actions]
    assert any(t.startswith("Remove the filler") for t in titles), titles
    assert titles[0] == "Optimize prompt", titles
    assert actions[0].kind == types.CodeActionKind.RefactorRewrite
    assert [a.title for a in actions if a.is_preferred] == ["Optimize prompt"]

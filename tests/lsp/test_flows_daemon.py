"""The optimize and status flows in process, against a real daemon (offline engine) started
as the CLI starts it: resolve, the command with work-done progress and applyEdit, a refused
edit, hover history, status, and stopping the daemon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from promptd.lsp import protocol
from tests.lsp.harness import promptd
from tests.lsp.inprocess import InProcess, text_document

PY = "file:///work/project/app.py"
SOURCE = 'SYSTEM_PROMPT = "Please kindly write some stuff about dogs for the kids!!!"\n'


@pytest.fixture
async def ed(daemon: None) -> AsyncIterator[InProcess]:
    editor = InProcess()
    await editor.start()
    await editor.wait(lambda: editor.session.link.connected, "the daemon link")
    yield editor
    await editor.shutdown()


def command(name: str, *args: Any) -> dict[str, Any]:
    return {"command": name, "arguments": list(args)}


async def test_resolve_returns_the_edit_of_the_optimized_prompt(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    rng = ed.range_of(PY, "stuff")
    actions = await ed.result(
        "textDocument/codeAction",
        {"textDocument": text_document(PY), "range": rng, "context": {"diagnostics": []}},
    )
    assert "edit" not in actions[0]
    resolved = await ed.result("codeAction/resolve", actions[0], timeout=30)
    (edit,) = resolved["edit"]["documentChanges"][0]["edits"]
    assert edit["newText"].startswith('"') and "kindly" not in edit["newText"]


async def test_the_command_reports_progress_applies_and_is_in_the_history(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    rng = ed.range_of(PY, "stuff")
    result = await ed.result(
        "workspace/executeCommand", command(protocol.CMD_OPTIMIZE, PY, rng), timeout=30
    )
    assert result == {"applied": True}
    methods = [r["method"] for r in ed.server_requests]
    assert "window/workDoneProgress/create" in methods and "workspace/applyEdit" in methods
    kinds = [n["params"]["value"]["kind"] for n in ed.notifications if n["method"] == "$/progress"]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    history = await ed.result(
        "workspace/executeCommand", command(protocol.CMD_SHOW_HISTORY, PY, rng)
    )
    assert len(history) == 1 and history[0]["score_after"] >= history[0]["score_before"]
    assert any("1 optimization(s)" in m for m in ed.shown())
    hover = await ed.result(
        "textDocument/hover",
        {"textDocument": text_document(PY), "position": ed.position_of(PY, "stuff")},
    )
    assert "Last optimized" in hover["contents"]["value"]


async def test_a_refused_edit_is_an_error_that_says_so(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    ed.apply_edits = False
    reply = await ed.answer(
        "workspace/executeCommand",
        command(protocol.CMD_OPTIMIZE, PY, ed.range_of(PY, "stuff")),
        timeout=30,
    )
    assert "was not applied: refused by the test" in reply["error"]["message"]


async def test_status_then_stop(ed: InProcess) -> None:
    status = await ed.result("workspace/executeCommand", command(protocol.CMD_SHOW_STATUS))
    assert status["engine"] == "offline" and status["running"] is True
    pushed = [n["params"] for n in ed.notifications if n["method"] == protocol.NOTIFY_STATUS]
    assert pushed[-1]["connected"] is True
    stopped = await ed.result(
        "workspace/executeCommand", command(protocol.CMD_STOP_DAEMON), timeout=30
    )
    assert stopped == {"stopped": True}
    await ed.wait(lambda: not ed.session.link.connected, "the link to notice")
    promptd("start")  # the fixture stops it again

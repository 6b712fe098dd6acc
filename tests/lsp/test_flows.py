"""Each language-server feature in process, through the real server object: diagnostics
(and their cap), code actions, quick fixes, hover, code lens, settings, and the errors a
request gets when its arguments are wrong or the daemon is away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from promptd.lsp import protocol
from promptd.lsp.features.analysis import MAX_PROMPTS
from promptd.lsp.features.diagnostics import MAX_DIAGNOSTICS
from tests.lsp.inprocess import InProcess, text_document

PY = "file:///work/project/app.py"
SOURCE = '''SYSTEM_PROMPT = "Please kindly write some stuff about dogs for the kids!!!"


def helper(x):
    """A docstring is never a prompt, however long and natural its text may look to us."""
    return x + 1
'''


@pytest.fixture
async def ed() -> AsyncIterator[InProcess]:
    editor = InProcess()
    await editor.start()
    yield editor
    await editor.shutdown()


async def diagnostics(ed: InProcess, uri: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await ed.wait(lambda: ed.published(uri), f"diagnostics of {uri}")
    return found


async def test_diagnostics_name_the_rule_and_link_to_it(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    found = await diagnostics(ed, PY)
    codes = {d["code"] for d in found}
    assert {"PD003", "PD013"} <= codes
    assert all(d["source"] == "promptd" for d in found)
    assert all("rules.md#pd" in d["codeDescription"]["href"] for d in found)


async def test_a_huge_file_is_capped_with_a_summary(ed: InProcess) -> None:
    many = "".join(
        f'prompt_{i} = "Please kindly write some stuff about dogs for case {i}, make it fun!!!"\n'
        for i in range(MAX_PROMPTS + 100)
    )
    ed.open(PY, many)
    found = await diagnostics(ed, PY)
    assert len(found) == MAX_DIAGNOSTICS + 1
    assert f"this file has {MAX_PROMPTS + 100} prompts" in found[0]["message"]
    lenses = await ed.result("textDocument/codeLens", {"textDocument": text_document(PY)})
    assert len(lenses) == MAX_PROMPTS
    # a prompt past the cap still gets its hover and actions
    last = f"case {MAX_PROMPTS + 99}"
    hover = await ed.result(
        "textDocument/hover",
        {"textDocument": text_document(PY), "position": ed.position_of(PY, last)},
    )
    assert "score" in hover["contents"]["value"]


async def test_code_actions_offer_optimize_every_type_and_quick_fixes(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    rng = ed.range_of(PY, "kindly")
    actions = await ed.result(
        "textDocument/codeAction",
        {"textDocument": text_document(PY), "range": rng, "context": {"diagnostics": []}},
    )
    titles = [a["title"] for a in actions]
    assert titles[0] == "Optimize prompt"
    assert "Optimize prompt as code" in titles
    fixes = [a for a in actions if a["kind"] == "quickfix"]
    assert [a["title"] for a in fixes] == ["Remove the filler (PD013)"]
    (edit,) = fixes[0]["edit"]["documentChanges"][0]["edits"]
    assert "kindly" not in edit["newText"] and edit["newText"].startswith('"')
    only = await ed.result(
        "textDocument/codeAction",
        {
            "textDocument": text_document(PY),
            "range": rng,
            "context": {"diagnostics": [], "only": ["quickfix"]},
        },
    )
    assert [a["kind"] for a in only] == ["quickfix"]


async def test_a_selection_outside_prompts_can_be_optimized_as_a_prompt(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    actions = await ed.result(
        "textDocument/codeAction",
        {
            "textDocument": text_document(PY),
            "range": ed.range_of(PY, "return x + 1"),
            "context": {"diagnostics": []},
        },
    )
    assert [a["title"] for a in actions] == ["Optimize selection as a prompt"]
    assert actions[0]["data"]["selection"] is True


async def test_hover_shows_score_findings_and_that_the_daemon_is_away(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    hover = await ed.result(
        "textDocument/hover",
        {"textDocument": text_document(PY), "position": ed.position_of(PY, "stuff")},
    )
    value = hover["contents"]["value"]
    assert hover["contents"]["kind"] == "markdown"
    assert "score" in value and "`PD003`" in value
    assert "the daemon is not running" in value
    nothing = await ed.result(
        "textDocument/hover",
        {"textDocument": text_document(PY), "position": ed.position_of(PY, "return")},
    )
    assert nothing is None


async def test_hover_is_plain_text_for_clients_without_markdown() -> None:
    ed = InProcess()
    await ed.start(caps={})
    try:
        ed.open(PY, SOURCE)
        hover = await ed.result(
            "textDocument/hover",
            {"textDocument": text_document(PY), "position": ed.position_of(PY, "stuff")},
        )
        assert "`" not in hover["contents"]["value"]
    finally:
        await ed.shutdown()


async def test_code_lens_runs_optimize_on_its_prompt(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    (lens,) = await ed.result("textDocument/codeLens", {"textDocument": text_document(PY)})
    assert lens["command"]["command"] == protocol.CMD_OPTIMIZE
    assert lens["command"]["title"].startswith("Optimize · score ")
    assert lens["command"]["arguments"][0] == PY
    ed.notify("workspace/didChangeConfiguration", {"settings": {"promptd": {"codeLens": False}}})
    assert await ed.result("textDocument/codeLens", {"textDocument": text_document(PY)}) == []


async def test_settings_change_severity_and_bad_ones_are_reported(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    await diagnostics(ed, PY)
    ed.notifications.clear()
    ed.notify(
        "workspace/didChangeConfiguration",
        {"settings": {"promptd": {"diagnostics": {"severity": "error"}, "codeLens": "yes"}}},
    )
    found = await diagnostics(ed, PY)
    assert {d["severity"] for d in found} == {1}
    assert any("promptd.codeLens must be true or false" in m for m in ed.shown())


async def test_closing_a_document_clears_its_diagnostics(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    await diagnostics(ed, PY)
    ed.notify("textDocument/didClose", {"textDocument": text_document(PY)})
    await ed.wait(lambda: ed.published(PY) == [], "empty diagnostics")


async def test_edits_are_followed(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    await diagnostics(ed, PY)
    ed.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": PY, "version": 2},
            "contentChanges": [{"text": 'P = "Classify the review as positive or negative."\n'}],
        },
    )
    await ed.wait(
        lambda: (
            (found := ed.published(PY)) is not None and all(d["code"] != "PD003" for d in found)
        ),
        "diagnostics of the new text",
    )


@pytest.mark.parametrize(
    ("command", "args", "needs"),
    [
        (protocol.CMD_OPTIMIZE, [], "needs arguments [uri, range, prompt_type?]"),
        (protocol.CMD_OPTIMIZE_SELECTION, [PY], "needs arguments"),
        (protocol.CMD_OPTIMIZE, [PY, "nope"], "not an LSP Range"),
        (protocol.CMD_SHOW_HISTORY, [PY, {"start": 1}], "not an LSP Range"),
    ],
)
async def test_commands_with_bad_arguments_say_what_they_need(
    ed: InProcess, command: str, args: list[Any], needs: str
) -> None:
    reply = await ed.answer("workspace/executeCommand", {"command": command, "arguments": args})
    assert reply["error"]["code"] == -32602
    assert needs in reply["error"]["message"]


async def test_optimize_where_there_is_no_prompt_says_what_to_do(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    reply = await ed.answer(
        "workspace/executeCommand",
        {"command": protocol.CMD_OPTIMIZE, "arguments": [PY, ed.range_of(PY, "return")]},
    )
    assert reply["error"]["code"] == -32803
    assert "no prompt here" in reply["error"]["message"]
    assert any("no prompt here" in m for m in ed.shown())
    reply = await ed.answer(
        "workspace/executeCommand",
        {
            "command": protocol.CMD_OPTIMIZE,
            "arguments": ["file:///closed.py", ed.range_of(PY, "x")],
        },
    )
    assert "not open in the editor" in reply["error"]["message"]
    reply = await ed.answer(
        "workspace/executeCommand",
        {
            "command": protocol.CMD_OPTIMIZE,
            "arguments": [PY, ed.range_of(PY, "stuff"), "poetry"],
        },
    )
    assert "unknown prompt type 'poetry'" in reply["error"]["message"]


async def test_status_without_a_daemon_says_so(ed: InProcess) -> None:
    status = await ed.result(
        "workspace/executeCommand", {"command": protocol.CMD_SHOW_STATUS, "arguments": []}
    )
    assert status["connected"] is False
    assert "promptd start" in status["message"]
    pushed = [n for n in ed.notifications if n["method"] == protocol.NOTIFY_STATUS]
    assert pushed[-1]["params"]["connected"] is False
    stopped = await ed.result(
        "workspace/executeCommand", {"command": protocol.CMD_STOP_DAEMON, "arguments": []}
    )
    assert stopped == {"stopped": False}


async def test_resolve_leaves_other_servers_actions_alone(ed: InProcess) -> None:
    action = {"title": "Someone else's", "data": {"x": 1}}
    assert await ed.result("codeAction/resolve", action) == action


async def test_a_failing_feature_answers_its_fallback_and_the_others_go_on(
    ed: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    ed.open(PY, SOURCE)

    def broken(*args: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("promptd.lsp.features.lens.lenses", broken)
    assert await ed.result("textDocument/codeLens", {"textDocument": text_document(PY)}) == []
    hover = await ed.result(
        "textDocument/hover",
        {"textDocument": text_document(PY), "position": ed.position_of(PY, "stuff")},
    )
    assert "score" in hover["contents"]["value"]


async def test_a_long_file_is_read_off_the_loop_and_edits_meanwhile_win(ed: InProcess) -> None:
    line = 'prompt_{} = "Please kindly write some stuff about dogs for case {}, make it fun!!!"\n'
    many = "".join(line.format(i, i) for i in range(3000))
    assert len(many) > 200_000  # THREAD_CHARS: detection runs in a worker thread
    ed.open(PY, many)
    first = ed.request_id(
        "textDocument/hover",
        {"textDocument": text_document(PY), "position": ed.position_of(PY, "case 2999")},
    )
    ed.notify(
        "textDocument/didChange",
        {
            "textDocument": {"uri": PY, "version": 2},
            "contentChanges": [
                {
                    "range": {
                        "start": {"line": 0, "character": 0},
                        "end": {"line": 0, "character": 0},
                    },
                    "text": "import os\n",
                }
            ],
        },
    )
    reply = await ed.wait(lambda: ed.responses.get(first), "the first hover")
    assert reply["result"] is None or "score" in reply["result"]["contents"]["value"]
    hover = await ed.result(
        "textDocument/hover",
        {"textDocument": text_document(PY), "position": {"line": 3000, "character": 40}},
    )
    assert "score" in hover["contents"]["value"]
    found = await ed.wait(
        lambda: (d := ed.published(PY)) and d[0]["range"]["start"]["line"] == 0 and d,
        "diagnostics of the edited text",
    )
    assert "this file has 3000 prompts" in found[0]["message"]
    assert all(d["range"]["start"]["line"] >= 1 for d in found[1:])


class CancelsAtOnce(InProcess):
    """An editor whose user presses the progress bar's cancel as it appears: the cancel
    follows the create reply in the same callback, as when both arrive in one read."""

    def _answer(self, request: dict[str, Any]) -> None:
        super()._answer(request)
        if request["method"] == "window/workDoneProgress/create":
            self.notify("window/workDoneProgress/cancel", {"token": request["params"]["token"]})


async def test_a_cancel_right_after_the_progress_is_created_stops_the_optimization() -> None:
    ed = CancelsAtOnce()
    await ed.start()
    ed.open(PY, SOURCE)
    reply = await ed.answer(
        "workspace/executeCommand",
        {"command": protocol.CMD_OPTIMIZE, "arguments": [PY, ed.range_of(PY, "stuff")]},
    )
    assert "optimization cancelled; nothing applied" in reply["error"]["message"]
    ends = [
        n["params"]["value"]
        for n in ed.notifications
        if n["method"] == "$/progress" and n["params"]["value"]["kind"] == "end"
    ]
    assert ends == [{"kind": "end", "message": "cancelled"}]
    assert not ed.server.work_done_progress.tokens
    await ed.shutdown()

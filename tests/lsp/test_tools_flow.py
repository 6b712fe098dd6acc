"""The prompt tools in the editor, in process: "Extract variables" and "Trim prompt" against a
real daemon (offline engine), "Optimize prompt with instruction…" only for clients that run
it, the target model setting, and the errors (bad arguments, the daemon away)."""

from __future__ import annotations

import ast
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from promptd.daemon import api
from promptd.lsp import protocol
from promptd.lsp.features import optimize
from tests.lsp.inprocess import InProcess, text_document

PY = "file:///work/project/app.py"
SOURCE = (
    'SYSTEM_PROMPT = "Please kindly write a birthday email to Alice Johnson about the meeting'
    ' on 2024-03-05, thank you so much in advance!"\n'
)
FSTRING = (
    'SYSTEM_PROMPT = f"Please kindly write a birthday email to Alice Johnson for {audience}'
    ' about the meeting on 2024-03-05 and keep it short"\n'
)
INSTRUCT = protocol.CLIENT_CMD_OPTIMIZE_WITH_INSTRUCTION


def command(name: str, *args: Any) -> dict[str, Any]:
    return {"command": name, "arguments": list(args)}


async def list_actions(ed: InProcess, uri: str, needle: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await ed.result(
        "textDocument/codeAction",
        {
            "textDocument": text_document(uri),
            "range": ed.range_of(uri, needle),
            "context": {"diagnostics": []},
        },
    )
    return found


def titled(actions: list[dict[str, Any]], title: str) -> dict[str, Any]:
    (action,) = [a for a in actions if a["title"] == title]
    return action


def new_source(ed: InProcess, resolved: dict[str, Any]) -> str:
    """The document after the resolved action's single edit is applied."""
    (edit,) = resolved["edit"]["documentChanges"][0]["edits"]
    lines = ed.texts[PY].split("\n")
    start, end = edit["range"]["start"], edit["range"]["end"]
    assert start["line"] == end["line"] == 0
    line = lines[0]
    lines[0] = line[: start["character"]] + edit["newText"] + line[end["character"] :]
    return "\n".join(lines)


# --- offline: listing, the instruction action, settings, bad arguments -------------------


@pytest.fixture
async def ed() -> AsyncIterator[InProcess]:
    editor = InProcess()
    await editor.start()
    yield editor
    await editor.shutdown()


async def test_listing_offers_the_tools_lazily_without_the_daemon(ed: InProcess) -> None:
    ed.open(PY, SOURCE)
    actions = await list_actions(ed, PY, "birthday")
    extract = titled(actions, "Extract variables")
    trim = titled(actions, "Trim prompt")
    assert extract["kind"] == "refactor.extract" and trim["kind"] == "refactor.rewrite.trim"
    assert "edit" not in extract and "edit" not in trim and "command" not in extract
    assert extract["data"]["tool"] == "templatize" and trim["data"]["tool"] == "trim"
    # No client said it runs the instruction command: not offered.
    assert not [a for a in actions if a["title"].startswith("Optimize prompt with")]
    assert not ed.session.link.connected
    only = await ed.result(
        "textDocument/codeAction",
        {
            "textDocument": text_document(PY),
            "range": ed.range_of(PY, "birthday"),
            "context": {"diagnostics": [], "only": ["refactor.extract"]},
        },
    )
    assert [a["title"] for a in only] == ["Extract variables"]


async def test_extract_is_not_offered_in_an_interpolating_literal(ed: InProcess) -> None:
    ed.open(PY, FSTRING)
    titles = [a["title"] for a in await list_actions(ed, PY, "birthday")]
    assert "Trim prompt" in titles and "Extract variables" not in titles
    reply = await ed.answer(
        "workspace/executeCommand",
        command(protocol.CMD_EXTRACT_VARIABLES, PY, ed.range_of(PY, "birthday")),
    )
    assert reply["error"]["code"] == -32803
    assert "interpolates code ({audience})" in reply["error"]["message"]


async def test_clients_without_resolve_get_the_commands() -> None:
    editor = InProcess()
    await editor.start(caps={})  # no resolveSupport: the action must carry its command
    try:
        editor.open(PY, SOURCE)
        actions = await list_actions(editor, PY, "birthday")
        extract = titled(actions, "Extract variables")
        assert extract["command"]["command"] == protocol.CMD_EXTRACT_VARIABLES
        assert extract["command"]["arguments"][0] == PY
        trim = titled(actions, "Trim prompt")
        assert trim["command"]["command"] == protocol.CMD_TRIM
    finally:
        await editor.shutdown()


def test_instruct_and_target_are_sent_only_when_set() -> None:
    params = api.OptimizeParams(text="x", source="lsp")
    assert optimize.with_extras(params, instruct=None, target="") is params
    sent = optimize.with_extras(params, instruct="shorter", target="claude")
    assert isinstance(sent, dict)
    assert sent["instruct"] == "shorter" and sent["target"] == "claude"
    assert "progress_token" not in sent  # the client sets it
    raw = {**msgspec.to_builtins(_result()), "instruct_unmet": ["in French"]}
    result, unmet = optimize.decode_result(raw)
    assert result.optimized == "y" and unmet == ["in French"]
    assert optimize.decode_result(msgspec.to_builtins(_result()))[1] == []


def _result() -> api.OptimizeResult:
    return msgspec.convert(
        {
            "id": "1",
            "original": "x",
            "optimized": "y",
            "prompt_type": "general",
            "engine": "offline",
            "model": "",
            "score_before": 1,
            "score_after": 2,
            "findings": [],
            "changes": [],
            "placeholders": [],
            "cost_usd": 0.0,
            "cached": False,
            "degraded": False,
            "duration_ms": 1,
        },
        api.OptimizeResult,
    )


async def test_the_instruction_action_is_offered_to_clients_that_run_it() -> None:
    editor = InProcess()
    await editor.start(options={"promptd": {"clientCommands": [INSTRUCT]}})
    try:
        editor.open(PY, SOURCE)
        action = titled(
            await list_actions(editor, PY, "birthday"), "Optimize prompt with instruction…"
        )
        assert action["kind"] == "refactor.rewrite.instruct" and "data" not in action
        assert action["command"]["command"] == INSTRUCT
        uri, rng, ptype = action["command"]["arguments"]
        assert uri == PY and ptype == "auto" and rng["start"]["line"] == 0
    finally:
        await editor.shutdown()


async def test_target_model_and_trim_settings_are_checked(ed: InProcess) -> None:
    ed.notify(
        "workspace/didChangeConfiguration",
        {"settings": {"promptd": {"targetModel": "Claude", "trimMaxTokens": 50}}},
    )
    await ed.wait(lambda: ed.session.settings.target == "claude", "the target model")
    assert ed.session.settings.trim_max_tokens == 50
    ed.notify(
        "workspace/didChangeConfiguration",
        {"settings": {"promptd": {"targetModel": "gpt5", "trimMaxTokens": -3}}},
    )
    await ed.wait(lambda: len(ed.shown()) >= 2, "the warnings")
    shown = "\n".join(ed.shown())
    assert "promptd.targetModel must be one of grok, gpt, claude, llama, generic" in shown
    assert "promptd.trimMaxTokens must be a whole number from 0" in shown
    assert ed.session.settings.target == "claude"


@pytest.mark.parametrize(
    ("name", "args", "needs"),
    [
        (protocol.CMD_EXTRACT_VARIABLES, [], "needs arguments [uri, range]"),
        (protocol.CMD_TRIM, [PY], "needs arguments [uri, range]"),
        (protocol.CMD_TRIM, [PY, "nope"], "not an LSP Range"),
        (protocol.CMD_OPTIMIZE, [PY, None, "auto", "formal"], "options argument must be an object"),
        (protocol.CMD_OPTIMIZE, [PY, None, "auto", {"instruct": 3}], "instruct must be text"),
        (protocol.CMD_OPTIMIZE, [PY, None, "auto", {"tone": "x"}], "unknown option(s) tone"),
    ],
)
async def test_bad_arguments_say_what_they_need(
    ed: InProcess, name: str, args: list[Any], needs: str
) -> None:
    ed.open(PY, SOURCE)
    args = [ed.range_of(PY, "birthday") if a is None else a for a in args]
    reply = await ed.answer("workspace/executeCommand", command(name, *args))
    assert reply["error"]["code"] == -32602
    assert needs in reply["error"]["message"]


async def test_resolve_leaves_unknown_tool_actions_unchanged(ed: InProcess) -> None:
    action = {"title": "x", "data": {"promptd": protocol.ACTION_DATA_TOOL, "tool": "paint"}}
    assert await ed.result("codeAction/resolve", action) == action


async def test_the_daemon_away_is_an_error_that_says_what_to_do(ed: InProcess) -> None:
    # A config the daemon refuses: it cannot start, and the action says why.
    home = Path(os.environ["PROMPTD_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text("no_such_key = 1\n")
    ed.open(PY, SOURCE)
    actions = await list_actions(ed, PY, "birthday")
    reply = await ed.answer("codeAction/resolve", titled(actions, "Trim prompt"), timeout=30)
    assert reply["error"]["code"] == -32803
    assert "no_such_key" in reply["error"]["message"]


# --- against a real daemon -----------------------------------------------------------------


@pytest.fixture
async def live(daemon: None) -> AsyncIterator[InProcess]:
    editor = InProcess()
    await editor.start(options={"promptd": {"clientCommands": [INSTRUCT]}})
    await editor.wait(lambda: editor.session.link.connected, "the daemon link")
    yield editor
    await editor.shutdown()


async def test_extract_variables_makes_a_template_and_shows_the_values(live: InProcess) -> None:
    live.open(PY, SOURCE)
    action = titled(await list_actions(live, PY, "birthday"), "Extract variables")
    resolved = await live.result("codeAction/resolve", action, timeout=30)
    source = new_source(live, resolved)
    value = ast.literal_eval(source.split("=", 1)[1].strip())
    assert "Alice Johnson" not in value and "2024-03-05" not in value
    assert "{recipient_name}" in value or "{{recipient_name}}" in value
    shown = "\n".join(live.shown())
    assert "extracted 2 variable(s)" in shown and "'Alice Johnson'" in shown
    assert "'2024-03-05'" in shown


async def test_trim_applies_the_cut_and_reports_tokens(live: InProcess) -> None:
    live.open(PY, SOURCE)
    rng = live.range_of(PY, "birthday")
    result = await live.result(
        "workspace/executeCommand", command(protocol.CMD_TRIM, PY, rng), timeout=30
    )
    assert result == {"applied": True}
    (apply,) = [r for r in live.server_requests if r["method"] == "workspace/applyEdit"]
    (edit,) = apply["params"]["edit"]["documentChanges"][0]["edits"]
    assert "kindly" not in edit["newText"] and "thank you" not in edit["newText"].lower()
    assert "Alice Johnson" in edit["newText"] and "2024-03-05" in edit["newText"]
    ast.parse(edit["newText"])
    (note,) = [m for m in live.shown() if "trimmed" in m]
    before, after = (int(n) for n in note.split("trimmed ")[1].split(" tokens")[0].split(" → "))
    assert after < before


async def test_an_unchanged_trim_applies_nothing_and_says_so(live: InProcess) -> None:
    live.notify(
        "workspace/didChangeConfiguration", {"settings": {"promptd": {"trimMaxTokens": 5000}}}
    )
    await live.wait(lambda: live.session.settings.trim_max_tokens == 5000, "the setting")
    live.open(PY, SOURCE)
    result = await live.result(
        "workspace/executeCommand",
        command(protocol.CMD_TRIM, PY, live.range_of(PY, "birthday")),
        timeout=30,
    )
    assert result == {"applied": False}
    assert any("trimmed" in m and "→" in m for m in live.shown())


async def test_optimize_with_an_instruction_applies_and_shows_what_was_not_met(
    live: InProcess,
) -> None:
    live.open(PY, SOURCE)
    rng = live.range_of(PY, "birthday")
    await live.result(
        "workspace/executeCommand",
        command(protocol.CMD_OPTIMIZE, PY, rng, "auto", {"instruct": "more formal, in French"}),
        timeout=60,
    )
    # the offline rules cannot translate: the user is told which part was not honoured
    assert any("in French" in m for m in live.shown()), live.shown()

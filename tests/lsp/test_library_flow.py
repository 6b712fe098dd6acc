"""Similar past prompts from a real daemon's library in the editor: the hover section, the
"N similar prompts" lens, the list a client picks from and the literal-preserving insert;
warming a daemon that has no analysis.warm yet changes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from promptd.lsp import protocol
from tests.lsp.harness import promptd
from tests.lsp.inprocess import InProcess, text_document
from tests.waiting import until

OLD = "file:///work/project/old.py"
NEW = "file:///work/project/new.py"
OLD_SOURCE = 'SYSTEM_PROMPT = "Please kindly write some stuff about dogs for the kids!!!"\n'
NEW_SOURCE = 'USER_PROMPT = "Please kindly write some nice stuff about dogs for the little kids"\n'


@pytest.fixture
async def ed(daemon: None) -> AsyncIterator[InProcess]:
    editor = InProcess()
    await editor.start()
    await editor.wait(lambda: editor.session.link.connected, "the daemon link")
    yield editor
    await editor.shutdown()


def searchable(text: str) -> bool:
    found = json.loads(promptd("search", text, "--json").stdout)
    return bool(found["hits"])


async def optimized_before(ed: InProcess) -> str:
    """Optimize OLD's prompt through the editor; wait until the library has it."""
    ed.open(OLD, OLD_SOURCE)
    command = {"command": protocol.CMD_OPTIMIZE, "arguments": [OLD, ed.range_of(OLD, "stuff")]}
    assert await ed.result("workspace/executeCommand", command, timeout=30) == {"applied": True}
    (request,) = [r for r in ed.server_requests if r["method"] == "workspace/applyEdit"]
    ed.server_requests.clear()
    await until(lambda: searchable("stuff about dogs for the kids"), 20, "the library to index it")
    new_text: str = request["params"]["edit"]["documentChanges"][0]["edits"][0]["newText"]
    return new_text


async def test_hover_lens_pick_and_insert(ed: InProcess) -> None:
    optimized = await optimized_before(ed)
    ed.open(NEW, NEW_SOURCE)
    hover = await ed.result(
        "textDocument/hover",
        {"textDocument": text_document(NEW), "position": ed.position_of(NEW, "nice")},
    )
    for _ in range(50):  # the first hover may miss the deadline; the next is from the cache
        if "Similar past prompts" in hover["contents"]["value"]:
            break
        hover = await ed.result(
            "textDocument/hover",
            {"textDocument": text_document(NEW), "position": ed.position_of(NEW, "nice")},
        )
    value = hover["contents"]["value"]
    assert "score" in value.split("Similar past prompts")[0]  # what it showed before stays
    section = value.split("Similar past prompts")[1]
    assert "% similar" in section and "Please kindly write some stuff" in section

    lenses = await ed.result("textDocument/codeLens", {"textDocument": text_document(NEW)})
    titles = [lens["command"]["title"] for lens in lenses]
    assert "1 similar prompt" in titles
    (similar,) = [lens for lens in lenses if lens["command"]["title"] == "1 similar prompt"]
    assert similar["command"]["command"] == protocol.CLIENT_PICK_SIMILAR
    uri, rng = similar["command"]["arguments"]

    listed = await ed.result(
        "workspace/executeCommand",
        {"command": protocol.CMD_SIMILAR_PROMPTS, "arguments": [uri, rng]},
    )
    (item,) = listed["items"]
    assert item["text"].strip('"') in optimized
    inserted = await ed.result(
        "workspace/executeCommand",
        {
            "command": protocol.CMD_INSERT_TEXT,
            "arguments": [uri, listed["range"], item["text"], True],
        },
    )
    assert inserted == {"applied": True}
    (request,) = [r for r in ed.server_requests if r["method"] == "workspace/applyEdit"]
    (edit,) = request["params"]["edit"]["changes"][NEW]
    assert edit["range"] == listed["range"]
    assert edit["newText"] == optimized  # the same literal the optimization wrote


async def test_no_lens_when_nothing_is_similar_and_warming_tolerates_an_old_daemon(
    ed: InProcess,
) -> None:
    ed.open(
        NEW,
        'SUMMARY_PROMPT = "Summarize the quarterly revenue report in three short bullet points"\n',
    )
    await ed.wait(
        lambda: not ed.session.library.warm_supported or ed.session.library._warmed.get(NEW),
        "the warm call",
    )
    for _ in range(3):
        lenses = await ed.result("textDocument/codeLens", {"textDocument": text_document(NEW)})
        assert not any("similar" in lens["command"]["title"] for lens in lenses)
    await ed.wait(
        lambda: (
            ed.session.library.cached(
                "Summarize the quarterly revenue report in three short bullet points"
            )
            == []
        ),
        "the count",
    )
    lenses = await ed.result("textDocument/codeLens", {"textDocument": text_document(NEW)})
    assert [lens["command"]["command"] for lens in lenses] == [protocol.CMD_OPTIMIZE]


@pytest.mark.parametrize(
    "source",
    [
        "SYSTEM_PROMPT = 'Please kindly write some stuff about dogs for the kids in a nice way'\n",
        'SYSTEM_PROMPT = f"Please kindly write some stuff about {animal} for the kids, nicely"\n',
    ],
)
async def test_insert_in_a_prompt_keeps_the_literal_valid(
    promptd_home: object, source: str
) -> None:
    """No daemon needed: the past prompt is written as a valid literal of the same kind."""
    import ast

    editor = InProcess()
    await editor.start()
    try:
        editor.open(OLD, source)
        past = 'Say "hello" to the {user}\\n, then list 3 dog breeds.\nOne per line.'
        rng = editor.range_of(OLD, "stuff")
        command = {"command": protocol.CMD_INSERT_TEXT, "arguments": [OLD, rng, past, True]}
        assert await editor.result("workspace/executeCommand", command) == {"applied": True}
        (request,) = [r for r in editor.server_requests if r["method"] == "workspace/applyEdit"]
        (edit,) = request["params"]["edit"]["changes"][OLD]
        start = source.index(source.split(" = ", 1)[1])
        written = source[:start] + edit["newText"] + "\n"
        value = ast.parse(written).body[0].value  # type: ignore[attr-defined]
        # The text's braces are text, not fields: the literal holds exactly the past prompt.
        assert isinstance(value, ast.Constant) and value.value == past
    finally:
        await editor.shutdown()

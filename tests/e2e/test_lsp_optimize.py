"""Optimizing through the real daemon (offline engine) from the language server over stdio:
codeAction/resolve, the promptd.optimize command with progress and workspace/applyEdit,
every literal kind round-tripping to valid code, hover history, and the daemon going down
and coming back."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tree_sitter_typescript
from lsprotocol import types
from pytest_lsp import LanguageClient
from tree_sitter import Language, Parser

from promptd.lsp import protocol
from promptd.lsp.features.detect import python as py_detect
from promptd.lsp.features.documents import LineIndex
from tests.lsp.harness import Editor, promptd

PY = "file:///work/project/literals.py"
PY_SOURCE = '''import textwrap

PLAIN_PROMPT = "Write some stuff about dogs."
SINGLE_PROMPT = 'Write some stuff about "cats".'
RAW_PROMPT = r"Write some stuff about C:\\pets\\dogs."
FSTRING_PROMPT = f"Write some stuff about {animal} and {place!r}."
UNICODE_PROMPT = "Write some stuff about 🐶 dogs in 日本."


def build(topic):
    system_prompt = textwrap.dedent("""
        Write some stuff
        about {topic}.
    """)
    messages = [
        {"role": "user", "content": (
            "Write some stuff "
            "about dogs."
        )},
    ]
    return system_prompt, messages
'''
TS = "file:///work/project/chat.ts"
TS_SOURCE = """const systemPrompt = "Write some stuff about dogs.";
const userPrompt = 'Write some stuff about ${topic}';
const template = `Write some stuff about ${topic} and \\`more\\`.`;
"""


def ts_errors(source: str) -> bool:
    parser = Parser(Language(tree_sitter_typescript.language_typescript()))
    return parser.parse(source.encode()).root_node.has_error


async def test_resolve_computes_the_edit(client: LanguageClient, ed: Editor) -> None:
    ed.open(PY, PY_SOURCE, "python")
    actions = await ed.actions(PY, ed.range_of(PY, "stuff"))
    assert actions[0].title == "Optimize prompt" and actions[0].edit is None
    resolved = await client.code_action_resolve_async(actions[0])
    assert resolved.edit is not None
    ed.apply(resolved.edit)
    tree = ast.parse(ed.texts[PY])
    value = tree.body[1].value  # type: ignore[attr-defined]
    assert value.value.startswith("Write some stuff about dogs.")
    assert value.value != "Write some stuff about dogs."


async def test_command_reports_progress_and_applies_the_edit(
    client: LanguageClient, ed: Editor
) -> None:
    ed.open(PY, PY_SOURCE, "python")
    result = await ed.command(protocol.CMD_OPTIMIZE, PY, ed.range_of(PY, "stuff"), "general")
    assert result.applied is True if hasattr(result, "applied") else result["applied"]
    assert len(ed.applied) == 1
    reports = list(client.progress_reports.values())
    assert len(reports) == 1
    kinds = [r.kind for r in reports[0]]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    assert reports[0][0].cancellable is True
    assert "→" in (reports[0][-1].message or "")
    ast.parse(ed.texts[PY])
    # the hover now shows the last optimization of the (new) text? no: of the same text
    again = await ed.command(protocol.CMD_SHOW_HISTORY)
    assert len(again) == 1 and again[0]["source"] == "lsp"


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_every_python_literal_kind_round_trips_to_valid_code(ed: Editor) -> None:
    ed.open(PY, PY_SOURCE, "python")
    names = ["PLAIN", "SINGLE", "RAW", "FSTRING", "UNICODE", "dedent", "content"]
    for needle in names:
        text = ed.texts[PY]
        if needle == "dedent":
            anchor = text.index("textwrap.dedent(") + 20
        elif needle == "content":
            anchor = text.index('"Write some stuff "') + 2
        else:
            anchor = text.index(f"{needle}_PROMPT = ") + len(needle) + 12
        found = [p for p in py_detect.detect(text, 12) if p.start <= anchor <= p.end]
        assert found, f"{needle} is no prompt any more in:\n{text}"
        target = found[0]
        rng = LineIndex(text).range(target.start, target.start, ed.encoding)
        await ed.command(protocol.CMD_OPTIMIZE, PY, rng)
        ast.parse(ed.texts[PY])  # valid after every edit
    tree = ast.parse(ed.texts[PY])
    consts = {
        node.targets[0].id: node.value  # type: ignore[attr-defined]
        for node in tree.body
        if isinstance(node, ast.Assign)
    }
    assert isinstance(consts["FSTRING_PROMPT"], ast.JoinedStr)
    fields = [
        ast.unparse(v) for v in consts["FSTRING_PROMPT"].values if isinstance(v, ast.FormattedValue)
    ]
    assert fields == ["f'{animal}'", "f'{place!r}'"] or len(fields) == 2
    assert "🐶" in consts["UNICODE_PROMPT"].value  # type: ignore[attr-defined]
    assert "\\pets\\dogs" in consts["RAW_PROMPT"].value  # type: ignore[attr-defined]
    text = ed.texts[PY]
    assert "{topic}" in text  # a placeholder in the dedented prompt survives
    assert len(ed.applied) == len(names)


@pytest.mark.parametrize("ed", ["neovim@v0.11.0"], indirect=True)
async def test_every_typescript_literal_kind_round_trips_to_valid_code(ed: Editor) -> None:
    ed.open(TS, TS_SOURCE, "typescript")
    for needle in ("systemPrompt", "userPrompt", "template"):
        line = next(
            i
            for i, text in enumerate(ed.texts[TS].splitlines())
            if text.startswith(f"const {needle}")
        )
        at = ed.texts[TS].splitlines()[line].index("`") if needle == "template" else None
        col = at if at is not None else ed.texts[TS].splitlines()[line].index("Write") - 1
        pos = types.Position(line=line, character=col + 2)
        await ed.command(protocol.CMD_OPTIMIZE, TS, types.Range(start=pos, end=pos))
        assert not ts_errors(ed.texts[TS]), ed.texts[TS]
    assert "${topic}" in ed.texts[TS]
    assert len(ed.applied) == 3


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_hover_shows_the_last_optimization(client: LanguageClient, ed: Editor) -> None:
    uri = "file:///work/project/h.py"
    ed.open(uri, 'prompt = "Write some stuff about dogs."\nagain = prompt\n', "python")
    await ed.command(protocol.CMD_OPTIMIZE, uri, ed.range_of(uri, "stuff"))
    ed.replace(uri, 'prompt = "Write some stuff about dogs."\n')  # undo in the editor
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=ed.range_of(uri, "stuff").start,
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "Last optimized" in hover.contents.value


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_daemon_down_then_up(client: LanguageClient, ed: Editor) -> None:
    await ed.wait_for(
        lambda: any(s.get("connected") for s in ed.status) or None, what="promptd/status connected"
    )
    uri = "file:///work/project/d.py"
    ed.open(uri, 'prompt = "Write some stuff about dogs."\n', "python")
    await ed.diagnostics(uri, lambda d: bool(d))
    promptd("stop")
    await ed.wait_for(
        lambda: (ed.status and not ed.status[-1]["connected"]) or None,
        what="promptd/status disconnected",
    )
    # offline features go on
    ed.replace(uri, 'prompt = "Write some stuff about cats."\n')
    await ed.diagnostics(uri, lambda d: bool(d))
    actions = await ed.actions(uri, ed.range_of(uri, "stuff"))
    assert actions[0].title == "Optimize prompt"
    promptd("start")
    await ed.wait_for(
        lambda: (ed.status and ed.status[-1]["connected"]) or None, timeout=15, what="reconnected"
    )
    await ed.command(protocol.CMD_OPTIMIZE, uri, ed.range_of(uri, "stuff"))
    assert "cats" in ed.texts[uri] and len(ed.applied) == 1


@pytest.mark.parametrize("ed", ["neovim@v0.7.0"], indirect=True)
async def test_show_status_sends_promptd_status(ed: Editor) -> None:
    status = await ed.command(protocol.CMD_SHOW_STATUS)
    assert status["running"] is True and status["engine"] == "offline"
    await ed.wait_for(
        lambda: any(s.get("engine") == "offline" for s in ed.status) or None,
        what="promptd/status with the engine",
    )


@pytest.fixture
async def hanging_provider(promptd_home: Path) -> AsyncIterator[dict[str, str]]:
    """A loopback "LLM endpoint" that accepts requests and never answers: an optimization
    through it runs until someone cancels it."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    (promptd_home / "config.toml").write_text("[daemon]\nshutdown_grace_s = 0.5\n")
    env = {
        "PROMPTD_PROVIDER": "openai",
        "PROMPTD_BASE_URL": f"http://127.0.0.1:{port}/v1",
        "PROMPTD_MODEL": "llama3",
        "OPENAI_API_KEY": "test-key",
    }
    promptd("start", env=env)
    yield env
    promptd("stop")
    for writer in held:
        writer.close()
    server.close()


async def test_cancel_from_the_editor_stops_the_optimization(
    client: LanguageClient, hanging_provider: dict[str, str]
) -> None:
    ed = Editor(client)
    await ed.start("visual-studio-code", {"promptd": {"engine": "llm"}})
    uri = "file:///work/project/c.py"
    ed.open(uri, 'prompt = "Write some stuff about dogs."\n', "python")
    running = asyncio.ensure_future(
        ed.command(protocol.CMD_OPTIMIZE, uri, ed.range_of(uri, "stuff"))
    )
    # An editor shows the cancel button once the progress has begun (the begin says it is
    # cancellable), not when the token is created.
    token = await ed.wait_for(
        lambda: next((t for t, reports in client.progress_reports.items() if reports), None),
        what="work-done progress to begin",
    )
    client.protocol.notify(
        types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token)
    )
    with pytest.raises(Exception, match="cancelled"):
        await asyncio.wait_for(running, 10)
    assert client.progress_reports[token][-1].kind == "end"
    assert ed.applied == [] and ed.texts[uri] == 'prompt = "Write some stuff about dogs."\n'
    await client.shutdown_session()

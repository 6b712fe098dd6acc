"""The language server over stdio, as VS Code, Neovim 0.7 and Neovim 0.11 drive it: the
offline features (no daemon needed): capabilities, diagnostics, code action listing, hover,
code lens, settings, unicode positions, bad documents."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from promptd.daemon.engine.lint import lint
from promptd.lsp import protocol
from tests.lsp.harness import PROFILES, Editor

PY = "file:///work/project/app.py"
SOURCE = '''import textwrap

SYSTEM_PROMPT = "Write some stuff about dogs."


def helper(x):
    """A docstring is never a prompt, however long and natural its text may look to us."""
    return x + 1


data_prompt = b"prompt bytes are not text"
'''


@pytest.fixture(params=PROFILES)
async def ed(client: LanguageClient, request: pytest.FixtureRequest) -> AsyncIterator[Editor]:
    editor = Editor(client)
    await editor.start(request.param)
    yield editor
    await client.shutdown_session()


def hover_params(ed: Editor, uri: str, needle: str) -> types.HoverParams:
    return types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=ed.range_of(uri, needle).start,
    )


async def test_capabilities_offer_resolvable_actions_hover_lens_and_every_command(
    ed: Editor,
) -> None:
    caps = ed.capabilities
    options = caps.code_action_provider
    assert isinstance(options, types.CodeActionOptions)
    assert options.resolve_provider is True
    assert types.CodeActionKind.RefactorRewrite in (options.code_action_kinds or [])
    assert caps.hover_provider
    assert caps.code_lens_provider is not None
    assert caps.execute_command_provider is not None
    assert list(caps.execute_command_provider.commands) == list(protocol.COMMANDS)
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    expected = "utf-8" if ed.profile == "neovim@v0.11.0" else "utf-16"
    assert caps.position_encoding == expected


async def test_diagnostics_show_findings_with_rule_code_link_and_exact_range(ed: Editor) -> None:
    ed.open(PY, SOURCE, "python")
    found = await ed.diagnostics(PY, lambda d: bool(d))
    vague = [d for d in found if d.code == "PD003"]
    assert sorted(ed.text_at(PY, d.range) for d in vague) == ["some", "stuff"]
    assert all(d.source == "promptd" for d in found)
    # a prompt that could be better is not a broken program: Information / Hint by default
    assert {d.severity for d in found} <= {
        types.DiagnosticSeverity.Information,
        types.DiagnosticSeverity.Hint,
    }
    codes = sorted({d.code for d in found if d.range.start.line == 2})
    assert codes == sorted({f.code for f in lint("Write some stuff about dogs.").findings})
    if ed.profile == "visual-studio-code":  # the only profile with codeDescription support
        assert vague[0].code_description is not None
        assert vague[0].code_description.href.endswith("docs/rules.md#pd003")
    # the docstring carries none; the bytes prompt is linted (but never rewritten)
    lines = {d.range.start.line for d in found}
    assert lines == {2, 10}


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_diagnostics_follow_edits(ed: Editor) -> None:
    ed.open(PY, SOURCE, "python")
    await ed.diagnostics(PY, lambda d: any(x.code == "PD003" for x in d))
    start = ed.texts[PY].index("Write some stuff about dogs.")
    better = (
        "You are a veterinarian. Write a 200-word guide for new dog owners about feeding "
        "puppies. Answer in 3 bullet points."
    )
    ed.edit(PY, start, start + len("Write some stuff about dogs."), better)
    found = await ed.diagnostics(PY, lambda d: not any(x.code == "PD003" for x in d))
    assert {d.range.start.line for d in found} <= {2, 10}


async def test_code_actions_are_listed_cheaply_on_prompts_only(ed: Editor) -> None:
    ed.open(PY, SOURCE, "python")
    actions = await ed.actions(PY, ed.range_of(PY, "stuff"))
    titles = [a.title for a in actions if a.kind == types.CodeActionKind.RefactorRewrite]
    detected = lint("Write some stuff about dogs.").prompt_type
    assert titles[0] == "Optimize prompt"
    assert f"Optimize prompt as {detected}" not in titles
    assert len(titles) == 5 and all(t.startswith("Optimize prompt as ") for t in titles[1:])
    # listing does no work: no edit yet, data for resolve
    assert all(a.edit is None and a.data for a in actions if a.kind == "refactor.rewrite")
    cursor = ed.range_of(PY, "return x").start
    assert await ed.actions(PY, types.Range(start=cursor, end=cursor)) == []
    assert await ed.actions(PY, ed.range_of(PY, "prompt bytes")) == []  # bytes: not offered
    # a selection outside any prompt can still be optimized
    selection = await ed.actions(PY, ed.range_of(PY, "return x + 1"))
    assert [a.title for a in selection] == ["Optimize selection as a prompt"]


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_code_actions_filter_by_only(ed: Editor) -> None:
    ed.open(PY, SOURCE, "python")
    rewrite = await ed.actions(PY, ed.range_of(PY, "stuff"), only=["quickfix"])
    assert all(a.kind == "quickfix" for a in rewrite)


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_quick_fix_removes_filler_and_keeps_the_literal_valid(ed: Editor) -> None:
    uri = "file:///work/project/quick.py"
    ed.open(uri, 'question = "Could you please kindly summarize the \\"report\\"?"\n', "python")
    actions = await ed.actions(uri, ed.range_of(uri, "kindly"), only=["quickfix"])
    fixes = [a for a in actions if a.title.startswith("Remove the filler")]
    assert fixes and fixes[0].edit is not None
    ed.apply(fixes[0].edit)
    import ast

    tree = ast.parse(ed.texts[uri])
    value = tree.body[0].value  # type: ignore[attr-defined]
    assert "kindly" not in value.value and '"report"' in value.value


async def test_resolve_returns_unknown_actions_unchanged(
    client: LanguageClient, ed: Editor
) -> None:
    foreign = types.CodeAction(
        title="Organize imports", kind="source.organizeImports", data={"someone": "else"}
    )
    resolved = await client.code_action_resolve_async(foreign)
    assert resolved == foreign


async def test_hover_shows_score_and_top_findings(client: LanguageClient, ed: Editor) -> None:
    ed.open(PY, SOURCE, "python")
    hover = await client.text_document_hover_async(hover_params(ed, PY, "stuff"))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    text = hover.contents.value
    report = lint("Write some stuff about dogs.")
    assert f"score {report.score}/100" in text
    assert "PD003" in text
    assert "daemon is not running" in text
    assert ed.text_at(PY, hover.range) == '"Write some stuff about dogs."'
    assert await client.text_document_hover_async(hover_params(ed, PY, "return x")) is None


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_code_lens_shows_score_and_runs_optimize(client: LanguageClient, ed: Editor) -> None:
    ed.open(PY, SOURCE, "python")
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=PY))
    )
    assert lenses is not None and len(lenses) == 1  # the bytes literal gets no lens
    score = lint("Write some stuff about dogs.").score
    command = lenses[0].command
    assert command is not None
    assert command.title == f"Optimize · score {score}"
    assert command.command == protocol.CMD_OPTIMIZE
    assert command.arguments is not None and command.arguments[0] == PY
    assert lenses[0].range.start.line == 2


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_configuration_change_updates_detection_severity_lens(
    client: LanguageClient, ed: Editor
) -> None:
    uri = "file:///work/project/prose.py"
    text = 'x = "Please read this text and tell me the main idea."\n'  # 10 words
    ed.open(uri, text, "python")
    await ed.diagnostics(uri)
    assert list(client.diagnostics[uri]) == []  # under the default minimum of 12 words

    def configure(settings: dict[str, object]) -> None:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"promptd": settings})
        )

    configure({"detection": {"minWords": 5}})
    found = await ed.diagnostics(uri, lambda d: bool(d))
    assert {d.severity for d in found} <= {
        types.DiagnosticSeverity.Information,
        types.DiagnosticSeverity.Hint,
    }
    configure({"detection.minWords": 5, "diagnostics": {"severity": "warning"}})
    await ed.diagnostics(
        uri, lambda d: bool(d) and {x.severity for x in d} == {types.DiagnosticSeverity.Warning}
    )
    configure({"codeLens": False})
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert lenses is not None and list(lenses) == []
    configure({"diagnostics.enabled": False})
    await ed.diagnostics(uri, lambda d: d == [])


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_bad_setting_is_reported_and_the_server_goes_on(
    client: LanguageClient, ed: Editor
) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"promptd": {"diagnostics": {"severity": "loud"}, "codeLen": True}}
        )
    )
    await ed.wait_for(lambda: len(client.messages) >= 2, what="two warnings")
    text = " | ".join(m.message for m in client.messages)
    assert "promptd.diagnostics.severity must be one of" in text
    assert "unknown setting promptd.codeLen" in text
    ed.open(PY, SOURCE, "python")
    assert await ed.diagnostics(PY, lambda d: bool(d))


async def test_initialization_options_configure_the_server(client: LanguageClient) -> None:
    editor = Editor(client)
    await editor.start("visual-studio-code", {"promptd": {"diagnostics": {"enabled": False}}})
    editor.open(PY, SOURCE, "python")
    assert await editor.diagnostics(PY) == []
    await client.shutdown_session()


async def test_positions_are_right_for_non_ascii_text(client: LanguageClient, ed: Editor) -> None:
    uri = "file:///work/project/uni.py"
    text = 'prompt = "🎉 日本語 é — write some stuff about 🐶 dogs."\n'
    ed.open(uri, text, "python")
    found = await ed.diagnostics(uri, lambda d: any(x.code == "PD003" for x in d))
    vague = sorted((d for d in found if d.code == "PD003"), key=lambda d: d.range.start.character)
    prefix = text[: text.index("some")]
    units = {
        "utf-16": len(prefix.encode("utf-16-le")) // 2,
        "utf-8": len(prefix.encode("utf-8")),
    }[ed.encoding]
    assert vague[0].range.start == types.Position(line=0, character=units)
    assert ed.text_at(uri, vague[0].range) == "some"
    # an incremental edit after the emoji lands where the editor meant it
    start = text.index("dogs")
    ed.edit(uri, start, start + len("dogs"), "puppies")
    hover = await client.text_document_hover_async(hover_params(ed, uri, "puppies"))
    assert hover is not None
    assert ed.text_at(uri, hover.range).endswith('puppies."')


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_javascript_typescript_and_prompt_files(client: LanguageClient, ed: Editor) -> None:
    js = "file:///work/project/chat.tsx"
    ed.open(
        js,
        "const systemPrompt = `Write some stuff about ${topic}.`;\n"
        'export const App = () => <Chat instructions="Write some stuff." />;\n'
        "const tag = sql`SELECT some stuff FROM t`;\n",
        "typescriptreact",
    )
    found = await ed.diagnostics(js, lambda d: bool(d))
    assert {d.range.start.line for d in found} == {0, 1}
    md = "file:///work/project/prompts/summary.md"
    ed.open(md, "---\ntitle: x\n---\nWrite some stuff about dogs.\n", "markdown")
    found = await ed.diagnostics(md, lambda d: bool(d))
    vague = [d for d in found if d.code == "PD003"]
    assert {ed.text_at(md, d.range) for d in vague} == {"some", "stuff"}
    assert all(d.range.start.line == 3 for d in found)


@pytest.mark.parametrize("ed", ["visual-studio-code"], indirect=True)
async def test_a_bad_document_never_takes_the_server_down(
    client: LanguageClient, ed: Editor
) -> None:
    bad = "file:///work/project/broken.py"
    ed.open(bad, 'prompt = """never closed\n\x00\ud800 def (((\n' + "x" * 100_000, "python")
    await ed.diagnostics(bad)
    weird = "file:///work/project/weird.ts"
    ed.open(weird, "const prompt = `${`${`unfinished", "typescript")
    await ed.diagnostics(weird)
    assert (
        await ed.actions(
            bad,
            types.Range(
                start=types.Position(line=99, character=0), end=types.Position(line=99, character=5)
            ),
        )
        == []
    )
    # and the server still works for a good document
    ed.open(PY, SOURCE, "python")
    assert await ed.diagnostics(PY, lambda d: bool(d))

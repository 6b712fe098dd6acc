""" "Extract variables" and "Trim prompt" through the real daemon (offline engine), from the
language server over stdio, for each editor profile: the action resolves (or runs as a
command, for clients that do not resolve edits), the edit applies, and the file still parses
as Python / TypeScript with the template or the trimmed text in the literal."""

from __future__ import annotations

import ast

import tree_sitter_typescript
from lsprotocol import types
from pytest_lsp import LanguageClient
from tree_sitter import Language, Parser

from tests.lsp.harness import Editor

PY = "file:///work/project/mail.py"
EMAIL = (
    "Please kindly write a birthday email to Alice Johnson about the meeting on 2024-03-05"
    " for {audience}, thank you so much in advance!"
)
PY_SOURCE = f'''import textwrap

EMAIL_PROMPT = "{EMAIL}"


def build():
    return textwrap.dedent("""
        Please kindly summarize the email from bob@example.com about order 48213
        in three bullet points for the team. Thank you so much in advance!
    """)
'''
TS = "file:///work/project/mail.ts"
TS_EMAIL = (
    'Please kindly write a birthday email to Alice Johnson about the "launch" on 2024-03-05,'
    " thank you so much in advance!"
)
TS_SOURCE = f"""const emailPrompt = '{TS_EMAIL}';
const notePrompt = `Please kindly summarize the email from bob@example.com about order 48213
in three bullet points for the team. Thank you so much in advance!`;
"""


def ts_errors(source: str) -> bool:
    parser = Parser(Language(tree_sitter_typescript.language_typescript()))
    return parser.parse(source.encode()).root_node.has_error


async def run_action(client: LanguageClient, ed: Editor, uri: str, needle: str, title: str) -> None:
    """Pick ``title`` at ``needle`` and apply it as the editor would: resolve, or command."""
    actions = await ed.actions(uri, ed.range_of(uri, needle))
    (action,) = [a for a in actions if a.title == title]
    assert action.edit is None  # listing is cheap: the daemon is asked later
    if action.command is not None:
        before = len(ed.applied)
        cmd = action.command
        await ed.command(cmd.command, *(cmd.arguments or []))
        await ed.wait_for(lambda: len(ed.applied) > before, what="the applied edit")
        return
    resolved = await client.code_action_resolve_async(action)
    assert isinstance(resolved, types.CodeAction) and resolved.edit is not None
    ed.apply(resolved.edit)


def py_value(source: str, index: int) -> str:
    node = ast.parse(source).body[index]
    assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
    assert isinstance(node.value.value, str)
    return node.value.value


async def test_extract_variables_in_python_and_typescript(
    client: LanguageClient, ed: Editor
) -> None:
    ed.open(PY, PY_SOURCE, "python")
    await run_action(client, ed, PY, "birthday", "Extract variables")
    value = py_value(ed.texts[PY], 1)
    assert "Alice Johnson" not in value and "2024-03-05" not in value
    assert "{audience}" in value  # the prompt's own placeholder, and its brace syntax
    assert "{recipient_name}" in value
    messages = [m.message for m in client.messages]
    assert any("'Alice Johnson'" in m and "extracted" in m for m in messages)

    ed.open(TS, TS_SOURCE, "typescript")
    await run_action(client, ed, TS, "summarize", "Extract variables")
    assert not ts_errors(ed.texts[TS]), ed.texts[TS]
    assert "bob@example.com" not in ed.texts[TS]
    assert "{{email}}" in ed.texts[TS]


async def test_trim_in_python_and_typescript(client: LanguageClient, ed: Editor) -> None:
    ed.open(PY, PY_SOURCE, "python")
    await run_action(client, ed, PY, "birthday", "Trim prompt")
    value = py_value(ed.texts[PY], 1)
    assert "kindly" not in value and "thank you" not in value.lower()
    assert "Alice Johnson" in value and "{audience}" in value and "2024-03-05" in value
    assert any("trimmed" in m.message and "→" in m.message for m in client.messages)

    ed.open(TS, TS_SOURCE, "typescript")
    await run_action(client, ed, TS, "summarize", "Trim prompt")
    assert not ts_errors(ed.texts[TS]), ed.texts[TS]
    assert "Thank you so much" not in ed.texts[TS].split("\n", 1)[1]
    assert "48213" in ed.texts[TS] and "bob@example.com" in ed.texts[TS]

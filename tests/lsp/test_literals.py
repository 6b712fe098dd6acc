"""New text written back into every literal kind stays valid code holding exactly that text."""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptd.lsp.features import literals
from promptd.lsp.features.detect import detect_text
from promptd.lsp.features.detect.model import Prompt
from promptd.lsp.features.detect.normalize import denormalize

PY_LITERALS = [
    'prompt = "Write some stuff about dogs."\n',
    "prompt = 'Write some stuff about dogs.'\n",
    'prompt = r"Write some stuff about dogs."\n',
    'prompt = u"Write some stuff about dogs."\n',
    'prompt = """Write some stuff about dogs."""\n',
    "prompt = '''Write some stuff\n  about dogs.'''\n",
    'prompt = R"""Write some stuff about dogs."""\n',
    'def f():\n    prompt = """\n        Write some stuff\n        about dogs.\n    """\n',
    'prompt = ("Write some "\n          "stuff about dogs.")\n',
    'prompt = (\n    "Write some "  # a comment\n    "stuff about dogs."\n)\n',
]
TEXT = st.text(
    alphabet=st.sampled_from(list("ab \n\t\"'\\`${}#🐶é\r\x00")) | st.characters(),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


def only_prompt(source: str, path: str = "/p/app.py", language: str = "python") -> Prompt:
    prompts = detect_text(source, PurePosixPath(path), language, 12)
    assert len(prompts) == 1, prompts
    return prompts[0]


def value_of(prompt: Prompt, content: str | None = None) -> str:
    """The literal's value for ``content`` (default: its own): lead and indent put back."""
    style = prompt.style
    return denormalize(
        prompt.content if content is None else content,
        lead=style.lead,
        trail=style.trail,
        indent=style.indent,
        first_line_exempt=style.first_line_exempt,
    )


def rewrite(source: str, prompt: Prompt, text: str) -> str:
    return source[: prompt.start] + literals.render(prompt, text) + source[prompt.end :]


def python_value(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            assert isinstance(node.value, ast.Constant)
            return str(node.value.value)
    raise AssertionError("no assignment")


@pytest.mark.parametrize("source", PY_LITERALS)
@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_python_literals_round_trip(source: str, text: str) -> None:
    prompt = only_prompt(source)
    edited = rewrite(source, prompt, text)
    again = only_prompt(edited)  # detection reads back what was written
    expected = value_of(prompt, text.strip())
    assert python_value(edited) == expected  # parsed by Python itself
    assert value_of(again) == expected  # and read back by the detector


def test_python_keeps_quote_style_and_prefix_when_it_can() -> None:
    source = "prompt = r'Write some stuff about dogs.'\n"
    prompt = only_prompt(source)
    assert literals.render(prompt, "Be brief.") == "r'Be brief.'"
    # a single-quoted literal that must span lines becomes triple-quoted
    assert literals.render(prompt, "Line one.\nLine two.") == "r'''Line one.\nLine two.'''"
    # raw cannot hold a quote of its own kind: the prefix goes, the text stays right
    out = literals.render(prompt, "Say 'hi'.")
    assert ast.literal_eval(out) == "Say 'hi'."


def test_python_fstring_fields_are_untouched_and_new_braces_escaped() -> None:
    source = 'prompt = f"Write some stuff about {topic!r:>10} for {user.name}."\n'
    prompt = only_prompt(source)
    assert prompt.style.fields == ("{topic!r:>10}", "{user.name}")
    out = literals.render(prompt, 'Write about {topic!r:>10} for {user.name}; JSON: {"a": 1}')
    node = ast.parse(out, mode="eval").body
    assert isinstance(node, ast.JoinedStr)
    assert out.count("{topic!r:>10}") == 1 and '{{\\"a\\": 1}}' in out


def test_python_implicit_concatenation_stays_one_piece_a_line_at_its_indent() -> None:
    source = 'def f():\n    prompt = (\n        "Write some "\n        "stuff about dogs."\n    )\n'
    prompt = only_prompt(source)
    out = literals.render(prompt, "First line.\nSecond line.")
    assert out == '"First line.\\n"\n        "Second line."'
    assert python_value(rewrite(source, prompt, "First line.\nSecond line.")) == (
        "First line.\nSecond line."
    )


def test_python_dedented_block_keeps_its_indentation() -> None:
    source = 'def f():\n    prompt = """\n        Write some stuff\n        about dogs.\n    """\n'
    prompt = only_prompt(source)
    assert prompt.content == "Write some stuff\nabout dogs."
    out = literals.render(prompt, "## Task\nWrite about dogs.")
    assert out == '"""\n        ## Task\n        Write about dogs.\n    """'


def test_bytes_are_never_rewritten() -> None:
    prompt = only_prompt('prompt = b"Write some stuff about dogs."\n')
    assert not prompt.editable
    with pytest.raises(literals.RenderError, match="bytes"):
        literals.render(prompt, "x")


JS_LITERALS = [
    ('const prompt = "Write some stuff about dogs.";\n', "/p/a.ts", "typescript"),
    ("const prompt = 'Write some stuff about dogs.';\n", "/p/a.js", "javascript"),
    ("const prompt = `Write some stuff about ${topic}.`;\n", "/p/a.ts", "typescript"),
    ('const el = <Chat prompt="Write some stuff about dogs." />;\n', "/p/a.tsx", "typescriptreact"),
]


@pytest.mark.parametrize(("source", "path", "language"), JS_LITERALS)
@settings(max_examples=60, deadline=None)
@given(text=TEXT)
def test_javascript_literals_round_trip(source: str, path: str, language: str, text: str) -> None:
    prompt = only_prompt(source, path, language)
    fields = prompt.style.fields
    text = text + (" " + fields[0] if fields else "")
    edited = rewrite(source, prompt, text)
    again = only_prompt(edited, path, language)
    assert value_of(again) == value_of(prompt, text.strip())


def test_template_literal_escapes_new_interpolations_but_keeps_fields() -> None:
    source = "const prompt = `Write some stuff about ${topic}.`;\n"
    prompt = only_prompt(source, "/p/a.ts", "typescript")
    out = literals.render(prompt, "About ${topic}, cost ${price} and `code`.")
    assert out == "`About ${topic}, cost \\${price} and \\`code\\`.`"


def test_markdown_fence_and_file_bodies() -> None:
    source = "# Notes\n\n```prompt\nWrite some stuff.\n```\n"
    prompt = only_prompt(source, "/p/README.md", "markdown")
    assert literals.render(prompt, "Be specific.") == "Be specific."
    with pytest.raises(literals.RenderError, match="code fence"):
        literals.render(prompt, "```\ncode\n```")

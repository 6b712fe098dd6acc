"""Which literals are prompts: names, role messages, markers, prose; and which are not."""

from __future__ import annotations

from pathlib import PurePosixPath

from promptd.lsp.features.detect import detect, detect_text


def found(source: str, path: str = "/p/app.py", language: str = "python") -> list[str]:
    prompts = detect_text(source, PurePosixPath(path), language, 12)
    return [source[p.start : p.end] for p in prompts]


def test_python_names_roles_markers_and_prose() -> None:
    source = """
system_prompt = "Be brief."
client.chat(instructions="Answer in French.")
msgs = [{"role": "user", "content": "Tell me a joke."}]
# promptd: prompt
x = "hi there"
y = "Please read the following text carefully and tell me what its main idea is today."
tmpl: str = PromptTemplate.from_template("Say {x}.")
"""
    assert found(source) == [
        '"Be brief."',
        '"Answer in French."',
        '"Tell me a joke."',
        '"hi there"',
        '"Please read the following text carefully and tell me what its main idea is today."',
        '"Say {x}."',
    ]


def test_python_what_is_not_a_prompt() -> None:
    source = '''
def f():
    """A docstring is natural text that goes on and on for many many words indeed here."""
error_message = "Something went wrong while we tried to read the text of the file here."
raise ValueError("Something went wrong while we tried to read the text of the file here.")
parser.add_argument("--x", help="Something went wrong while we tried to read the text here.")
os.system("echo hello")
# promptd: ignore
prompt = "Be brief."
'''
    assert found(source) == []


def test_python_implicit_concatenation_is_one_prompt() -> None:
    source = 'prompt = (\n    "Be "  # why\n    "brief."\n)\nother = ("a", "b")\n'
    prompts = detect_text(source, PurePosixPath("/p/a.py"), "python", 12)
    assert [p.content for p in prompts] == ["Be brief."]


def test_an_unfinished_file_still_yields_the_prompts_before_the_error() -> None:
    source = 'prompt = "Be brief."\nbroken = """never closed\n'
    assert found(source) == ['"Be brief."']


def test_javascript_contexts() -> None:
    source = (
        'const systemPrompt = "Be brief.";\n'
        'ai.generate({ messages: [{ role: "user", content: `Hi ${name}` }] });\n'
        'console.log("Please read the following text carefully and tell me what its idea is.");\n'
        'import x from "./prompt";\n'
    )
    assert found(source, "/p/a.ts", "typescript") == ['"Be brief."', "`Hi ${name}`"]


def test_prompt_files_and_fences() -> None:
    assert found("Be brief.\n", "/p/prompts/a.txt", "plaintext") == ["Be brief."]
    assert found("Be brief.\n", "/p/notes/a.txt", "plaintext") == []
    assert found("---\nx: 1\n---\nBe brief.\n", "/p/a.prompty", "") == ["Be brief."]
    assert found("# Doc\n```prompt\nBe brief.\n```\n", "/p/README.md", "markdown") == ["Be brief."]


def test_detect_never_raises() -> None:
    assert detect("\x00\ud800" * 10, PurePosixPath("/p/a.ts"), "typescript", 12) == []

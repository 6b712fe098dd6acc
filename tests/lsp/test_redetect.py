"""Detection after an edit reuses the prompts it did not touch, and finds what a full scan
finds: random edits (many inside prompts, some breaking quotes or adding lines) compared
with detecting the whole text afresh."""

from __future__ import annotations

import random
from pathlib import PurePosixPath

import pytest

from promptd.lsp.features.detect import detect, python, redetect

PATH = PurePosixPath("/p/app.py")
SOURCE = '''import textwrap

system_prompt = "Be brief and answer in French, please."
msgs = [{"role": "user", "content": "Tell me a joke about {topic}."}, {"role": "system"}]
labels = {"Write a long answer about the weather today, with care": "x", "k": "plain"}
# promptd: prompt
x = "hi there"  # promptd: ignore? no
y = "Please read the following text carefully and tell me what its main idea is today."
template = f"Say {name!r} in {{braces}} " "and more text here " r'raw \\d+ text'
call(prompt="first", instruction="second one on the same line")


def build_prompt():
    return """
    You are a helpful assistant.
    Explain the code below in plain words.\\n
    """


note = "not a prompt"
query = b"bytes are never rewritten"
instructions = (
    "Line one of the instructions "
    # a comment between pieces
    "line two of them."
)
'''
ALPHABET = ["a", "b", " ", "e", "xy", "{", "}", "'", '"', "\\", "\n", ":", "#", "promptd", "def "]


def edits(source: str, seed: int, count: int) -> list[tuple[int, int, str]]:
    rng = random.Random(seed)
    out = []
    text = source
    for _ in range(count):
        prompts = detect(text, PATH, "python", 8)
        if prompts and rng.random() < 0.7:  # inside a prompt: the fast path's case
            p = rng.choice(prompts)
            start = rng.randint(p.start, p.end)
        else:
            start = rng.randint(0, len(text))
        end = min(len(text), start + rng.choice([0, 0, 1, 3]))
        inserted = "".join(rng.choice(ALPHABET) for _ in range(rng.choice([0, 1, 1, 2])))
        out.append((start, end, inserted))
        text = text[:start] + inserted + text[end:]
    return out


@pytest.mark.parametrize("seed", range(8))
def test_redetect_finds_what_a_full_scan_finds(seed: int) -> None:
    text = SOURCE
    prompts = detect(text, PATH, "python", 8)
    for start, end, inserted in edits(SOURCE, seed, 60):
        new = text[:start] + inserted + text[end:]
        again = redetect(text, prompts, new, PATH, "python", 8)
        assert again == detect(new, PATH, "python", 8), (start, end, inserted)
        text, prompts = new, again


def test_typing_inside_a_prompt_takes_the_fast_path_and_shifts_the_rest() -> None:
    old = detect(SOURCE, PATH, "python", 8)
    at = SOURCE.index("answer in French")
    new = SOURCE[:at] + "always " + SOURCE[at:]
    fast = python.redetect(SOURCE, old, new, 8)
    assert fast is not None and fast == detect(new, PATH, "python", 8)
    assert fast[0] is old[0] or fast[0].content.endswith("always answer in French, please.")
    # a quote typed into a literal re-tokenizes the file: not the fast path
    assert python.redetect(SOURCE, old, SOURCE[:at] + '"' + SOURCE[at:], 8) is None


def test_the_analyzer_follows_edits_and_a_change_of_language() -> None:
    from promptd.lsp.features.analysis import Analyzer
    from promptd.lsp.features.documents import Document

    analyzer = Analyzer()
    doc = Document(uri="file:///p/app", text=SOURCE, language_id="python", version=1)
    assert analyzer.prompts(doc, 8) == detect(SOURCE, PATH, "python", 8)
    at = SOURCE.index("answer in French")
    doc.text, doc.version = SOURCE[:at] + "always " + SOURCE[at:], 2
    assert analyzer.prompts(doc, 8) == detect(doc.text, PATH, "python", 8)
    doc.language_id, doc.version = "plaintext", 3  # reopened as another language
    assert analyzer.prompts(doc, 8) == []

"""The offline Deconstructor: verbatim pieces of the prompt, by what they are."""

from __future__ import annotations

from promptd.daemon.engine.analysis import analyze, deconstruct


def test_deconstruct_splits_a_prompt_into_its_parts() -> None:
    text = (
        "You are a data analyst at a bank.\n"
        "Summarize the quarterly figures in {report} for the board.\n"
        "The board meets on Friday.\n"
        "Keep it under 200 words and avoid jargon.\n"
        "Answer with three bullet points.\n"
        "Example: Revenue rose 4% on card fees."
    )
    d = deconstruct(text)
    assert d.role == "You are a data analyst at a bank."
    assert d.tasks == ["Summarize the quarterly figures in {report} for the board."]
    assert d.audience == "for the board"
    assert d.context == "The board meets on Friday."
    assert d.constraints == ["Keep it under 200 words and avoid jargon."]
    assert d.output_format == "Answer with three bullet points."
    assert d.examples == ["Example: Revenue rose 4% on card fees."]
    assert d.input_data == ["Summarize the quarterly figures in {report} for the board."]
    assert d.placeholders == ["{report}"]


def test_requests_and_later_clauses_are_tasks() -> None:
    for text in (
        "My nginx setup is slow, tell me what to check.",
        "I would really appreciate it if you could write a poem about rain.",
        "We want to know whether we should use Postgres or MySQL.",
        "What is a monad?",
    ):
        assert analyze(text).tasks, text


def test_labeled_lines_and_emphasis() -> None:
    a = analyze("Text: {text}\nIMPORTANT: answer in JSON.\nSummarize this email: {email}")
    kinds = [sorted(s.kinds) for s in a.sentences]
    assert kinds[0] == ["input"]
    assert "format" in kinds[1] and "task" not in kinds[1]
    assert "task" in kinds[2]
    assert a.has_format and not a.has_examples


def test_structure_detection() -> None:
    assert not analyze("Write a poem about rain. Keep it short.").structured
    assert analyze("## Task\nWrite a poem.").structured
    assert analyze("Review:\n<review>\n{review}\n</review>").structured
    assert analyze("- one\n- two").structured

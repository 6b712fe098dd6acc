"""Local quick fixes on the prompt text: filler, shouting, repeated sentences."""

from __future__ import annotations

import pytest

from promptd.daemon.engine.lint import lint
from promptd.daemon.values import Finding, Span
from promptd.lsp.features.fixes import quick_fix


def fix(text: str, code: str, needle: str) -> str | None:
    start = text.index(needle)
    finding = Finding(
        code=code, severity="info", message="m", span=Span(start=start, end=start + len(needle))
    )
    got = quick_fix(text, finding)
    return None if got is None else got[1]


@pytest.mark.parametrize(
    ("text", "needle", "fixed"),
    [
        ("Please write a poem.", "Please", "Write a poem."),
        ("Write a kindly poem.", "kindly ", "Write a poem."),
        ("Write a poem, kindly.", "kindly", "Write a poem,."),
        ("Write it. please explain.", "please", "Write it. Explain."),
        ("Line one\nplease do it", "please", "Line one\nDo it"),
    ],
)
def test_filler_is_removed_leaving_one_space_and_a_capital(
    text: str, needle: str, fixed: str
) -> None:
    assert fix(text, "PD013", needle) == fixed


def test_shouting_is_toned_down() -> None:
    assert fix("Write a poem!!!", "PD012", "!!!") == "Write a poem!"
    assert fix("Is it good???", "PD012", "???") == "Is it good?"
    assert fix("Write a poem. NEVER rhyme.", "PD012", "NEVER") == "Write a poem. Never rhyme."
    assert fix("Write a poem and NEVER rhyme.", "PD012", "NEVER") == "Write a poem and never rhyme."
    assert fix("Write a poem, Mixed case.", "PD012", "Mixed") is None


def test_a_repeated_sentence_is_dropped_with_its_space() -> None:
    text = "Be brief. Use plain words. Be brief. End."
    start = text.rindex("Be brief.")
    finding = Finding(
        code="PD019", severity="info", message="m", span=Span(start=start, end=start + 9)
    )
    assert quick_fix(text, finding) == (
        "Remove the repeated sentence",
        "Be brief. Use plain words. End.",
    )


def test_no_fix_without_a_span_for_unknown_codes_or_an_empty_result() -> None:
    assert quick_fix("x", Finding(code="PD013", severity="info", message="m")) is None
    assert fix("Write a poem.", "PD001", "Write") is None
    assert fix("please", "PD013", "please") is None
    assert fix("Write", "PD013", "") is None


def test_the_fix_of_every_lint_finding_keeps_the_rest_of_the_prompt() -> None:
    text = "Please kindly write some stuff about dogs and DONT make it boring!!!"
    for finding in lint(text, "auto").findings:
        got = quick_fix(text, finding)
        if got is not None:
            assert "dogs" in got[1] and got[1] != text

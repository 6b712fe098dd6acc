"""The offline Designer against EXAMPLES.md: minimal, meaning-preserving, sections by type."""

from __future__ import annotations

from promptd.daemon.engine import lint
from promptd.daemon.engine.offline.design import design

from .offline_run import optimize


def test_example_1_messy_general_request() -> None:
    r = optimize(
        "please kindly write some stuff about dogs for {audience}, make it good and DONT "
        "make it boring!!!"
    )
    assert r.prompt_type == "general" and r.changed
    assert r.optimized.startswith("Write some stuff about dogs for {audience}.")
    assert "## Guidelines" in r.optimized and "## Output format" in r.optimized
    assert "make it engaging" in r.optimized.lower()
    for gone in ("please", "kindly", "DONT", "!!!"):
        assert gone not in r.optimized
    # the positive form keeps what the author ruled out
    assert "make it engaging, not boring" in r.optimized.lower()
    assert r.score_after > r.score_before
    changed_for = {c for change in r.changes for c in change.findings}
    assert {"PD013", "PD012", "PD005", "PD002"} <= changed_for
    left = {f.code for f in r.findings if f.needs_input}
    assert {"PD003", "PD008"} <= left  # "some stuff" and the length need the author
    assert "[" not in r.optimized


def test_example_2_technical_request_with_outside_input() -> None:
    r = optimize("fix the bug in this code {code} and explain. use python")
    assert r.prompt_type == "code" and r.route == "full"
    text = r.optimized
    assert text.startswith("You are an experienced Python developer.")
    assert "## Task\n1. Fix the bug in the code below.\n2. Explain" in text
    assert "<code>\n{code}\n</code>" in text
    assert "## Output format\n1. The corrected code in one fenced Python block." in text
    assert r.placeholders == ["{code}"] and text.count("{code}") == 1
    assert any(f.code == "PD020" and "Python version" in f.message for f in r.findings)


def test_example_3_good_prompt_stays_unchanged() -> None:
    good = (
        "Classify the sentiment of the review below as positive, negative or neutral.\n"
        'Answer with the label only.\n\nReview: """{review}"""'
    )
    r = optimize(good)
    assert not r.changed and r.optimized == good
    assert r.score_before == r.score_after >= 80
    assert [f.code for f in r.findings] == ["PD018"]
    assert "already clear" in r.unchanged_reason and "PD018" in r.unchanged_reason


def test_structured_prompt_keeps_its_layout_and_gets_local_fixes() -> None:
    text = (
        "You are a support agent.\n"
        "Reply to the customer message below. Please be polite and NEVER EVER promise "
        "refunds.\n\n<message>\n{message}\n</message>\n\nAnswer in at most 120 words."
    )
    r = optimize(text, "general")
    assert r.changed
    assert r.optimized.startswith("You are a support agent.\nReply to the customer message")
    assert "<message>\n{message}\n</message>" in r.optimized
    assert "NEVER EVER" not in r.optimized and "never ever promise refunds" in r.optimized
    assert "Please" not in r.optimized


def test_second_try_keeps_the_layout() -> None:
    text = "fix the bug in this code {code} and explain. use python"
    findings = lint(text, "code").findings
    minimal = design(text, "code", findings, mode="minimal")
    assert "## Task" not in minimal.prompt
    assert "{code}" in minimal.prompt
    # minimal edits only: no section is added to the author's layout
    assert "## Output format" not in minimal.prompt


def test_negative_without_known_positive_stays_a_finding() -> None:
    r = optimize("Write a short bio of Ada Lovelace for a museum plaque. Don't mention Byron.")
    assert "Don't mention Byron" in r.optimized
    assert any(f.code == "PD005" for f in r.findings)


def test_make_it_good_goes_when_a_positive_instruction_says_the_quality() -> None:
    r = optimize(
        "please kindly write some stuff about dogs for {audience}, make it good and DONT "
        "make it boring!!!"
    )
    assert "- Make it engaging, not boring." in r.optimized
    assert "good" not in r.optimized
    dropped = [c for c in r.changes if c.findings == ["PD003"]]
    assert len(dropped) == 1 and '"make it good"' in dropped[0].description


def test_make_it_good_alone_is_left_for_the_author() -> None:
    r = optimize("please write a story about dogs for {audience}, make it good!!!")
    assert "make it good" in r.optimized.lower()
    assert "PD003" in {f.code for f in r.findings if f.needs_input}

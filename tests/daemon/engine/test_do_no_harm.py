"""Issue 14 / EXAMPLES.md "Do no harm": the offline engine on the prompts that it used to make
worse. Each case runs the whole pipeline (guards included) as ``promptd optimize`` does."""

from __future__ import annotations

import pytest

from promptd.daemon.engine import guards

from .offline_run import optimize

LAYERS = (
    "Create a labeled diagram of an animal cell for a ${grade} biology class.\n"
    "- Layer 1 (Outer): the membrane. Label it with its name (translated to ${lang}).\n"
    "- Layer 2 (Middle): the cytoplasm. Label it with its name (translated to ${lang}).\n"
    "Use a clean, flat style."
)


def test_parallel_items_are_never_removed_as_repetition() -> None:
    r = optimize(LAYERS)
    assert r.optimized.count("Label it with its name (translated to ${lang}).") == 2
    assert "PD019" not in {f.code for f in r.findings}
    assert not any("repeated" in c.description for c in r.changes)


def test_a_placeholder_with_a_default_is_never_split() -> None:
    token = "${Guest_Profile:None (Solo Episode)}"
    text = (
        "Write a podcast intro for episode ${Episode_Number}. "
        f"Guest: {token}. Keep it under 60 seconds when read aloud."
    )
    r = optimize(text)
    assert r.optimized.count(token) == 1
    assert "{Guest_Profile" not in r.optimized.replace(token, "")
    assert guards.placeholder_counts(r.optimized) == guards.placeholder_counts(text)


@pytest.mark.parametrize(
    "atom",
    ["{{ name | upper }}", "{% if vip %}", "{% endif %}", "<<first_name>>", "[[topic]]"],
)
def test_template_atoms_survive_byte_for_byte(atom: str) -> None:
    text = (
        "please write a welcome email to {{ name | upper }} {% if vip %}with a VIP note"
        "{% endif %}, greet <<first_name>> and mention [[topic]]!!!"
    )
    r = optimize(text)
    assert r.optimized.count(atom) == text.count(atom)


def test_negative_constraints_are_rephrased_or_kept_never_lost() -> None:
    text = (
        "Write a job ad for a senior backend engineer at Acme. Never use jargon. "
        "Do not mention salary."
    )
    r = optimize(text)
    assert "Do not mention salary." in r.optimized
    assert "Never use jargon" in r.optimized or "Use plain language" in r.optimized


def test_an_image_prompt_gets_no_answer_format_and_keeps_its_shape() -> None:
    text = (
        "Restore this old photograph: remove scratches and dust, fix the faded colors, "
        "sharpen the faces, keep the original grain and composition. Photo-realistic, 4k."
    )
    r = optimize(text)
    assert r.optimized == text
    assert "PD002" not in {f.code for f in r.findings}


def test_a_swot_gets_its_four_sections_not_generic_key_points() -> None:
    r = optimize("do a SWOT analysis of a small coffee shop opening next to a university campus")
    assert r.changed
    for section in ("Strengths", "Weaknesses", "Opportunities", "Threats"):
        assert section in r.optimized
    for generic in ("key points", "caveats", "plain prose", "conclusion"):
        assert generic not in r.optimized.lower()


def test_a_plan_gets_a_plan() -> None:
    r = optimize(
        "create a marketing plan for launching a vegan protein bar in Germany over the next "
        "6 months!!!"
    )
    assert "## Output format\nThe plan as numbered steps" in r.optimized
    assert "key points" not in r.optimized.lower()


def test_a_spec_keeps_its_requirements_in_order_and_as_requirements() -> None:
    text = (
        "Build a personal budget tracker web app. Users can add income and expenses with "
        "categories. Show a monthly chart of spending by category. Include export "
        "functionality in JSON and CSV. Use React and a local SQLite database."
    )
    r = optimize(text)
    assert text in r.optimized  # the spec, untouched, in its order
    assert "## Output format" not in r.optimized
    assert "Guidelines" not in r.optimized and "Constraints" not in r.optimized


def test_a_persona_prompt_keeps_its_persona_and_request() -> None:
    text = (
        "I want you to act as a travel guide. I will write you my location and you will "
        "suggest a place to visit near my location. In some cases, I will also give you the "
        'type of places I will visit. My first request is "I am in Istanbul/Beyoğlu and I '
        'want to visit only museums."'
    )
    r = optimize(text)
    assert r.optimized.startswith("I want you to act as a travel guide.")
    assert 'My first request is "I am in Istanbul/Beyoğlu' in r.optimized
    assert "## Guidelines" not in r.optimized and "1." not in r.optimized
    assert "plain prose" not in r.optimized


def test_the_first_instruction_stays_the_task() -> None:
    r = optimize("Use the notes {notes} to write a status update for my team. Keep it short.")
    first = r.optimized.split("\n## Guidelines")[0]
    assert "Use the notes" in first or "Use the" in first
    assert "- Use the notes" not in r.optimized


def test_a_request_after_a_statement_is_not_demoted_to_a_rule() -> None:
    r = optimize("This function is slow, can you make it faster?", "code")
    assert "Constraints" not in r.optimized and "Guidelines" not in r.optimized
    assert "make it faster" in r.optimized


def test_no_generic_output_format_is_invented() -> None:
    for text in (
        "Tell me about the history of the Hanseatic League.",
        "Analyze the effect of remote work on small-town economies.",
        "I need ideas for my sister's 30th birthday party.",
    ):
        r = optimize(text)
        low = r.optimized.lower()
        for generic in ("plain prose, in short paragraphs", "key points", "caveats"):
            assert generic not in low, (text, r.optimized)


@pytest.mark.parametrize(
    "text",
    [
        'Return the result as JSON:\n{"name": "", "tags": [], "score": 0}\nplease be accurate!!!',
        "Fill in this config, please:\nstack:\n  frontend: react\n  backend: go\nregion: eu",
        "please fix this!!!\n```python\ndef f(x):\n    return x + 1\n```",
        "Report each finding in this layout:\n**File:** {path}\n**Issue:** {issue}\n"
        "**Fix:** {fix}\nplease be thorough!!!",
    ],
)
def test_shapes_come_out_intact(text: str) -> None:
    r = optimize(text)
    assert guards.check_shape(text, r.optimized) is None
    for line in text.split("\n")[1:-1]:
        assert line in r.optimized

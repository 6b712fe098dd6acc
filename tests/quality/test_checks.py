"""The quality harness's own checks catch the harms EXAMPLES.md lists, and pass safe edits.

These run without the engine: each hands a hand-made rewrite to the checks, so a check that
stopped catching its harm (or started flagging good edits) fails here, not silently in the
corpus run.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.quality import checks
from tests.quality.corpus import Case, check_case, load

LAYERS = """Draw a labelled diagram of a cell.
- Layer 1 (Outer): the membrane. Label it with its name (translated to ${lang}).
- Layer 2 (Middle): the cytoplasm. Label it with its name (translated to ${lang})."""


def kinds(problems: list[checks.Problem]) -> set[str]:
    return {p.check for p in problems}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi {name}, {name}!", {"{name}": 2}),
        ("{{ name | upper }} and {{x}}", {"{{ name | upper }}": 1, "{{x}}": 1}),
        ("${Guest:None (Solo Episode)} ${x}", {"${Guest:None (Solo Episode)}": 1, "${x}": 1}),
        ("{% if a %}A{% endif %}", {"{% if a %}": 1, "{% endif %}": 1}),
        (
            "<<job>> [[topic]] %(user)s $city {$TEAM}",
            {
                "<<job>>": 1,
                "[[topic]]": 1,
                "%(user)s": 1,
                "$city": 1,
                "{$TEAM}": 1,
            },
        ),
        ("f'{value!r:>10}' and {0}", {"{value!r:>10}": 1, "{0}": 1}),
        ("Write about <TOPIC>. <b>bold</b> <code>x</code>", {"<TOPIC>": 1}),
        ("It costs $5 and {} is empty", {}),
    ],
)
def test_fields_finds_every_syntax_as_an_atom(text: str, expected: dict[str, int]) -> None:
    assert dict(checks.fields(text)) == expected


def test_a_dropped_use_of_a_repeated_placeholder_is_caught() -> None:
    rewrite = LAYERS.replace(" (translated to ${lang}).", ".", 1)
    problems = checks.check_placeholders(LAYERS, rewrite)
    assert [p.message for p in problems] == ["'${lang}' occurs 2x in the original, 1x after"]


def test_a_split_default_placeholder_is_caught() -> None:
    original = "Guest: ${Guest_Profile:None (Solo Episode)}."
    rewrite = "Guest: $<tag>{Guest_Profile:None (Solo Episode)}</tag>."
    assert kinds(checks.check_placeholders(original, rewrite)) == {"placeholders"}


def test_an_invented_placeholder_is_caught() -> None:
    assert checks.check_placeholders("Write a poem.", "Write a poem about {topic}.")


def test_dropping_a_parallel_line_loses_content() -> None:
    rewrite = "\n".join(LAYERS.splitlines()[:2])
    assert {"content", "placeholders"} <= kinds(checks.harm(LAYERS, rewrite))


def test_a_dropped_negative_constraint_is_caught() -> None:
    original = "Write a job ad for a bookkeeper. Do not mention salary. Mention the free parking."
    rewrite = (
        "## Task\nWrite a job ad for a bookkeeper.\n\n## Guidelines\n- Mention the free parking."
    )
    assert "constraint" in kinds(checks.harm(original, rewrite))


def test_an_inverted_constraint_is_caught() -> None:
    original = "Explain the contract. Never use jargon."
    rewrite = "Explain the contract. Use jargon where it helps."
    assert "constraint" in kinds(checks.check_constraints(original, rewrite))


def test_a_rephrased_constraint_that_keeps_its_words_passes() -> None:
    original = "please explain the contract, and never use jargon!!!"
    rewrite = "Explain the contract.\n\n## Guidelines\n- Never use jargon."
    assert checks.harm(original, rewrite) == []


def test_splitting_a_sentence_into_steps_passes() -> None:
    original = "fix the bug in this code {code} and explain. use python"
    rewrite = (
        "You are an experienced Python developer.\n\n## Task\nFind and fix the bug in the code "
        "below, then explain what was wrong.\n\n## Code\n<code>\n{code}\n</code>\n\n"
        "## Output format\n1. The corrected code in one fenced Python block.\n"
        "2. A short explanation of the bug."
    )
    assert checks.harm(original, rewrite) == []


def test_a_changed_code_fence_or_json_value_is_caught() -> None:
    original = 'Fix it:\n\n```python\nx = 1\n```\n\n{"a": 1, "b": [1, 2]}'
    assert kinds(checks.harm(original, original.replace("x = 1", "x = 2"))) == {"block"}
    assert "block" in kinds(checks.harm(original, original.replace('"b": [1, 2]', '"b": [1]')))
    reflowed = original.replace('{"a": 1, "b": [1, 2]}', '{\n  "a": 1,\n  "b": [1, 2]\n}')
    assert checks.check_blocks(original, reflowed) == []


def test_an_emptied_yaml_key_is_caught() -> None:
    case = Case(id="y", text="task: plan\nstack: [python, redis]\nteam: 3", structure=["yaml"])
    problems = check_case(case, "task: plan\nstack:\nteam: 3")
    assert "block" in kinds(problems)


def test_a_requirement_moved_under_output_format_is_caught() -> None:
    case = Case(
        id="s",
        text="Build a notes app.\n1. Sync across devices.\n2. Include export in JSON and CSV.",
        structure=["numbered"],
    )
    rewrite = (
        "## Task\nBuild a notes app.\n\n## Requirements\n1. Sync across devices.\n\n"
        "## Output format\n1. Include export in JSON and CSV."
    )
    assert [p.check for p in check_case(case, rewrite)] == ["structure"]


def test_a_fill_in_slot_is_caught_and_expectations_are_checked() -> None:
    case = Case(
        id="i",
        text="A red fox in the snow, watercolor",
        must_keep=["watercolor"],
        must_not_add=["plain prose"],
        unchanged=True,
    )
    rewrite = "A red fox in the snow, [insert style]\n\nAnswer in plain prose."
    assert {"fill-in", "must_keep", "must_not_add", "unchanged", "content"} <= kinds(
        check_case(case, rewrite)
    )
    assert check_case(case, case.text) == []


def test_the_corpus_loads_and_is_large_and_varied() -> None:
    cases = load()
    assert len(cases) >= 300
    styles = {c.style for c in cases}
    assert {"persona", "image", "json", "yaml", "templates", "specs", "good"} <= styles
    assert sum(c.unchanged for c in cases) >= 25


def test_a_demoted_first_instruction_is_caught() -> None:
    original = "Localize this slogan for Italy: 'Coffee that keeps up.' Give three options."
    demoted = (
        "## Task\nGive three options.\n\n## Context\n"
        "Localize this slogan for Italy: 'Coffee that keeps up.'"
    )
    assert kinds(checks.check_task_first(original, demoted)) == {"task"}
    kept = "## Task\nLocalize this slogan for Italy: 'Coffee that keeps up.'\nGive three options."
    assert checks.check_task_first(original, kept) == []
    context_first = "Our sales fell 20% in May. Analyze why."
    moved = "## Task\nAnalyze why.\n\n## Context\nOur sales fell 20% in May."
    assert checks.check_task_first(context_first, moved) == []


def test_parallel_items_without_placeholders_each_keep_their_line() -> None:
    original = (
        "Plan dinners.\nMonday: a vegetarian dish. Keep it under 30 minutes.\n"
        "Tuesday: a fish dish. Keep it under 30 minutes."
    )
    merged = "Plan dinners.\nMonday: a vegetarian dish. Keep it under 30 minutes.\nTuesday: fish."
    assert kinds(checks.check_items(original, merged)) == {"line"}
    assert (
        checks.check_items(original, original.replace("Plan dinners.", "Plan the dinners.")) == []
    )


def test_a_requirement_moved_under_output_format_is_caught_without_numbers() -> None:
    original = "You are a tutor. Ask one guiding question at a time. Never give the final answer."
    rewrite = (
        "You are a tutor.\n\n## Guidelines\n- Never give the final answer.\n\n"
        "## Output format\nAsk one guiding question at a time."
    )
    assert kinds(checks.check_output_section(original, rewrite)) == {"task"}
    fine = "Sort the list.\n\n## Output format\nReturn the sorted list only."
    assert checks.check_output_section("Sort the list. Return the sorted list only.", fine) == []


_NAME = st.from_regex(r"[a-z][a-z0-9_]{2,10}", fullmatch=True)
_TOKEN = st.one_of(
    _NAME.map(lambda n: f"{{{n}}}"),
    _NAME.map(lambda n: f"{{{{{n}}}}}"),
    _NAME.map(lambda n: f"{{{{ {n} | upper }}}}"),
    _NAME.map(lambda n: f"${{{n}}}"),
    _NAME.map(lambda n: f"${{{n}:None (solo)}}"),
    _NAME.map(lambda n: f"{{% if {n} %}}"),
    _NAME.map(lambda n: f"<<{n}>>"),
    _NAME.map(lambda n: f"[[{n}]]"),
    _NAME.map(lambda n: f"%({n})s"),
    _NAME.map(lambda n: f"${n}"),
    _NAME.map(lambda n: f"<X_{n.upper()}>"),
    _NAME.map(lambda n: f"{{{n}!r:>10}}"),
)
_PROSE = st.from_regex(r"[A-Za-z ,.;:!?'\"()\n-]{0,30}", fullmatch=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_PROSE, _TOKEN), max_size=8), _PROSE)
def test_fields_finds_exactly_the_placeholders_written(
    parts: list[tuple[str, str]], tail: str
) -> None:
    text = "".join(f"{prose} {token} " for prose, token in parts) + tail
    assert checks.fields(text) == Counter(token for _prose, token in parts)
    if parts:
        token = parts[-1][1]
        cut = text[::-1].replace(token[::-1], "", 1)[::-1]  # drop its last occurrence
        assert checks.check_placeholders(text, cut), f"dropping {token!r} went unnoticed"


def test_leftovers_of_a_cut_are_caught_and_safe_splits_are_not() -> None:
    original = "Given the schema {schema}, write a query. thank you sooo much"
    garbled = "The the schema below, write a query.\n<schema>\n{schema}\n</schema>\nSooo much"
    assert [p.message for p in checks.check_garble(original, garbled)] == [
        "a doubled word 'The the'",
        "a fragment 'Sooo much' the original did not have",
    ]
    split = "Compare A and B, then recommend one. Simple please. Text: {text}"
    safe = "1. Compare A and B.\n2. Recommend one.\nSimple.\nText:\n<text>\n{text}\n</text>"
    assert checks.check_garble(split, safe) == []


IDEAL = {
    # EXAMPLES.md sketch 1, keeping the negated word in the positive form.
    "messy-dogs": (
        "Write an engaging piece about dogs for {audience}: lively, not boring.\n\n"
        "## Guidelines\n- Keep the tone lively and concrete: use specific examples and vivid "
        "details.\n- Organize it with a title and short paragraphs.\n\n## Output format\n"
        "A title on the first line, then the text in plain prose."
    ),
    "neg-no-jargon": (
        "Explain how a mortgage offset account works to a first-time buyer. Use plain words a "
        "newcomer knows; never use jargon."
    ),
    # EXAMPLES.md sketch 2.
    "code-fix-bug-placeholder": (
        "You are an experienced Python developer.\n\n## Task\nFind and fix the bug in the code "
        "below, then explain what was wrong and why the fix works.\n\n## Code\n<code>\n{code}\n"
        "</code>\n\n## Output format\n1. The corrected code in one fenced Python block.\n"
        "2. A short explanation: the cause of the bug and how the fix addresses it."
    ),
    "spec-todo-app": (
        "You are an experienced React and TypeScript developer.\n\n"
        "## Task\nBuild a to-do list web app with React and TypeScript.\n\n"
        "## Requirements\n1. Users can add, edit, complete and delete tasks.\n"
        "2. Tasks have a title, an optional due date and a priority (low, medium, high).\n"
        "3. Tasks persist in localStorage.\n4. Include export functionality in JSON and CSV.\n"
        "5. The app must work without a backend.\n"
        "6. Keyboard shortcuts: n for a new task, / to search."
    ),
    "tpl-sql-gen": (
        "Given the schema {schema}, write a SQL query that answers: {question}.\n\n"
        "## Constraints\n- Use only the tables in the schema.\n- Return only the SQL."
    ),
}


@pytest.mark.parametrize("case_id", sorted(IDEAL))
def test_a_careful_rewrite_meets_its_case(case_id: str) -> None:
    """The expectations can be met: the rewrite a careful prompt engineer writes passes."""
    case = next(c for c in load() if c.id == case_id)
    assert check_case(case, IDEAL[case_id]) == []


def test_a_brace_field_inside_a_double_brace_one_is_not_counted_as_a_use() -> None:
    # Found by the property test: "{a}" dropped while "{{a}}" stayed went unnoticed.
    assert checks.check_placeholders("{{a}} {a}", "{{a}}")

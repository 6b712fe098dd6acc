"""Guards: placeholders in every style, intent items, size, and input refusal."""

from __future__ import annotations

import pytest

from promptd.daemon.config import EngineConfig
from promptd.daemon.engine import guards
from promptd.daemon.errors import InputError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello {name}!", ["{name}"]),
        ("Hello {{ name }} and {{user.email}}", ["{{ name }}", "{{user.email}}"]),
        ("Deploy ${service} to ${env}", ["${service}", "${env}"]),
        ("PHP style {$USER_NAME} here", ["{$USER_NAME}"]),
        ("Region %(region)s, count %(n)d, ratio %(r).2f", ["%(region)s", "%(n)d", "%(r).2f"]),
        ("Summarize <DOCUMENT> for <audience name>", ["<DOCUMENT>", "<audience name>"]),
        (
            "f-string {value!r:>10} and {items[0]} and {obj.attr}",
            ["{value!r:>10}", "{items[0]}", "{obj.attr}"],
        ),
        ("positional {0} and {1}", ["{0}", "{1}"]),
        ("repeated {x} and {x}", ["{x}"]),
    ],
)
def test_placeholders_in_every_style(text: str, expected: list[str]) -> None:
    assert guards.placeholders(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        'Return JSON like {"name": "x", "age": 3}.',
        "An empty set {} is not a field.",
        "Put the code between <code> and </code> tags.",
        "Use <b>bold</b> and a line break <br> sparingly.",
        "a < b and c > d",
    ],
)
def test_json_markup_and_delimiters_are_not_placeholders(text: str) -> None:
    assert guards.placeholders(text) == []


def test_placeholder_guard_names_dropped_invented_and_renamed() -> None:
    original = "Write to {name} about {topic}."
    assert guards.check_placeholders(original, "Write to {name} about {topic}!") is None
    v = guards.check_placeholders(original, "Write to {name} about {subject}.")
    assert v is not None
    assert v.guard == "placeholders"
    assert "{topic}" in v.items and "{subject}" in v.items
    assert "dropped {topic}" in v.message and "invented {subject}" in v.message


def test_intent_items_cover_every_kind() -> None:
    text = (
        "Summarize the report at https://example.com/q3.pdf in at most 3 bullet points, in French. "
        'Quote "net revenue" exactly, call `compute_total()` and mention Acme Corp and the API.'
    )
    kinds = {(i.kind, i.text) for i in guards.intent_items(text)}
    assert ("url", "https://example.com/q3.pdf") in kinds
    assert ("quote", '"net revenue"') in kinds
    assert ("code", "compute_total()") in kinds
    assert ("constraint", "at most 3") in kinds
    assert ("constraint", "in French") in kinds
    assert ("number", "3 bullet points") in kinds
    assert ("entity", "Acme") in kinds
    assert ("entity", "API") in kinds


def test_intent_guard_names_what_was_lost() -> None:
    original = "List at most 3 risks of the Berlin launch, in German."
    ok = "## Task\nList at most 3 risks of the Berlin launch.\n\n## Output format\nIn German."
    assert guards.check_intent(original, ok) is None
    v = guards.check_intent(original, "List the risks of the launch, in German.")
    assert v is not None
    assert "Berlin" in v.items and "at most 3" in v.items


def test_shouted_words_are_not_entities() -> None:
    items = guards.intent_items("Write a poem. DO NOT MAKE IT LONG and use JSON.")
    texts = {i.text for i in items}
    assert "DO" not in texts and "LONG" not in texts
    assert "JSON" in texts


def test_size_guard_uses_ratio_and_allowance() -> None:
    cfg = EngineConfig(growth_ratio=2.0, header_allowance_tokens=5)
    original = "one two three four five"  # 5 tokens -> limit 15
    assert guards.size_limit(original, cfg) == 15
    assert guards.check_size(original, " ".join(["w"] * 15), cfg) is None
    v = guards.check_size(original, " ".join(["w"] * 16), cfg)
    assert v is not None and "limit of 15" in v.message


def test_check_combines_all_guards() -> None:
    cfg = EngineConfig()
    original = "Translate {text} into Spanish."
    assert guards.check(original, "Translate the text below into Spanish.\n\n{text}", cfg) == []
    found = {v.guard for v in guards.check(original, "Translate it. " * 200, cfg)}
    assert found == {"placeholders", "intent", "content", "size"}


def test_input_over_the_cap_is_refused_with_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"more than the limit of 10.*max_input_chars"):
        guards.check_input("x" * 11, EngineConfig(max_input_chars=10))
    guards.check_input("x" * 10, EngineConfig(max_input_chars=10))


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "empty"), ("   \n\t", "empty"), ("abc\x00def", "NUL"), ("\x01\x02\x03\x04ab", "binary")],
)
def test_unusable_input_is_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        guards.check_input(text)


# --- issue 14: do no harm -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Guest: ${Guest_Profile:None (Solo Episode)}.", ["${Guest_Profile:None (Solo Episode)}"]),
        ("Hi {{ name | upper }}!", ["{{ name | upper }}"]),
        ("{% if vip %}Thank them.{% endif %}", ["{% if vip %}", "{% endif %}"]),
        ("Dear <<first_name>>, about [[topic]]", ["<<first_name>>", "[[topic]]"]),
        ("Use $name and $topic", ["$name", "$topic"]),
        ("Send it to $USER_EMAIL", ["$USER_EMAIL"]),
    ],
)
def test_every_common_template_syntax_is_a_placeholder(text: str, expected: list[str]) -> None:
    assert guards.placeholders(text) == expected


@pytest.mark.parametrize(
    "text",
    ["It costs $5 and $20.", "Just $x here.", "```bash\necho $PATH $HOME\n```"],
)
def test_dollar_words_count_only_where_clearly_fields(text: str) -> None:
    assert guards.placeholders(text) == []


def test_placeholder_guard_counts_every_use() -> None:
    original = "Label it (translated to ${lang}). Label that (translated to ${lang})."
    v = guards.check_placeholders(original, "Label it (translated to ${lang}).")
    assert v is not None and "${lang} (1 of 2)" in v.message
    v = guards.check_placeholders("Hi {name}.", "Hi {name}. Bye {name}.")
    assert v is not None and "added uses of {name}" in v.message


def test_a_split_placeholder_is_caught() -> None:
    original = "Guest: ${Guest_Profile:None (Solo Episode)}."
    v = guards.check_placeholders(original, 'Guest: $"""{Guest_Profile:None (Solo Episode)}""".')
    assert v is not None
    assert "dropped ${Guest_Profile:None (Solo Episode)}" in v.message
    assert "invented {Guest_Profile:None (Solo Episode)}" in v.message


LAYERS = (
    "Draw the cell for a ${grade} class.\n"
    "- Layer 1 (Outer): the membrane. Label it with its name (translated to ${lang}).\n"
    "- Layer 2 (Middle): the cytoplasm. Label it with its name (translated to ${lang})."
)


def test_parallel_items_are_content_not_repetition() -> None:
    dropped = LAYERS.replace(" Label it with its name (translated to ${lang}).", "", 1)
    found = {v.guard for v in guards.check(LAYERS, dropped)}
    assert {"placeholders", "content"} <= found


@pytest.mark.parametrize(
    ("original", "rewrite", "lost"),
    [
        (
            "Write a job ad for Acme. Never use jargon. Do not mention salary.",
            "Write a job ad for Acme.\n\n## Guidelines\n- Use plain language.",
            "Do not mention salary.",
        ),
        (
            "Write a job ad for Acme. Do not mention salary.",
            "Write a job ad for Acme. Mention salary.",
            "Do not mention salary.",
        ),
        (
            "Build a budget app. Include export functionality in JSON and CSV. Use React.",
            "Build a budget app. Use React, with JSON and CSV.",
            "Include export functionality in JSON and CSV.",
        ),
        (
            "Answer with the label only.",
            "Answer with the label.",
            "Answer with the label only.",
        ),
    ],
)
def test_content_guard_names_a_lost_instruction(original: str, rewrite: str, lost: str) -> None:
    v = guards.check_content(original, rewrite)
    assert v is not None and v.guard == "content"
    assert lost in v.items, v.items


def test_content_guard_accepts_rephrasing_and_declared_removals() -> None:
    original = "please write a poem, DONT make it long. Keep it short. Keep it short."
    rewrite = "Write a poem.\n\n## Guidelines\n- Keep it concise.\n- Keep it short."
    from promptd.daemon.values import Change

    assert guards.check_content(original, rewrite) is not None  # a "Keep it short" is gone
    removed = [
        Change(
            description='Removed a repeated sentence ("Keep it short.").',
            findings=["PD019"],
            kind="remove",
        )
    ]
    assert guards.check_content(original, rewrite, removed) is None
    # "never use jargon" may become "use plain language", never disappear
    assert guards.check_content("Never use jargon.", "Use plain language.") is None
    assert guards.check_content("Never use jargon.", "Be clear.") is not None


@pytest.mark.parametrize(
    ("original", "rewrite", "problem"),
    [
        (
            'Return the result as JSON:\n{"name": "", "tags": []}',
            'Return the result as JSON:\n{"name": ""}',
            "JSON",
        ),
        (
            "Fill in this config:\nstack:\n  frontend: react\n  backend: go\nregion: eu",
            "Fill in this config:\nstack:\nregion: eu",
            "YAML",
        ),
        ("Fix it:\n```py\nx = 1\n```", "Fix it:\n```py\nx = 2\n```", "code"),
        (
            "Report in this layout:\n**File:** {path}\n**Issue:** {issue}",
            "Report in this layout:\n**Issue:** {issue} {path}",
            "template",
        ),
        ("Steps:\n1. Plan.\n2. Build.\n3. Ship.", "Steps: plan, build and ship.", "numbered"),
        (
            "A photorealistic portrait of an old fisherman, 4k, soft light.",
            "A photorealistic portrait of an old fisherman, 4k, soft light.\n\n## Output format\n"
            "An image.",
            "image prompt",
        ),
    ],
)
def test_shape_guard_keeps_what_carries_meaning(original: str, rewrite: str, problem: str) -> None:
    v = guards.check_shape(original, rewrite)
    assert v is not None and v.guard == "structure"
    assert problem in v.message
    assert guards.check_shape(original, original) is None

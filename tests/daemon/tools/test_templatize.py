"""templatize: which values come out, how they are named, and the exact round trip."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptd.daemon.errors import GuardError, InputError
from promptd.daemon.tools.templatize import check, fill, templatize


def table(text: str) -> dict[str, str]:
    return {v.name: v.value for v in templatize(text).variables}


def test_values_become_named_placeholders_and_instructions_stay() -> None:
    text = (
        "Write a follow-up email to our customer Maria Lopez about order #4411, shipped on "
        "2024-05-03. Keep it under 150 words, in English, and link https://acme.example/track. "
        "Reply-to: support@acme.example"
    )
    result = templatize(text)
    assert result.template == (
        "Write a follow-up email to our customer {{customer_name}} about order "
        "#{{order_number}}, shipped on {{date}}. Keep it under {{word_limit}} words, in "
        "English, and link {{url}}. Reply-to: {{email}}"
    )
    assert table(text) == {
        "customer_name": "Maria Lopez",
        "order_number": "4411",
        "date": "2024-05-03",
        "word_limit": "150",
        "url": "https://acme.example/track",
        "email": "support@acme.example",
    }
    assert {v.kind for v in result.variables} == {"name", "number", "date", "url", "email"}
    assert result.style == "jinja" and result.existing == []
    assert fill(result.template, result.variables) == text


def test_the_prompts_own_syntax_is_used_and_existing_placeholders_are_kept() -> None:
    brace = templatize("Summarize the report for {audience} in 3 bullet points.")
    assert brace.template == "Summarize the report for {audience} in {bullet_count} bullet points."
    assert brace.style == "brace" and brace.existing == ["{audience}"]

    dollar = templatize("Label it in ${lang}. Write about Anna Karenina in at least 300 words.")
    assert dollar.template == (
        "Label it in ${lang}. Write about ${name} in at least ${min_words} words."
    )

    spaced = templatize("Hi {{ name }}, confirm the meeting with Dr. Alan Turing on March 3, 2025.")
    assert spaced.template == (
        "Hi {{ name }}, confirm the meeting with {{ person_name }} on {{ date }}."
    )


def test_names_never_collide_with_existing_placeholders_and_repeat_values_share_one() -> None:
    text = "Use {word_limit} words or fewer. Write about Paris in under 200 words. Paris is fun."
    result = templatize(text)
    assert result.template == (
        "Use {word_limit} words or fewer. Write about {name} in under {word_limit_2} words. "
        "{name} is fun."
    )
    paris = next(v for v in result.variables if v.value == "Paris")
    assert paris.occurrences == 2
    assert fill(result.template, result.variables) == text


def test_answer_options_format_words_and_roles_are_not_extracted() -> None:
    text = (
        'You are a Senior Data Analyst. Answer with "yes" or "no" in JSON. '
        'Is the claim "water boils at 100 C at sea level" true?'
    )
    result = templatize(text)
    assert result.template == (
        'You are a Senior Data Analyst. Answer with "yes" or "no" in JSON. '
        'Is the claim "{{claim}}" true?'
    )


def test_a_pasted_document_in_a_fence_becomes_one_placeholder_named_from_its_label() -> None:
    body = "Revenue grew 12% in Q3.\nCosts fell by $2,000.\nHeadcount stayed at 40."
    text = f"Summarize the report below in 2 sentences.\n\nReport:\n```\n{body}\n```\n"
    result = templatize(text)
    assert result.template == (
        "Summarize the report below in {{sentence_count}} sentences.\n\n"
        "Report:\n```\n{{report}}\n```\n"
    )
    assert table(text)["report"] == body


def test_a_prompt_without_values_comes_back_unchanged() -> None:
    text = "Explain recursion to a beginner, with one example."
    result = templatize(text)
    assert result.template == text and result.variables == []


def test_the_guard_refuses_a_template_that_does_not_fill_back() -> None:
    text = "Write to Jane Doe in under 120 words."
    result = templatize(text)
    check(text, result)  # the real one passes
    wrong = msgspec.structs.replace(result, template=result.template.replace("120", "12"))
    wrong.variables[0].value = "Jane"
    with pytest.raises(GuardError, match="fills back to the prompt exactly"):
        check(text, wrong)
    moved = msgspec.structs.replace(templatize("Hi {name}, meet Jane Doe."))
    moved.template = moved.template.replace("{name}", "{nom}")
    with pytest.raises(GuardError):
        check("Hi {name}, meet Jane Doe.", moved)


def test_empty_input_is_refused_with_what_to_do() -> None:
    with pytest.raises(InputError, match="the prompt is empty"):
        templatize("   \n")


# --- properties -----------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "Write to Jane Doe",
        "our customer Maria Lopez",
        " in under 150 words",
        " 3 bullet points",
        " on 2024-05-03",
        " on March 3, 2025",
        " https://example.com/a?b=1",
        " ops@example.org",
        ' titled "Why Rust Wins"',
        " {audience}",
        " {{ name }}",
        " ${lang}",
        " {{word_limit}}",
        "\n```\nsome pasted text that is long enough to be a document\n```\n",
        ". ",
        "\n",
        " Paris",
        " $500",
        " order #4411",
        '"',
        "{",
        "}}",
        "Never mention prices.",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), min_size=1, max_size=12).map("".join))
def test_filling_the_template_gives_the_original_exactly(text: str) -> None:
    try:
        result = templatize(text)
    except InputError:
        return  # empty, binary or control characters: refused before any work
    assert fill(result.template, result.variables) == text
    names = [v.name for v in result.variables]
    assert len(names) == len(set(names))
    for token in result.existing:
        assert result.template.count(token) == text.count(token)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_round_trips(text: str) -> None:
    try:
        result = templatize(text)
    except InputError:
        return
    assert fill(result.template, result.variables) == text


@pytest.mark.parametrize(
    ("text", "template"),
    [
        (
            "Write a SWOT analysis of Tesla for the European market in 2025. Revenue: $2,400 "
            "in March 2025. Due by May 5, 2025.",
            "Write a SWOT analysis of {{name}} for the European market in {{year}}. Revenue: "
            "{{revenue}} in {{date}}. Due by {{deadline}}.",
        ),
        (
            "Explain Kubernetes to a Product Manager. Plan 3 days in Tokyo in April.",
            "Explain {{topic}} to a Product Manager. Plan {{day_count}} days in {{place}} in "
            "{{month}}.",
        ),
        (
            'Act as a travel guide. My first request is "I am in Istanbul, show me museums."',
            'Act as a travel guide. My first request is "{{request}}"',
        ),
    ],
)
def test_names_come_from_the_context(text: str, template: str) -> None:
    result = templatize(text)
    assert result.template == template
    assert fill(result.template, result.variables) == text

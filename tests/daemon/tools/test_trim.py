"""trim: what goes first, what never goes, when it stops, and the real token counts."""

from __future__ import annotations

import re
import warnings
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptd.daemon.engine.guards import placeholders
from promptd.daemon.errors import InputError
from promptd.daemon.tools.trim import trim

with warnings.catch_warnings():  # bpe-openai 0.1.4 loads its data with a deprecated call
    warnings.simplefilter("ignore", DeprecationWarning)
    import bpe_openai

    ENCODINGS = {name: bpe_openai.get_encoding(name) for name in ("o200k_base", "cl100k_base")}

PROMPT = (
    "Hello! Could you please summarize the report below for {audience}? "
    "I would really appreciate it if you could keep it short.\n"
    "Never mention prices. Use exactly 3 bullet points.\n"
    "Keep it short.\n"
    "Keep it short.\n"
    "In order to help the reader, make sure to use plain words.\n"
    'Report: "Q3 revenue grew 12%".\n'
    "Thank you so much in advance!"
)


def o200k(text: str) -> int:
    return len(ENCODINGS["o200k_base"].encode(text))


def test_a_prompt_that_fits_is_left_alone() -> None:
    result = trim(PROMPT, 1000, "gpt-4o")
    assert result.trimmed == PROMPT and result.removals == [] and result.fits
    assert result.tokens_before == result.tokens_after == o200k(PROMPT)


def test_politeness_and_filler_go_first_and_it_stops_as_soon_as_it_fits() -> None:
    before = o200k(PROMPT)
    result = trim(PROMPT, before - 5, "gpt-4o")
    assert result.fits and result.tokens_after <= before - 5
    assert [r.kind for r in result.removals] == ["politeness"]
    assert result.trimmed == PROMPT.removesuffix("\nThank you so much in advance!")
    assert "Keep it short.\nKeep it short." in result.trimmed  # not needed yet: not cut


def test_the_best_trim_keeps_every_protected_thing_and_says_how_far_over() -> None:
    result = trim(PROMPT, 10, "gpt-4o")
    assert result.trimmed == (
        "Summarize the report below for {audience}. Keep it short.\n"
        "Never mention prices. Use exactly 3 bullet points.\n"
        "To help the reader, use plain words.\n"
        'Report: "Q3 revenue grew 12%".'
    )
    assert not result.fits and result.over_by == result.tokens_after - 10 > 0
    assert result.tokens_after == o200k(result.trimmed)
    assert f"{result.over_by} tokens over" in result.reason
    assert "never cuts placeholders, code, quotes, numbers or constraint" in result.reason
    kinds = Counter(r.kind for r in result.removals)
    assert kinds == {"filler": 3, "politeness": 1, "repetition": 2, "wordiness": 1}
    assert sum(r.tokens for r in result.removals) == result.tokens_before - result.tokens_after


def test_code_blocks_and_constraints_are_never_cut() -> None:
    text = (
        "Please just fix the bug.\n```python\nprint( 'hi'  )   \n\n\n\nx = 1  \n```\n"
        "You must not, under any circumstances, just rename the function. Thanks!"
    )
    result = trim(text, 1, "gpt-4o")
    assert "```python\nprint( 'hi'  )   \n\n\n\nx = 1  \n```" in result.trimmed
    assert "You must not, under any circumstances, just rename the function." in result.trimmed
    assert result.trimmed.startswith("Fix the bug.\n") and "Thanks" not in result.trimmed


def test_tokens_are_counted_with_the_models_tokenizer_and_estimates_say_so() -> None:
    text = "Résumé: naïve café owners — 😀 count these tokens, s'il vous plaît."
    gpt4 = trim(text, 1000, "gpt-4")
    assert gpt4.encoding == "cl100k_base" and gpt4.estimate == ""
    assert gpt4.tokens_before == len(ENCODINGS["cl100k_base"].encode(text))
    gpt4o = trim(text, 1000, "gpt-4o-mini")
    assert gpt4o.encoding == "o200k_base" and gpt4o.estimate == ""
    assert gpt4o.tokens_before == o200k(text) != gpt4.tokens_before
    assert trim(text, 1000, "gpt-5").estimate == ""
    assert trim(text, 1000, "grok-4").estimate == "o200k_base, grok's tokenizer is not public"
    assert "llama3.2's tokenizer is not bundled" in trim(text, 1000, "llama3.2").estimate
    assert trim(text, 1000).estimate == "no model given, an estimate"


def test_a_budget_below_one_token_is_refused() -> None:
    with pytest.raises(InputError, match="--max-tokens must be at least 1"):
        trim("Summarize this.", 0)


# --- properties -----------------------------------------------------------------------------

_FILLER = st.sampled_from(
    [
        "Please kindly help me.",
        "Hello!",
        "Thank you so much!",
        "I would really appreciate it if you could be quick.",
        "Could you please just answer?",
        "In order to be clear, make sure to be very brief.",
        "Keep it short.",
        "Keep it short.",
        "   ",
        "\n\n\n",
    ]
)
_PROTECTED_ITEMS = (
    "{audience}",
    "{{ name | upper }}",
    "${lang}",
    "`config.toml`",
    '"please do it just like this"',
    "42",
    "3.14",
    "Never mention prices.",
    "Do not use jargon, please.",
    "Avoid passive voice, kindly.",
    "You must cite 2 sources.",
    "Only answer in English.",
    "```\nplease  just\n\n\n  keep this\n```",
)
_PROTECTED = st.sampled_from(_PROTECTED_ITEMS)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.one_of(_FILLER, _PROTECTED), min_size=1, max_size=14),
    st.lists(st.sampled_from([" ", "\n", " please ", ". "]), min_size=14, max_size=14),
    st.integers(min_value=1, max_value=60),
)
def test_trim_never_removes_protected_content(
    pieces: list[str], glue: list[str], budget: int
) -> None:
    text = "".join(p + g for p, g in zip(pieces, glue, strict=False))
    if not text.strip():
        return
    result = trim(text, budget, "gpt-4o")
    out = result.trimmed
    assert Counter(placeholders(out)) == Counter(placeholders(text))
    assert Counter(_NUMBER.findall(out)) >= Counter(_NUMBER.findall(text))
    for piece in set(pieces):
        if piece in _PROTECTED_ITEMS:
            assert out.count(piece) >= text.count(piece), piece
    assert result.tokens_after == o200k(out) and result.tokens_after <= result.tokens_before
    assert result.fits == (result.tokens_after <= budget)

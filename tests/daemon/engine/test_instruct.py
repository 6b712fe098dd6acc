"""Rewrite with an instruction, offline: what is read, what is done, what is said unmet."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptd.daemon import api
from promptd.daemon.engine import OfflineAgents, OptimizationRequest, guards, instruct, run_pipeline
from promptd.daemon.events import Event, OptimizationCompleted
from promptd.daemon.server.optimizer import cache_key
from tests.quality import checks
from tests.quality.corpus import load

MESSY = (
    "please kindly write some stuff about dogs for {audience}, make it good and DONT make it "
    "boring!!! Thanks in advance."
)
REVIEW = (
    "Classify the sentiment of the review below as positive, negative or neutral.\n"
    'Answer with the label only.\n\nReview: """{review}"""'
)
CODE = (
    "Fix the bug in the code below. Use Python 3.11. Never change the public API.\n\n"
    "Code:\n```python\n{code}\n```"
)


async def _sink(events: Sequence[Event]) -> None:
    return None


def optimize(text: str, instruction: str = "", target: str = "") -> OptimizationCompleted:
    request = OptimizationRequest(text=text, instruct=instruction, target=target)
    return asyncio.run(run_pipeline(request, OfflineAgents(), emit=_sink)).completed


def kinds(instruction: str) -> list[tuple[str, int, str]]:
    return [(d.kind, d.limit, d.fmt) for d in instruct.parse(instruction).directives]


def test_an_instruction_is_read_into_the_directives_the_rules_know() -> None:
    assert kinds("more formal, under 100 words") == [("formal", 0, ""), ("max_words", 99, "")]
    assert kinds("at most 80 words") == [("max_words", 80, "")]
    assert kinds("60 words or fewer; no more than 3 sentences") == [
        ("max_words", 60, ""),
        ("max_sentences", 3, ""),
    ]
    assert kinds("shorter and bullet points") == [("shorter", 0, ""), ("bullets", 0, "")]
    assert kinds("numbered steps") == [("numbered", 0, "")]
    assert kinds("casual") == [("casual", 0, "")]
    assert kinds("answer in JSON") == [("format", 0, "json")]
    assert kinds("output a table") == [("format", 0, "table")]
    assert kinds("answers under 50 words") == [("answer_words", 50, "")]
    assert kinds("answer in bullet points") == [("format", 0, "bullets")]
    parsed = instruct.parse("more engaging, in French, concise")
    assert parsed.unknown == ["more engaging", "in French"]


def test_parts_the_offline_rules_cannot_do_are_listed_with_the_reason() -> None:
    done = optimize(MESSY, "shorter, more engaging")
    assert done.instruct == "shorter, more engaging"
    assert done.instruct_unmet == [
        "more engaging: the offline rules do not know this; use --engine llm"
    ]
    assert "please" not in done.optimized and "kindly" not in done.optimized
    assert "Thanks in advance" not in done.optimized
    assert "DONT make it boring" in done.optimized  # only what the instruction asks


def test_formal_spells_out_and_calms_and_keeps_every_placeholder() -> None:
    text = MESSY + " It's for a school paper and you can't make it too short for the class."
    done = optimize(text, "more formal")
    assert done.changed
    for gone in ("DONT", "!!!", "can't", "It's"):
        assert gone not in done.optimized
    assert "It is for a school paper and you cannot make it" in done.optimized
    assert guards.placeholders(done.optimized) == ["{audience}"]
    assert not done.instruct_unmet


def test_formal_slang_the_guards_keep_is_reported_not_lost() -> None:
    done = optimize("Write a toast for {name}. It's gonna be great.", "more formal")
    assert "gonna" in done.optimized  # spelled out, the content guard would miss the word
    assert done.instruct_unmet == [
        "more formal: still informal: gonna (spelled out it would lose a word the guards keep)"
    ]


def test_casual_and_formal_together_keep_formal_and_say_so() -> None:
    done = optimize("Do not use jargon. It is for {audience}.", "formal, casual")
    assert done.instruct_unmet == ["casual: contradicts the formal tone also asked; kept formal"]


def test_a_prompt_meeting_the_instruction_comes_back_unchanged_with_the_reason() -> None:
    done = optimize(REVIEW, "under 40 words")
    assert not done.changed and done.optimized == REVIEW
    assert done.unchanged_reason == (
        "the prompt already meets the instruction (under 40 words: 19 words)"
    )
    assert done.instruct_unmet == []


def test_a_word_limit_the_rules_cannot_reach_is_unmet_with_the_count() -> None:
    long = " ".join(["Summarize the report for the board and never omit a figure."] * 6)
    done = optimize(long, "under 30 words")
    (unmet,) = done.instruct_unmet
    assert unmet.startswith(f"under 30 words: {len(done.optimized.split())} words, over the")
    assert "never cut for length" in unmet


def test_bullets_make_the_rules_a_list_after_the_task() -> None:
    text = "Write a poem about {topic}. Use rhymes. Keep it under 12 lines. Avoid cliches."
    done = optimize(text, "bullet points")
    assert done.optimized == (
        "Write a poem about {topic}.\n\n- Use rhymes.\n- Keep it under 12 lines.\n- Avoid cliches."
    )
    assert not done.instruct_unmet


def test_an_answer_format_goes_after_a_fence_not_into_it() -> None:
    done = optimize(CODE, "answer in JSON")
    assert done.optimized.startswith(CODE)
    assert done.optimized.endswith("```\n\nAnswer with valid JSON only, with no text around it.")
    assert not checks.check_blocks(CODE, done.optimized)


def test_a_json_document_prompt_gets_no_line_after_it_and_says_why() -> None:
    text = '{"task": "write a haiku", "subject": "{subject}", "lines": 3}'
    done = optimize(text, "answer in YAML")
    assert not done.changed
    assert done.instruct_unmet == [
        "answer in YAML: the prompt is a JSON/YAML document; say yaml inside it yourself"
    ]


def test_the_instruction_and_target_are_part_of_the_cache_key() -> None:
    plain = cache_key(MESSY, "auto", "offline", "")
    assert plain == cache_key(MESSY, "auto", "offline", "", "", "")  # old entries still answer
    formal = cache_key(MESSY, "auto", "offline", "", "more formal")
    assert formal not in (plain, cache_key(MESSY, "auto", "offline", "", "shorter"))
    assert formal == cache_key(MESSY, "auto", "offline", "", "more   formal")
    assert cache_key(MESSY, "auto", "offline", "", "", "claude") not in (plain, formal)


def test_api_params_name_the_targets_on_a_bad_one() -> None:
    with pytest.raises(msgspec.ValidationError, match="use one of grok, gpt, claude, llama"):
        msgspec.json.decode(b'{"text": "x", "target": "bard"}', type=api.OptimizeParams)
    ok = msgspec.json.decode(b'{"text": "x", "target": " Claude "}', type=api.OptimizeParams)
    assert ok.target == "claude"
    blank = msgspec.json.decode(b'{"text": "x", "instruct": "  "}', type=api.OptimizeParams)
    assert blank.instruct is None
    too_long = msgspec.json.encode({"text": "x", "instruct": "a" * 2001})
    with pytest.raises(msgspec.ValidationError, match="keep the instruction under 2000"):
        msgspec.json.decode(too_long, type=api.OptimizeParams)


def test_old_events_read_with_empty_instruction_fields() -> None:
    done = optimize(MESSY, "shorter")
    raw = msgspec.msgpack.encode(done)
    back = msgspec.msgpack.decode(raw, type=OptimizationCompleted)
    assert back.instruct == "shorter"
    old = msgspec.msgpack.encode(
        {k: v for k, v in msgspec.to_builtins(done).items() if not k.startswith(("instr", "targ"))}
    )
    legacy = msgspec.msgpack.decode(old, type=OptimizationCompleted)
    assert (legacy.instruct, legacy.target, legacy.instruct_unmet) == ("", "", [])
    result = api.result_from_event(done)
    assert (result.instruct, result.instruct_unmet) == ("shorter", [])


CORPUS = [c for c in load() if guards.placeholders(c.text)][:40]
PARTS = st.sampled_from(
    [
        "shorter",
        "concise",
        "under 30 words",
        "at most 3 sentences",
        "more formal",
        "casual",
        "bullet points",
        "numbered steps",
        "answer in JSON",
        "output a table",
        "answers under 50 words",
        "more vivid",
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CORPUS), parts=st.lists(PARTS, min_size=1, max_size=3))
def test_any_instruction_keeps_placeholders_constraints_and_content(case, parts) -> None:
    done = optimize(case.text, ", ".join(parts))
    assert not checks.check_placeholders(case.text, done.optimized)
    assert not checks.check_constraints(case.text, done.optimized, case.may_drop)
    assert not checks.check_content(case.text, done.optimized, case.may_drop)
    assert not checks.check_blocks(case.text, done.optimized)
    # every part is done, already met, or listed unmet with a reason
    for item in done.instruct_unmet:
        part, _, reason = item.partition(": ")
        assert part in parts and reason

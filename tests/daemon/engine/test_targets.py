"""Write for a target model, offline: each family's layout, the guards, what is reported."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from promptd.daemon import api
from promptd.daemon.engine import OfflineAgents, OptimizationRequest, run_pipeline, targets
from promptd.daemon.engine.scoring import score
from promptd.daemon.events import Event, OptimizationCompleted

REVIEW = (
    "Classify the sentiment of the review below as positive, negative or neutral.\n"
    'Answer with the label only.\n\nReview: """{review}"""'
)
CODE = (
    "You are an experienced Python developer. Fix the bug in the code below and explain what "
    "was wrong. Use Python 3.11. Never change the public API.\n\nCode:\n```python\n{code}\n"
    "```\n\nAnswer with the corrected code in one fenced block, then a short explanation."
)


async def _sink(events: Sequence[Event]) -> None:
    return None


def optimize(text: str, target: str) -> OptimizationCompleted:
    request = OptimizationRequest(text=text, target=target)
    return asyncio.run(run_pipeline(request, OfflineAgents(), emit=_sink)).completed


def test_one_table_with_a_source_per_family() -> None:
    assert set(targets.CONVENTIONS) == set(api.TARGETS) == set(targets.TARGETS)
    for family, conv in targets.CONVENTIONS.items():
        assert conv.family == family
        if family != "generic":
            assert conv.source.startswith("https://") and conv.advice
            assert conv.source in targets.designer_note(family)
    assert targets.designer_note("generic") == ""


def test_claude_gets_xml_tags_around_the_instructions_and_each_input() -> None:
    done = optimize(REVIEW, "claude")
    assert done.optimized == (
        "<instructions>\nClassify the sentiment of the review below as positive, negative or "
        "neutral.\nAnswer with the label only.\n</instructions>\n\n"
        '<review>\nReview: """{review}"""\n</review>'
    )
    assert done.target == "claude" and done.changed
    (change,) = done.changes
    assert change.description.startswith("For Claude: wrapped the instructions")
    assert "docs.anthropic.com" in change.description


def test_claude_turns_markdown_sections_into_tags_and_labels_into_tag_names() -> None:
    done = optimize(CODE, "claude")
    assert done.optimized.startswith("<instructions>\nYou are an experienced Python developer.")
    assert "<code>\n```python\n{code}\n```\n</code>" in done.optimized
    assert done.optimized.endswith(
        "<output_format>\nAnswer with the corrected code in one fenced block, then a short "
        "explanation.\n</output_format>"
    )


def test_gpt_puts_the_role_first_and_gives_sections_markdown_headings() -> None:
    done = optimize(CODE, "gpt")
    assert done.optimized.startswith("You are an experienced Python developer.\n\n## Instructions")
    assert "## Code\n\n```python\n{code}\n```" in done.optimized
    assert "## Output format\n\nAnswer with the corrected code" in done.optimized
    assert [c.description.split(" (")[0] for c in done.changes] == [
        "For GPT: put the role on its own first line",
        "For GPT: gave the instructions and each input a markdown section",
    ]


def test_gpt_and_grok_turn_xml_sections_into_headings_and_keep_data_tags() -> None:
    text = (
        "<instructions>\nSummarize the email below in three bullet points.\n</instructions>\n\n"
        "<email>\n{email}\n</email>"
    )
    for target in ("gpt", "grok"):
        done = optimize(text, target)
        assert done.optimized.startswith("## Instructions\n\nSummarize the email"), target
        assert done.optimized.endswith("<email>\n{email}\n</email>"), target


def test_llama_gets_numbered_steps_an_output_section_and_is_told_what_only_you_know() -> None:
    done = optimize(CODE, "llama")
    assert "1. Fix the bug in the code below" in done.optimized
    assert "3. Never change the public API." in done.optimized
    assert "## Output format\n\nAnswer with the corrected code" in done.optimized
    assert done.instruct_unmet == [
        "--for llama: add one example of the expected answer (only you know it, so the "
        "offline engine invents none)"
    ]


def test_grok_cuts_filler_and_keeps_the_rules() -> None:
    text = "Please kindly summarize {text} in three bullet points. Never add opinions. Thanks!"
    done = optimize(text, "grok")
    assert "kindly" not in done.optimized and "Thanks" not in done.optimized
    assert "Never add opinions." in done.optimized and "{text}" in done.optimized


def test_generic_changes_nothing_beyond_the_plain_rewrite() -> None:
    assert optimize(CODE, "generic").optimized == optimize(CODE, "").optimized
    assert optimize(REVIEW, "generic").target == ""


def test_an_xml_layout_scores_as_a_sectioned_one() -> None:
    xml = optimize(REVIEW, "claude").optimized
    assert score(xml, "analytical").scores.total >= score(REVIEW, "analytical").scores.total


def test_a_wrong_engine_target_in_the_config_names_the_choices() -> None:
    from promptd.daemon.config import parse
    from promptd.daemon.errors import ConfigError

    assert parse('[engine]\ntarget = "llama"\n').engine.target == "llama"
    try:
        parse('[engine]\ntarget = "bard"\n')
    except ConfigError as exc:
        assert "use one of grok, gpt, claude, llama, generic" in str(exc)
    else:
        raise AssertionError("a wrong [engine] target was accepted")

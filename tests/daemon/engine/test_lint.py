"""lint(), detect_type() and the rule table."""

from __future__ import annotations

import time

import pytest

from promptd.daemon.engine import RULES, detect_type, lint, rule
from promptd.daemon.errors import InputError
from promptd.daemon.values import PROMPT_TYPES, SEVERITIES


def test_rule_table_is_complete_and_stable() -> None:
    codes = [r.code for r in RULES]
    assert len(RULES) >= 20
    assert codes == [f"PD{n:03d}" for n in range(1, len(RULES) + 1)]
    assert len({r.name for r in RULES}) == len(RULES)
    for r in RULES:
        assert r.severity in SEVERITIES
        assert set(r.types) <= set(PROMPT_TYPES)
        assert r.message and r.fix and r.summary
    assert rule("pd003").name == "vague-term"
    assert rule("vague-term").code == "PD003"
    with pytest.raises(KeyError, match=r"docs/rules\.md"):
        rule("PD999")


def test_lint_reports_findings_with_positions_and_a_score() -> None:
    text = "Write a story.\nplease make it good!!!"
    report = lint(text, "creative")
    assert report.prompt_type == "creative" and not report.detected
    by_code = {f.code: f for f in report.findings}
    vague = by_code["PD003"]
    assert vague.span is not None and (vague.span.line, vague.span.col) == (2, 16)
    assert text[vague.span.start : vague.span.end] == "good"
    assert vague.needs_input and vague.rule == "vague-term"
    assert by_code["PD012"].span is not None and by_code["PD012"].span.line == 2
    assert report.worst == "warning"
    assert 0 <= report.score <= 100 and report.score == report.scores.total
    assert len(report.reasons) == 4


def test_better_prompts_score_higher() -> None:
    bad = lint("write some stuff about dogs", "general").score
    good = lint(
        "Write a 300-word article about adopting a rescue dog for first-time owners. "
        "Use short paragraphs and end with three practical tips as a bulleted list.",
        "general",
    ).score
    assert good > bad + 15


@pytest.mark.parametrize(
    ("text", "ptype"),
    [
        ("Write a limerick about a cat who hates Mondays.", "creative"),
        ("Refactor this Python function to remove the global variable: {code}", "code"),
        ("How do I configure nginx as a reverse proxy with TLS on Ubuntu?", "technical"),
        (
            "Compare the pros and cons of remote and office work using the survey data.",
            "analytical",
        ),
        ("What should I cook tonight with rice, eggs and spinach?", "general"),
    ],
)
def test_detect_type(text: str, ptype: str) -> None:
    found, confidence = detect_type(text)
    assert found == ptype
    assert 0 < confidence <= 1


def test_detect_type_defaults_to_general_with_low_confidence() -> None:
    assert detect_type("Hello there.") == ("general", 0.5)


def test_lint_refuses_unusable_input() -> None:
    with pytest.raises(InputError, match="empty"):
        lint("  ")
    with pytest.raises(InputError, match="unknown prompt type"):
        lint("Write a poem.", "poem")


def test_lint_is_fast() -> None:
    text = ("Please write a detailed but brief report about some things, etc. " * 20).strip()
    lint(text)  # warm the regex caches
    start = time.perf_counter()
    for i in range(20):
        lint(text + f" Variant {i}.")
    # Generous bound (CI machines vary); bench/engine.py reports the real figures.
    assert (time.perf_counter() - start) / 20 < 0.05

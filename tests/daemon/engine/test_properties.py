"""Property tests: placeholders survive any rewrite; any input gives a result or a clear
error, never a crash."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptd.daemon.config import EngineConfig
from promptd.daemon.engine import OfflineAgents, OptimizationRequest, guards, lint, run_pipeline
from promptd.daemon.errors import InputError
from promptd.daemon.events import Event, OptimizationCompleted, OptimizationFailed

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True)
PLACEHOLDER = st.one_of(
    NAMES.map(lambda n: "{" + n + "}"),
    NAMES.map(lambda n: "{{ " + n + " }}"),
    NAMES.map(lambda n: "${" + n + "}"),
    NAMES.map(lambda n: "{$" + n.upper() + "}"),
    NAMES.map(lambda n: "%(" + n + ")s"),
    NAMES.map(lambda n: "<" + n.upper() + ">"),
    NAMES.map(lambda n: "{" + n + "!r:>10}"),
    NAMES.map(lambda n: "${" + n + ":None (solo episode)}"),
    NAMES.map(lambda n: "{{ " + n + " | upper }}"),
    NAMES.map(lambda n: "{% if " + n + " %}"),
    NAMES.map(lambda n: "<<" + n + ">>"),
    NAMES.map(lambda n: "[[" + n + "]]"),
)
VOCABULARY = (
    "please write some stuff about the code and explain it DONT make it boring !!! "
    "summarize this email for a busy manager in at most 3 bullet points . classify "
    "fix the bug use python keep it short never use jargon : , you are an expert "
    "Paris JSON `run()` https://example.com 42 words \n"
)
WORDS = st.sampled_from(VOCABULARY.split(" "))
PROMPT = st.lists(st.one_of(WORDS, WORDS, WORDS, PLACEHOLDER), min_size=1, max_size=40).map(
    " ".join
)


async def _optimize(text: str, config: EngineConfig | None = None) -> list[Event]:
    events: list[Event] = []

    async def emit(batch: Sequence[Event]) -> None:
        events.extend(batch)

    await run_pipeline(OptimizationRequest(text=text), OfflineAgents(), emit=emit, config=config)
    return events


def optimize(text: str, config: EngineConfig | None = None) -> OptimizationCompleted | InputError:
    try:
        events = asyncio.run(_optimize(text, config))
    except InputError as exc:
        return exc
    done = events[-1]
    assert isinstance(done, OptimizationCompleted)
    return done


@SETTINGS
@given(PROMPT)
def test_placeholders_survive_any_rewrite(text: str) -> None:
    result = optimize(text)
    if isinstance(result, InputError):
        assert not text.strip()
        return
    # a multiset: every placeholder, byte for byte, as many times as it went in
    assert guards.placeholder_counts(result.optimized) == guards.placeholder_counts(text)
    assert result.placeholders == guards.placeholders(text)
    assert guards.check(text, result.optimized) == []
    assert result.score_after is not None and result.score_before is not None
    assert result.score_after.total >= result.score_before.total


@SETTINGS
@given(PROMPT)
def test_rewrite_is_deterministic(text: str) -> None:
    first, second = optimize(text), optimize(text)
    if isinstance(first, OptimizationCompleted):
        assert isinstance(second, OptimizationCompleted)
        assert first.optimized == second.optimized and first.changes == second.changes


@SETTINGS
@given(st.text(max_size=400))
def test_any_unicode_gives_a_result_or_a_clear_error(text: str) -> None:
    result = optimize(text)
    if isinstance(result, InputError):
        assert str(result) and (
            "empty" in str(result) or "binary" in str(result) or "NUL" in str(result)
        )
    else:
        assert guards.check(text, result.optimized) == []
    try:
        report = lint(text)
    except InputError:
        return
    assert 0 <= report.score <= 100


@SETTINGS
@given(st.binary(max_size=300))
def test_binary_looking_input_gives_a_result_or_a_clear_error(data: bytes) -> None:
    text = data.decode("latin-1")
    result = optimize(text)
    if isinstance(result, InputError):
        assert "give a text prompt" in str(result) or "empty" in str(result)


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=1, max_value=50))
def test_huge_input_is_refused_with_the_limit_named(extra: int) -> None:
    cfg = EngineConfig(max_input_chars=2_000)
    events: list[Event] = []

    async def emit(batch: Sequence[Event]) -> None:
        events.extend(batch)

    text = "word " * 400 + "x" * extra
    try:
        asyncio.run(
            run_pipeline(OptimizationRequest(text=text), OfflineAgents(), emit=emit, config=cfg)
        )
    except InputError as exc:
        assert "more than the limit of 2,000" in str(exc)
    else:
        raise AssertionError("no InputError")
    assert isinstance(events[-1], OptimizationFailed) and events[-1].error == "input_too_large"


def test_large_input_under_the_cap_is_optimized() -> None:
    text = ("Summarize the report {report} for the board. Keep it short. " * 300).strip()
    result = optimize(text)
    assert isinstance(result, OptimizationCompleted)
    assert guards.check(text, result.optimized) == []


@SETTINGS
@given(PROMPT, PROMPT)
def test_placeholder_guard_flags_exactly_the_changed_counts(original: str, rewritten: str) -> None:
    violation = guards.check_placeholders(original, rewritten)
    before, after = guards.placeholder_counts(original), guards.placeholder_counts(rewritten)
    assert (violation is None) == (before == after)  # a multiset: every use counts
    if violation is not None:
        changed = {p for p in before | after if before[p] != after[p]}
        assert set(violation.items) == changed

"""Grounded rewrites: the LLM Designer gets the author's kept rewrites as examples and library
passages as context, within a token budget; the result says which; retrieval never fails a run.

The LLM runs against a loopback chat-completions server (no key, no network); the daemon
runs in this event loop so the test can break its library on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from promptd.daemon.events import OptimizationCompleted
from promptd.daemon.library import grounding, types
from promptd.daemon.library.grounding import Material, render, select
from tests.daemon.inbox.harness import events, running_daemon, until
from tests.daemon.library.test_service import _Call, indexed, library, optimize
from tests.daemon.providers.loopback import LoopbackServer

# what is retrieved is under test here, not how fast: a loaded machine gets the time it needs
PATIENT = "retrieve_timeout_ms = 10000\n"
FIX = "fix the bug in this python code {code} and explain what was wrong"
SIMILAR = "please fix the bug in this python code {code} and explain what was wrong with it"
STYLE = "Python bug fixes: return the corrected code in one fenced block, then explain the bug."


def _words(text: str) -> int:
    return len(text.split())


def example(ref: str, sim: int, *, kept: bool = False, size: int = 5) -> Material:
    return Material(
        ref=ref,
        kind="example",
        source="history",
        similarity=sim,
        text="w " * size,
        result="r " * size,
        kept=kept,
    )


def passage(ref: str, sim: int, size: int = 5) -> Material:
    return Material(ref=ref, kind="passage", source="library", similarity=sim, text="p " * size)


def test_kept_examples_rank_first_then_passages_within_the_budget() -> None:
    chosen = select(
        [
            passage("file:a", 95),
            example("opt:plain", 90),
            example("opt:kept", 60, kept=True),
            example("opt:big", 99, size=500),  # does not fit: skipped, smaller ones still fit
            example("opt:kept", 60, kept=True),  # the same ref once
        ],
        budget_tokens=80,
        count=_words,
    )
    assert [m.ref for m in chosen] == ["opt:kept", "opt:plain", "file:a"]
    assert sum(m.tokens for m in chosen) <= 80 and all(m.tokens > 0 for m in chosen)
    text = render(chosen)
    assert text.index("<examples>") < text.index("<library>")
    assert '<example similarity="60" kept>' in text and 'ref="file:a"' in text
    used = grounding.grounding_of(chosen)
    assert [(g.ref, g.kind, g.source, g.kept) for g in used][:1] == [
        ("opt:kept", "example", "history", True)
    ]


@given(
    st.lists(
        st.tuples(st.booleans(), st.booleans(), st.integers(0, 100), st.integers(1, 80)),
        max_size=12,
    ),
    st.integers(0, 400),
)
def test_the_budget_and_the_order_always_hold(
    items: list[tuple[bool, bool, int, int]], budget: int
) -> None:
    candidates = [
        example(f"opt:{i}", sim, kept=kept, size=size) if is_ex else passage(f"file:{i}", sim, size)
        for i, (is_ex, kept, sim, size) in enumerate(items)
    ]
    chosen = select(candidates, budget, count=_words)
    assert sum(m.tokens for m in chosen) <= budget
    kinds = [m.kind for m in chosen]
    assert kinds == sorted(kinds, key=lambda k: k != "example")  # examples first
    assert len([k for k in kinds if k == "example"]) <= grounding.MAX_EXAMPLES
    assert len([k for k in kinds if k == "passage"]) <= grounding.MAX_PASSAGES
    examples = [m for m in chosen if m.kind == "example"]
    assert [m.kept for m in examples] == sorted((m.kept for m in examples), reverse=True)


def _config(server: LoopbackServer, folder: Path) -> str:
    return (
        f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\nmodel = "grok-4.3"\n'
        f"[inbox]\nstable_s = 0.2\n[backup]\nenabled = false\n"
        f"[library]\npaths = [{json.dumps(str(folder))}]\n{PATIENT}"
    )


def _designer_user(server: LoopbackServer) -> list[str]:
    return [
        b["messages"][1]["content"]
        for b in server.bodies
        if b["messages"][0]["content"].startswith("You are the Designer")
    ]


async def test_the_designer_gets_the_kept_rewrite_and_the_library_file(
    promptd_home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "python-fixes.prompt").write_text(STYLE + " fix the bug python code explain\n")
    with LoopbackServer(echo=True) as server:
        async with running_daemon(promptd_home, _config(server, folder)) as daemon:
            first = await optimize(daemon, FIX)
            assert first.engine == "llm"  # the file may already ground it; no example yet
            assert all(g.kind == "passage" for g in first.grounding)
            service = library(daemon)
            await service.keep(types.VerdictParams(id=first.id), _Call())
            await indexed(daemon, 1)
            await until(lambda: service.index.state.kept == 1, 30, "the verdict to be folded")

            second = await optimize(daemon, SIMILAR)
            assert second.engine == "llm" and not second.degraded, second.degraded_reason
            assert second.grounding_note == ""
            used = [(g.ref, g.kind, g.source, g.kept) for g in second.grounding]
            assert used[0] == (f"opt:{first.id}", "example", "history", True)
            assert (
                f"file:{folder.resolve() / 'python-fixes.prompt'}",
                "passage",
                "library",
                False,
            ) in used
            assert sum(g.tokens for g in second.grounding) <= 1500
            # the Designer really read them: the kept rewrite and the file's text
            asked = _designer_user(server)[-1]
            assert "<examples>" in asked and first.optimized in asked and STYLE in asked
            rel = next(r for r in second.related if r.ref == f"opt:{first.id}")
            assert rel.used == "example" and rel.kept
            stored = [e for e in events(daemon, OptimizationCompleted) if e.opt_id == second.id]
            assert stored[0].grounding == second.grounding  # `promptd show` reads the log


async def test_a_broken_library_gives_no_grounding_and_the_reason_never_a_failure(
    promptd_home: Path, tmp_path: Path
) -> None:
    with LoopbackServer(echo=True) as server:
        async with running_daemon(promptd_home, _config(server, tmp_path)) as daemon:
            await optimize(daemon, FIX)
            await indexed(daemon, 1)
            service = library(daemon)

            def broken(*_: Any, **__: Any) -> Any:
                raise RuntimeError("index segment unreadable")

            service.index.search = broken  # type: ignore[method-assign]
            result = await optimize(daemon, SIMILAR)
            assert result.engine == "llm" and not result.degraded and result.optimized
            assert result.grounding == [] and result.related == []
            assert "did not answer (RuntimeError)" in result.grounding_note
            assert "<examples>" not in _designer_user(server)[-1]


async def test_on_the_offline_engine_a_similar_past_optimization_is_a_finding(
    promptd_home: Path,
) -> None:
    async with running_daemon(promptd_home, f"[library]\n{PATIENT}") as daemon:
        first = await optimize(daemon, FIX)
        await indexed(daemon, 1)
        await library(daemon).keep(types.VerdictParams(id=first.id), _Call())
        await until(lambda: library(daemon).index.state.kept == 1, 30, "the verdict")
        second = await optimize(daemon, SIMILAR)
        assert second.engine == "offline" and second.grounding == []
        similar = [f for f in second.findings if f.code == "PD023"]
        assert len(similar) == 1 and similar[0].rule == "similar-prompt"
        assert similar[0].severity == "info" and similar[0].span is None
        at = second.related[0].at
        assert similar[0].message.startswith(
            f"You optimized a similar prompt on {at}: score {first.score_after}, kept, "
        )
        assert f"see {first.id}" in similar[0].message
        assert all(f.code != "PD023" for f in second.left)  # not a defect of the rewrite

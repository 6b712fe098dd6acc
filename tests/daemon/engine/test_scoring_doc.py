"""docs/scoring.md shows the scores the engine computes: every example there is run here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promptd.daemon.engine.scoring import score

from .offline_run import optimize

DOC = Path(__file__).parents[3] / "docs" / "scoring.md"
EXAMPLE = re.compile(
    r"^Score: (?P<before>\d+)(?: → (?P<after>\d+))? \((?P<how>optimized|unchanged|scored), "
    r"(?P<type>\w+)\)\n\n```text\n(?P<text>.*?)\n```",
    re.M | re.S,
)
EXAMPLES = list(EXAMPLE.finditer(DOC.read_text(encoding="utf-8")))


def test_the_doc_has_its_examples() -> None:
    hows = [m.group("how") for m in EXAMPLES]
    assert len(EXAMPLES) >= 8
    assert {"optimized", "unchanged", "scored"} <= set(hows)


@pytest.mark.parametrize("m", [pytest.param(m, id=m.group("text")[:30]) for m in EXAMPLES])
def test_every_figure_in_the_doc_is_what_the_engine_computes(m: re.Match[str]) -> None:
    text, ptype, how = m.group("text"), m.group("type"), m.group("how")
    if how == "scored":
        assert score(text, ptype).scores.total == int(m.group("before"))
        return
    r = optimize(text, ptype)
    assert (r.score_before, r.score_after) == (int(m.group("before")), int(m.group("after")))
    assert r.changed == (how == "optimized")


def test_boilerplate_rewrites_in_the_doc_score_below_their_originals() -> None:
    by_text = {m.group("text"): int(m.group("before")) for m in EXAMPLES}
    scored = [m for m in EXAMPLES if m.group("how") == "scored"]
    # each "scored" example is a worse rewrite of an earlier example: it must score lower
    image, swot, dressed = (m.group("text") for m in scored[:3])
    assert by_text[image] < by_text[next(t for t in by_text if t.startswith("Restore this"))]
    assert by_text[swot] < by_text[next(t for t in by_text if t.startswith("do a SWOT"))]
    assert by_text[dressed] < by_text[next(t for t in by_text if t.startswith("Classify"))]

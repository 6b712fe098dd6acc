"""Issue 14 item 5: what ``optimize`` lists as changed and as left for the author matches the
lint of the result, for every prompt of the golden corpus (tests/data) and of the quality
corpus (tests/quality)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from promptd.daemon.engine import lint

from .offline_run import optimize

GOLDEN = Path(__file__).parents[2] / "data" / "corpus.toml"
# Rules whose change answers every finding of the code (filler, shouting and inputs are
# answered one by one: some may stay, e.g. in the text a prompt works on).
WHOLE_FIXES = {"PD002", "PD006", "PD019"}


def _golden() -> list[tuple[str, str, str]]:
    raw: dict[str, Any] = msgspec.toml.decode(GOLDEN.read_bytes())
    return [(e["id"], e["type"], e["text"]) for e in raw["prompt"]]


def _quality() -> list[tuple[str, str, str]]:
    try:
        from tests.quality.corpus import load
    except ImportError:  # the quality corpus is not in this tree
        return []
    return [(c.id, "auto", c.text) for c in load()]


CASES = [pytest.param(t, p, id=i) for i, p, t in _golden() + _quality()]


def test_the_corpora_are_there() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize(("text", "prompt_type"), CASES)
def test_summary_matches_the_lint_of_the_result(text: str, prompt_type: str) -> None:
    r = optimize(text, prompt_type)
    after = lint(r.optimized, r.prompt_type).findings
    # left for the author: exactly what lint says of the result
    assert [(f.code, f.message) for f in r.left] == [(f.code, f.message) for f in after]
    before = {f.code for f in r.findings}
    claimed = {code for change in r.changes for code in change.findings}
    left = {f.code for f in r.left}
    # a change answers a finding the original had
    assert claimed <= before, claimed - before
    # nothing vanishes silently: each finding is answered by a change or still left
    assert before <= claimed | left, before - claimed - left
    # a rule that fixes all of its findings leaves none of them behind
    assert not (claimed & WHOLE_FIXES & left), claimed & WHOLE_FIXES & left
    # an input the summary says it delimited is not also listed as undelimited
    for change in r.changes:
        if "PD017" in change.findings:
            for f in r.left:
                if f.code == "PD017":
                    assert f.message.split(" ")[2] not in change.description
    # a negative-only clause the summary says it rewrote is not also listed as left
    for change in r.changes:
        if change.findings == ["PD005"]:
            for quoted in re.findall(r'"([^"]+)"', change.description):
                assert not any(quoted in f.message for f in r.left if f.code == "PD005")
    if not r.changed:
        assert [(f.code, f.message) for f in r.left] == [(f.code, f.message) for f in r.findings]

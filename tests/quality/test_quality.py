"""Every quality-corpus prompt through the offline engine: the rewrite does no harm.

One test per prompt (``tests/quality/corpus/*.toml``), through the pipeline the daemon runs
(``run_pipeline`` with ``OfflineAgents``: the four agents, the guards and the Evaluator). Each
asserts the hard targets of issue 14: no content lost, every placeholder multiset kept, every
shape (JSON, YAML, code, template, numbered spec) kept, an already-good prompt unchanged, and
the case's own ``must_keep`` / ``must_not_add`` honoured. The checks are the harness's own
(:mod:`tests.quality.checks`), not the engine's guards.

A failure names the prompt, each broken expectation, the engine's listed changes and the
diff. ``bench/quality.py`` prints the same judgement as figures and before/after pairs.
"""

from __future__ import annotations

from functools import cache

import pytest

from tests.quality.corpus import Case, load
from tests.quality.run import Outcome, optimize_all

CASES = load()


@cache
def outcomes() -> dict[str, Outcome]:
    """The whole corpus, optimized once for all the tests of this module (about 2 s)."""
    return {o.case.id: o for o in optimize_all(CASES)}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rewrite_does_no_harm(case: Case) -> None:
    outcome = outcomes()[case.id]
    if outcome.problems:
        pytest.fail(outcome.report(), pytrace=False)

"""Measure ``optimize --instruct`` and ``--for`` (offline) over the quality corpus.

    .venv/bin/python bench/instruct.py [--json]

Runs every corpus prompt (tests/quality/corpus/) through the daemon's offline pipeline once
per instruction and per target model below, and judges each result with the do-no-harm checks
of tests/quality/ (written apart from the engine's guards). Prints, per instruction/target:

* changed: the share of prompts rewritten;
* met: the share with nothing listed in ``instruct_unmet`` (what was asked was done, or
  already true);
* content lost (target 0%), placeholders kept (target 100%), blocks and shapes kept (target
  100%);
* words: the mean word count before -> after;
* ms: the mean time per prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from promptd.daemon.engine import OfflineAgents, OptimizationRequest, run_pipeline  # noqa: E402
from promptd.daemon.events import Event  # noqa: E402
from tests.quality import checks  # noqa: E402
from tests.quality.corpus import Case, load  # noqa: E402

INSTRUCTIONS = ("shorter", "under 40 words", "more formal", "bullet points", "answer in JSON")
TARGETS = ("claude", "gpt", "llama", "grok")


async def _sink(events: Sequence[Event]) -> None:
    return None


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 100.0


async def measure(cases: list[Case], instruct: str, target: str) -> dict[str, Any]:
    agents = OfflineAgents()
    changed = met = lost = ph_kept = shape_kept = 0
    before: list[int] = []
    after: list[int] = []
    t0 = time.perf_counter()
    for case in cases:
        request = OptimizationRequest(text=case.text, instruct=instruct, target=target)
        done = (await run_pipeline(request, agents, emit=_sink)).completed
        out = done.optimized
        changed += done.changed
        met += not done.instruct_unmet
        drop = case.may_drop
        lost += bool(
            checks.check_constraints(case.text, out, drop)
            or checks.check_content(case.text, out, drop)
        )
        ph_kept += not checks.check_placeholders(case.text, out)
        shape_kept += not checks.check_blocks(case.text, out)
        before.append(len(case.text.split()))
        after.append(len(out.split()))
    n = len(cases)
    return {
        "instruct": instruct,
        "target": target,
        "prompts": n,
        "changed_pct": _pct(changed, n),
        "met_pct": _pct(met, n),
        "content_lost_pct": _pct(lost, n),
        "placeholders_kept_pct": _pct(ph_kept, n),
        "shapes_kept_pct": _pct(shape_kept, n),
        "words_before": round(statistics.mean(before), 1),
        "words_after": round(statistics.mean(after), 1),
        "ms_per_prompt": round(1000 * (time.perf_counter() - t0) / n, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    cases = load()
    runs = [(i, "") for i in INSTRUCTIONS] + [("", t) for t in TARGETS]
    rows = [asyncio.run(measure(cases, i, t)) for i, t in runs]
    if args.json:
        print(json.dumps({"rows": rows}, indent=2))
        return
    head = (
        f"{'run':<26}{'changed':>8}{'met':>7}{'lost':>6}{'ph':>7}{'shape':>7}{'words':>14}{'ms':>7}"
    )
    print(f"{len(cases)} corpus prompts, offline engine")
    print(head)
    for r in rows:
        name = f"--instruct {r['instruct']!r}" if r["instruct"] else f"--for {r['target']}"
        words = f"{r['words_before']:.0f} -> {r['words_after']:.0f}"
        print(
            f"{name:<26}{r['changed_pct']:>7.1f}%{r['met_pct']:>6.1f}%{r['content_lost_pct']:>5.1f}%"
            f"{r['placeholders_kept_pct']:>6.1f}%{r['shapes_kept_pct']:>6.1f}%{words:>14}"
            f"{r['ms_per_prompt']:>7.1f}"
        )


if __name__ == "__main__":
    main()

"""Measure the offline engine's rewrites over the quality corpus (tests/quality/corpus/).

    .venv/bin/python bench/quality.py [--json] [--sample N] [--seed S] [--style NAME] [--failing]

Runs every corpus prompt through the same pipeline the daemon uses (offline agents, guards,
Evaluator) and judges each rewrite with the do-no-harm checks of tests/quality/ (written apart
from the engine's own guards). Prints:

* share changed; share with any content lost (target 0); placeholder multisets kept (target
  100%); structure kept (target 100%); already-good prompts left unchanged (target 100%);
  every case's expectations met (target 100%); mean score gain of the changed prompts;
* problems by check, and the ids of the failing cases;
* the time taken (target: the whole corpus under 30 s);
* a sample of before/after pairs, with the engine's listed changes, for a person to read.

``--json`` prints one JSON document instead (the figures, the failing ids and their problems).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.quality.checks import fields  # noqa: E402
from tests.quality.corpus import Case, load  # noqa: E402
from tests.quality.run import Outcome, optimize_all  # noqa: E402

STRUCTURE_CHECKS = ("block", "structure")


def _share(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 100.0


def figures(outcomes: list[Outcome], seconds: float) -> dict[str, Any]:
    n = len(outcomes)
    changed = [o for o in outcomes if o.changed]
    with_fields = [o for o in outcomes if fields(o.case.text)]
    shaped = [o for o in outcomes if _has_shape(o.case)]
    good = [o for o in outcomes if o.case.unchanged]
    gains = [o.score_after - o.score_before for o in changed]
    by_check = Counter(p.check for o in outcomes for p in o.problems)
    failing = [o for o in outcomes if o.problems]
    return {
        "prompts": n,
        "changed_pct": round(_share(len(changed), n), 1),
        "content_lost_pct": round(_share(sum(o.content_lost for o in outcomes), n), 1),
        "placeholders_kept_pct": round(
            _share(sum(not o.of("placeholders") for o in with_fields), len(with_fields)), 1
        ),
        "prompts_with_placeholders": len(with_fields),
        "structure_kept_pct": round(
            _share(sum(not o.of(*STRUCTURE_CHECKS) for o in shaped), len(shaped)), 1
        ),
        "prompts_with_structure": len(shaped),
        "good_unchanged_pct": round(_share(sum(not o.changed for o in good), len(good)), 1),
        "good_prompts": len(good),
        "expectations_met_pct": round(_share(n - len(failing), n), 1),
        "mean_gain_changed": round(statistics.fmean(gains), 1) if gains else 0.0,
        # Issue 14 item 3: a rewrite a careful reader finds worse must not score higher.
        "harmful_scored_higher": sum(
            1 for o in changed if o.problems and o.score_after > o.score_before
        ),
        "harmful_changed": sum(1 for o in changed if o.problems),
        "seconds": round(seconds, 2),
        "ms_per_prompt": round(1000 * seconds / n, 2) if n else 0.0,
        "problems_by_check": dict(by_check.most_common()),
        "failing": {o.case.id: [str(p) for p in o.problems] for o in failing},
    }


def _has_shape(case: Case) -> bool:
    from tests.quality.checks import fences, has_json

    return bool(case.structure) or bool(fences(case.text)) or has_json(case.text)


def print_report(f: dict[str, Any], outcomes: list[Outcome], sample: int, seed: int) -> None:
    print(f"quality corpus: {f['prompts']} prompts through the offline engine (the daemon's path)")
    rows = [
        ("changed", f"{f['changed_pct']:.1f}%", ""),
        ("any content lost", f"{f['content_lost_pct']:.1f}%", "target 0%"),
        (
            "placeholder multisets kept",
            f"{f['placeholders_kept_pct']:.1f}% of {f['prompts_with_placeholders']}",
            "target 100%",
        ),
        (
            "structure kept",
            f"{f['structure_kept_pct']:.1f}% of {f['prompts_with_structure']}",
            "target 100%",
        ),
        (
            "already-good left unchanged",
            f"{f['good_unchanged_pct']:.1f}% of {f['good_prompts']}",
            "target 100%",
        ),
        ("every expectation met", f"{f['expectations_met_pct']:.1f}%", "target 100%"),
        ("mean score gain (changed)", f"{f['mean_gain_changed']:+.1f}", ""),
        (
            "harmful rewrites scored higher",
            f"{f['harmful_scored_higher']} of {f['harmful_changed']}",
            "target 0",
        ),
        ("time", f"{f['seconds']:.2f} s ({f['ms_per_prompt']:.1f} ms/prompt)", "target < 30 s"),
    ]
    for name, value, target in rows:
        print(f"  {name:<30} {value:<24} {target}")
    if f["problems_by_check"]:
        print(
            "problems by check: " + ", ".join(f"{k} {v}" for k, v in f["problems_by_check"].items())
        )
    if f["failing"]:
        print(f"failing ({len(f['failing'])}): " + " ".join(f["failing"]))
    print_sample(outcomes, sample, seed)


def print_sample(outcomes: list[Outcome], n: int, seed: int) -> None:
    """``n`` pairs, most of them changed, spread over the styles; the same for the same seed."""
    if n <= 0:
        return
    rng = random.Random(seed)
    changed = [o for o in outcomes if o.changed]
    kept = [o for o in outcomes if not o.changed]
    rng.shuffle(changed)
    rng.shuffle(kept)
    picked = _spread(changed, n - n // 4) + _spread(kept, n // 4)
    picked = sorted(picked[:n], key=lambda o: o.case.id)
    print(f"\n=== a sample of {len(picked)} before/after pairs (seed {seed}) ===")
    for o in picked:
        verdict = "OK" if not o.problems else f"{len(o.problems)} PROBLEM(S)"
        print(
            f"\n--- {o.case.id} [{o.case.style}] score {o.score_before} -> {o.score_after}, "
            f"{'changed' if o.changed else 'unchanged'}, {verdict}"
        )
        print(textwrap.indent(o.case.text, "  before | ", lambda _line: True))
        if o.changed:
            print(textwrap.indent(o.optimized, "  after  | ", lambda _line: True))
            for c in o.changes:
                print(f"  change : {c}")
        else:
            print(f"  why    : {o.unchanged_reason}")
        for p in o.problems:
            print(f"  PROBLEM: {p}")


def _spread(outcomes: list[Outcome], n: int) -> list[Outcome]:
    """Round-robin over styles so one style does not fill the sample."""
    by_style: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_style.setdefault(o.case.style, []).append(o)
    out: list[Outcome] = []
    while len(out) < n and any(by_style.values()):
        for style in sorted(by_style):
            if by_style[style] and len(out) < n:
                out.append(by_style[style].pop())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--sample", type=int, default=20, help="before/after pairs to print")
    parser.add_argument("--seed", type=int, default=14, help="which pairs the sample shows")
    parser.add_argument("--style", help="only the cases of one corpus file (e.g. image)")
    parser.add_argument("--failing", action="store_true", help="print every failing case in full")
    args = parser.parse_args()
    cases = load()
    if args.style:
        cases = [c for c in cases if c.style == args.style]
        if not cases:
            print(f"no corpus file {args.style}.toml in tests/quality/corpus/", file=sys.stderr)
            return 2
    optimize_all(cases[:3])  # warm up imports and regex compilation
    t0 = time.perf_counter()
    outcomes = optimize_all(cases)
    seconds = time.perf_counter() - t0
    f = figures(outcomes, seconds)
    if args.json:
        print(json.dumps(f, indent=2))
        return 0
    print_report(f, outcomes, args.sample, args.seed)
    if args.failing:
        print("\n=== every failing case ===")
        for o in outcomes:
            if o.problems:
                print("\n" + o.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())

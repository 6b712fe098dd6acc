"""Benchmark the prompt tools' pure functions; prints figures (not a timed test).

* ``templatize`` on a short prompt and on a 20 KB prompt with a pasted document (p50/p99)
* ``trim`` on the same, with a budget it cannot reach (every pass runs: the worst case)
* the tokenizer's first load (o200k_base) and tokens/s afterwards

Run: ``.venv/bin/python bench/tools.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# This file is bench/tools.py: keep its folder off the path so `daemon` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from promptd.daemon.tools import tokens  # noqa: E402
from promptd.daemon.tools.templatize import templatize  # noqa: E402
from promptd.daemon.tools.trim import trim  # noqa: E402

SHORT = (
    "Hello! Could you please write a follow-up email to our customer Maria Lopez about order "
    "#4411, shipped on 2024-05-03? Keep it under 150 words and link https://acme.example/t. "
    "Never mention prices. Thanks in advance!"
)
DOC = "The quarterly report shows revenue of $2,400 in March 2025 for Acme Corp. " * 260
LONG = SHORT + "\n\nReport:\n```\n" + DOC + "\n```\n" + "Keep it short. " * 40


def timed(fn: Callable[[], object], n: int) -> tuple[float, float]:
    runs = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    runs.sort()
    return statistics.median(runs), runs[min(len(runs) - 1, int(len(runs) * 0.99))]


def main() -> None:
    t = time.perf_counter()
    tokens.count("warm up", "o200k_base")
    print(f"tokenizer first load (o200k_base): {(time.perf_counter() - t) * 1000:.0f} ms")
    t = time.perf_counter()
    n = tokens.count(LONG, "o200k_base")
    print(f"tokens/s: {n / (time.perf_counter() - t):,.0f} ({n} tokens, {len(LONG):,} chars)")
    for label, text, runs in (("short", SHORT, 200), ("20 KB", LONG, 20)):
        p50, p99 = timed(lambda text=text: templatize(text), runs)
        print(f"templatize {label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        p50, p99 = timed(lambda text=text: trim(text, 1, "gpt-4o"), runs)
        print(f"trim {label} (budget 1, every pass): p50 {p50:.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()

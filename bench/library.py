"""Benchmark the library index: search latency, memory, and rebuilding from the log.

    .venv/bin/python bench/library.py [--prompts 50000] [--queries 2000]

Writes N optimizations (varied prompts made from templates and a vocabulary) to a real event
log in a temporary home, rebuilds the library index from it as ``promptd rebuild`` does
(timed: target under 30 s for 50,000), then times searches of similar prompts the way
``promptd search`` and the retriever do (target p99 under 20 ms on 50,000). Prints the index
size on disk and the process's resident memory before and after the index is opened and
searched.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from promptd.daemon.events import OptimizationCompleted  # noqa: E402
from promptd.daemon.library import feed  # noqa: E402
from promptd.daemon.library.index import LibraryIndex  # noqa: E402
from promptd.daemon.projections import open_log  # noqa: E402
from promptd.daemon.values import Scores  # noqa: E402

_VERBS = "write summarize translate review explain classify extract rewrite draft plan"
_THINGS = (
    "a blog post, a product description, an email to a customer, the meeting notes, a bug "
    "report, the release notes, a SQL query, a Python function, a cover letter, a poem, a "
    "marketing plan, a SWOT analysis, a user story, a test plan, an API reference"
)
_TOPICS = (
    "dogs cats climate finance onboarding security pricing hiring travel cooking football "
    "databases kubernetes privacy accessibility sustainability education healthcare retail"
)
VERBS, THINGS, TOPICS = _VERBS.split(), _THINGS.split(", "), _TOPICS.split()
EXTRAS = [
    "for {audience}",
    "in under {n} words",
    "as a numbered list",
    "with a friendly tone",
    "and never use jargon",
    "in JSON with keys title and body",
    "using the notes below: {notes}",
    "for a ${lang} speaking reader",
]


def prompt(rng: random.Random) -> str:
    parts = [rng.choice(VERBS), rng.choice(THINGS), "about", rng.choice(TOPICS)]
    parts += rng.sample(EXTRAS, rng.randint(1, 3))
    return " ".join(parts).replace("{n}", str(rng.choice([50, 100, 200, 500])))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(7)
    scores = Scores(clarity=70, specificity=70, structure=70, completeness=70, total=70)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        log = open_log(root / "events")
        started = time.perf_counter()
        batch: list[OptimizationCompleted] = []
        for i in range(args.prompts):
            text = prompt(rng)
            batch.append(
                OptimizationCompleted(
                    opt_id=f"{i:016x}",
                    prompt_hash=f"{i:064x}",
                    original=text,
                    optimized=f"{text}\n\n## Output format\nPlain text.",
                    prompt_type="general",
                    score_after=scores,
                )
            )
            if len(batch) == 1000:
                log.append(batch)
                batch = []
        if batch:
            log.append(batch)
        took = time.perf_counter() - started
        print(f"log: {args.prompts:,} optimizations written in {took:.1f} s")

        rss_before = rss_mib()
        started = time.perf_counter()
        counts = feed.rebuild(root / "library", log.store_id(), log.read(), [], 256 * 1024)
        took = time.perf_counter() - started
        log.close()
        print(
            f"rebuild: {counts['optimization']:,} optimizations indexed in {took:.2f} s "
            f"(target < 30 s): {'met' if took < 30 else 'NOT met'}"
        )

        index = LibraryIndex(root / "library")
        index.open(log_store_id(root))
        queries = [prompt(rng) for _ in range(args.queries)]
        for q in queries[:50]:  # warm the searcher, as a running daemon's is
            index.search(q, 5)
        wall: list[float] = []
        cpu: list[float] = []
        for q in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            index.search(q, 5, include_rejected=False)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        p50, p99 = pct(wall, 0.5), pct(wall, 0.99)
        print(
            f"search: {len(wall):,} queries on {args.prompts:,} prompts: p50 {p50:.2f} ms, "
            f"p99 {p99:.2f} ms (target p99 < 20 ms): {'met' if p99 < 20 else 'NOT met'}"
        )
        load = os.getloadavg()[0]
        print(
            f"        CPU time per query p50 {pct(cpu, 0.5):.2f} ms, p99 {pct(cpu, 0.99):.2f} ms "
            f"(wall minus CPU is waiting for a core: load average {load:.1f} on {os.cpu_count()})"
        )
        print(
            f"memory: index {index.size_bytes() / 2**20:.1f} MiB on disk; process RSS "
            f"{rss_before:.0f} MiB before the index, {rss_mib():.0f} MiB after rebuild+search"
        )
        index.close()


def log_store_id(root: Path) -> str:
    log = open_log(root / "events", readonly=True)
    try:
        return log.store_id()
    finally:
        log.close()


if __name__ == "__main__":
    main()

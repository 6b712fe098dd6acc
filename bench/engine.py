"""Benchmark the offline engine over the golden corpus: lint and optimize latency.

    .venv/bin/python bench/engine.py [--rounds N]

For every corpus prompt (all are under 2,000 characters) it times ``lint()`` and a full
offline ``run_pipeline()`` (four agents, guards, events to a no-op sink), with the analysis
caches cleared before each run so every figure is a cold, first-time run. Prints median and
p99 milliseconds per prompt and prompts per second. Targets: lint p99 < 5 ms, optimize
p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from promptd.daemon.engine import OfflineAgents, OptimizationRequest, lint, run_pipeline  # noqa: E402
from promptd.daemon.engine.analysis import analyze  # noqa: E402
from promptd.daemon.engine.checks import _diagnose  # noqa: E402
from promptd.daemon.events import Event  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "corpus.toml"


def clear_caches() -> None:
    analyze.cache_clear()
    _diagnose.cache_clear()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def report(name: str, samples: list[float], target_ms: float) -> None:
    ms = [s * 1000 for s in samples]
    p99 = percentile(ms, 99)
    rate = len(samples) / sum(samples)
    verdict = "ok" if p99 < target_ms else "MISSED"
    print(
        f"{name:<9} n={len(ms):<5} median {statistics.median(ms):6.2f} ms   "
        f"p99 {p99:6.2f} ms   max {max(ms):6.2f} ms   {rate:8.0f} prompts/s   "
        f"(target p99 < {target_ms:g} ms: {verdict})"
    )


async def _sink(events: Sequence[Event]) -> None:
    return None


class Samples:
    """Wall-clock and CPU (this thread) seconds of each run."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []


async def bench(texts: list[str], rounds: int) -> tuple[Samples, Samples]:
    agents = OfflineAgents()
    lint_s, opt_s = Samples(), Samples()
    for _ in range(rounds):
        for text in texts:
            clear_caches()
            w0, c0 = time.perf_counter(), time.thread_time()
            lint(text)
            lint_s.wall.append(time.perf_counter() - w0)
            lint_s.cpu.append(time.thread_time() - c0)
            clear_caches()
            w0, c0 = time.perf_counter(), time.thread_time()
            await run_pipeline(OptimizationRequest(text=text), agents, emit=_sink)
            opt_s.wall.append(time.perf_counter() - w0)
            opt_s.cpu.append(time.thread_time() - c0)
    return lint_s, opt_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="passes over the corpus")
    args = parser.parse_args()
    entries = msgspec.toml.decode(CORPUS.read_bytes())["prompt"]
    texts = [e["text"] for e in entries if len(e["text"]) < 2000]
    sizes = [len(t) for t in texts]
    asyncio.run(bench(texts[:5], 1))  # warm up imports and regex compilation
    lint_s, opt_s = asyncio.run(bench(texts, args.rounds))
    print(
        f"offline engine, {len(texts)} corpus prompts ({min(sizes)}-{max(sizes)} chars, "
        f"median {statistics.median(sizes):.0f}), {args.rounds} rounds, cold caches"
    )
    print("wall clock (what a caller waits; includes time the machine gave to others):")
    report("lint", lint_s.wall, 5)
    report("optimize", opt_s.wall, 20)
    print("CPU time of the engine itself (thread time; insensitive to machine load):")
    report("lint", lint_s.cpu, 5)
    report("optimize", opt_s.cpu, 20)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average during the run: {load:.2f} on {os.cpu_count()} CPUs")
    long_text = " ".join(texts) * 3
    clear_caches()
    t0 = time.perf_counter()
    lint(long_text)
    long_lint = time.perf_counter() - t0
    clear_caches()
    t0 = time.perf_counter()
    asyncio.run(
        run_pipeline(OptimizationRequest(text=long_text[:100_000]), OfflineAgents(), emit=_sink)
    )
    long_opt = time.perf_counter() - t0
    print(
        f"one {min(len(long_text), 100_000):,}-char prompt: lint {long_lint * 1000:.0f} ms, "
        f"optimize {long_opt * 1000:.0f} ms (informative; no target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Provider benchmark: metered calls against a loopback chat-completions server.

1. 100 complex prompts, one Designer call each, at concurrency 16, against a server that
   takes 200 ms per call: wall time and its ratio to the ideal (calls x latency /
   concurrency). Target <= 1.3x.
   (A warm-up of 16 calls first opens the connections, as a running daemon has them.)
2. 100 full LLM optimizations (the engine's pipeline: 2 calls each when the rubric decides,
   4 when the pairwise judge is asked) at 16 at a time.
3. Response-cache hits in-process (an identical request answered from the log): p50/p99.
   Target p99 < 2 ms.
4. Issue 15's case, end to end: 10 complex prompts through ``promptd batch --engine llm``
   (a real daemon process, its own home) against a loopback server that takes 2 s per call.
   Target under 8 s and at most 2.2 calls per prompt (measured before the change: 27 s and
   3.8 calls per prompt).
5. What a ``search_library`` lookup costs (issue 18): 10 full optimizations one after the
   other, 200 ms per call, with a Designer that never looks anything up and with one that
   looks up once (a real library index of 200 prompt files behind the tool): round trips,
   wall time, tokens and cost per run; the difference is what one lookup costs.

Everything goes through the real event log (LMDB in a temporary folder, through the
daemon's AsyncEventLog) and a real HTTP client over 127.0.0.1.

Run: .venv/bin/python bench/providers.py  (one case: ``batch`` or ``lookup``)
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promptd.daemon.config import EngineConfig, parse
from promptd.daemon.engine import OfflineAgents, OptimizationRequest, RunMeta, run_pipeline
from promptd.daemon.engine.types import AgentContext, Deconstruction, Diagnosis
from promptd.daemon.events import Event, LibrarySearched, ProviderCallCompleted
from promptd.daemon.library import grounding
from promptd.daemon.library.index import Doc, LibraryIndex
from promptd.daemon.projections import open_async_log
from promptd.daemon.providers import LLMEngine
from promptd.daemon.store import AsyncEventLog
from tests.daemon.providers.loopback import LoopbackServer

LATENCY_S = 0.2
PROMPTS = 100
CONCURRENCY = 16
HITS = 2000


def complex_prompt(i: int) -> str:
    return (
        f"Task {i}: You are a senior analyst. Write a detailed report on the quarterly sales "
        "data below, then compare it with last year, also summarize the three biggest risks "
        "and list concrete actions. You must cite numbers, never speculate, and keep it under "
        "800 words. Output Markdown with sections.\n\n" + "Row: region, units, revenue.\n" * 40
    )


def config(base_url: str) -> str:
    return (
        f'[provider]\nkind = "openai"\nbase_url = "{base_url}"\nmodel = "grok-4.3"\n'
        f"max_concurrency = {CONCURRENCY}\n"
    )


async def bench_calls(engine: LLMEngine, offset: int = 0, count: int = PROMPTS) -> float:
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with sem:
            text = complex_prompt(i)
            agents = engine.agents_for(f"b{i}", text, no_cache=True)
            ctx = AgentContext(opt_id=f"b{i}", prompt=text, prompt_type="analytical")
            await agents.design(ctx, Deconstruction(), Diagnosis())

    t0 = time.perf_counter()
    await asyncio.gather(*(one(offset + i) for i in range(count)))
    return time.perf_counter() - t0


async def bench_pipeline(engine: LLMEngine, log: AsyncEventLog) -> tuple[float, int]:
    sem = asyncio.Semaphore(CONCURRENCY)
    fallback = OfflineAgents(EngineConfig())

    async def emit(events: Sequence[Event]) -> object:
        return await log.append(events)

    async def one(i: int) -> None:
        async with sem:
            text = complex_prompt(1000 + i)
            choice = engine.choose(text)
            meta = RunMeta(model=choice.model, model_reason=choice.reason)
            agents = engine.agents_for(
                f"p{i}", text, choice=choice, meta=meta, no_cache=True, hold=True
            )
            await run_pipeline(
                OptimizationRequest(text=text, opt_id=f"p{i}", no_cache=True),
                agents,
                emit=emit,
                fallback=fallback,
                meta=meta,
            )

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(PROMPTS)))
    return time.perf_counter() - t0, 0


async def bench_hits(engine: LLMEngine) -> list[float]:
    text = complex_prompt(0)
    ctx = AgentContext(opt_id="h", prompt=text, prompt_type="analytical")
    agents = engine.agents_for("h", text)
    await agents.design(ctx, Deconstruction(), Diagnosis())  # fill the cache
    times = []
    for _ in range(HITS):
        t0 = time.perf_counter()
        await agents.design(ctx, Deconstruction(), Diagnosis())
        times.append((time.perf_counter() - t0) * 1000)
    assert agents.cached_calls >= HITS
    return times


BATCH_PROMPTS = 10
BATCH_LATENCY_S = 2.0


def bench_batch() -> tuple[float, int, str]:
    """``promptd batch --engine llm`` on 10 complex prompts: (seconds, calls, summary)."""
    with (
        tempfile.TemporaryDirectory(prefix="pb") as tmp,
        LoopbackServer(latency_s=BATCH_LATENCY_S, echo=True) as server,
    ):
        home = Path(tmp)
        (home / "config.toml").write_text(
            f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\n'
            'model = "grok-4.3"\n[backup]\nenabled = false\n[inbox]\nenabled = false\n'
        )
        prompts = home / "prompts.jsonl"
        prompts.write_text(
            "".join(json.dumps({"prompt": complex_prompt(i)}) + "\n" for i in range(BATCH_PROMPTS))
        )
        env = {**os.environ, "PROMPTD_HOME": str(home)}
        env.pop("XAI_API_KEY", None)
        exe = [str(Path(sys.executable).with_name("promptd"))]
        subprocess.run([*exe, "start"], env=env, check=True, capture_output=True)
        try:
            t0 = time.perf_counter()
            done = subprocess.run(
                [*exe, "batch", str(prompts), "--engine", "llm"],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - t0
        finally:
            subprocess.run([*exe, "stop"], env=env, capture_output=True, check=False)
        summary = (done.stderr.strip().splitlines() or ["(no summary)"])[-1]
        if done.returncode != 0:
            summary = f"FAILED ({done.returncode}): {done.stderr.strip()[-300:]}"
        return wall, len(server.bodies), summary


LOOKUP_RUNS = 10


def library_lookup(folder: Path) -> Callable[[str], Awaitable[grounding.Lookup]]:
    """A real library index of 200 prompt files, searched as the tool's lookup is."""
    index = LibraryIndex(folder)
    index.open("bench")
    for i in range(200):
        index.put(Doc(doc_id=f"file:/p/{i}.prompt", kind="file", text=complex_prompt(i)))
    index.commit()
    grounding.wait_tokenizer(60)  # the daemon loads the vocabulary at start

    async def lookup(query: str) -> grounding.Lookup:
        t0 = time.perf_counter()
        hits = index.search(query, 8)
        materials = [
            grounding.Material(
                ref=h.doc.doc_id,
                kind="passage",
                source="library",
                similarity=h.similarity,
                text=h.doc.text,
            )
            for h in hits
        ]
        chosen = grounding.select(materials, 750)
        ms = round((time.perf_counter() - t0) * 1000)
        return grounding.Lookup(query=query, materials=chosen, duration_ms=ms)

    return lookup


async def bench_lookup(tmp: Path, lookup_query: str) -> dict[str, float]:
    """10 full optimizations one after the other; figures per run."""
    with LoopbackServer(latency_s=LATENCY_S, echo=True, lookup=lookup_query) as server:
        log = await open_async_log(tmp / ("events-lookup" if lookup_query else "events-plain"))
        engine = LLMEngine(parse(config(server.base_url)), log)
        lookup = library_lookup(tmp / ("lib-lookup" if lookup_query else "lib-plain"))
        fallback = OfflineAgents(EngineConfig())
        try:
            t0 = time.perf_counter()
            for i in range(LOOKUP_RUNS):
                text = complex_prompt(3000 + i)
                choice = engine.choose(text)
                meta = RunMeta(model=choice.model, model_reason=choice.reason)
                agents = engine.agents_for(
                    f"l{i}",
                    text,
                    choice=choice,
                    meta=meta,
                    no_cache=True,
                    hold=True,
                    lookup=lookup,
                )

                async def emit(events: Sequence[Event]) -> object:
                    return await log.append(events)

                await run_pipeline(
                    OptimizationRequest(text=text, opt_id=f"l{i}", no_cache=True),
                    agents,
                    emit=emit,
                    fallback=fallback,
                    meta=meta,
                )
            wall = time.perf_counter() - t0
            await engine.meter.flush()
            calls = [r.event for r in log.read() if isinstance(r.event, ProviderCallCompleted)]
            searched = [r.event for r in log.read() if isinstance(r.event, LibrarySearched)]
        finally:
            await engine.aclose()
            await log.close()
    return {
        "calls": len(calls) / LOOKUP_RUNS,
        "wall_s": wall / LOOKUP_RUNS,
        "prompt_tokens": sum(c.prompt_tokens for c in calls) / LOOKUP_RUNS,
        "completion_tokens": sum(c.completion_tokens for c in calls) / LOOKUP_RUNS,
        "usd": sum(c.cost_ticks for c in calls) / 1e10 / LOOKUP_RUNS,
        "lookups": len(searched) / LOOKUP_RUNS,
        "lookup_ms": statistics.fmean([s.duration_ms for s in searched]) if searched else 0.0,
        "lookup_usd": sum(s.cost_ticks for s in searched) / 1e10 / max(1, len(searched)),
    }


def main_lookup() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        plain = asyncio.run(bench_lookup(Path(tmp), ""))
        looked = asyncio.run(bench_lookup(Path(tmp), "quarterly sales risks report"))
    print(
        f"search_library: {LOOKUP_RUNS} full optimizations one at a time, "
        f"{LATENCY_S * 1000:.0f} ms per call (loopback reports 900 prompt / 150 completion "
        "tokens and $0.0000001 per call)"
    )
    for name, f in (("no lookup", plain), ("one lookup", looked)):
        print(
            f"  {name:10}: {f['calls']:.1f} calls, {f['wall_s'] * 1000:.0f} ms, "
            f"{f['prompt_tokens']:.0f} prompt + {f['completion_tokens']:.0f} completion tokens, "
            f"${f['usd']:.7f} per run; {f['lookups']:.1f} lookups"
        )
    print(
        f"  a lookup costs {looked['calls'] - plain['calls']:.1f} round trip "
        f"(+{(looked['wall_s'] - plain['wall_s']) * 1000:.0f} ms wall, of which the search "
        f"{looked['lookup_ms']:.1f} ms), "
        f"+{looked['prompt_tokens'] - plain['prompt_tokens']:.0f} prompt tokens (reported), "
        f"${looked['lookup_usd']:.7f} recorded on its LibrarySearched event; "
        f"the no-lookup path stays at {plain['calls']:.1f} calls"
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        LoopbackServer(latency_s=LATENCY_S, echo=True) as server,
    ):
        log = await open_async_log(Path(tmp) / "events")
        engine = LLMEngine(parse(config(server.base_url)), log)
        try:
            warm = await bench_calls(engine, offset=10_000, count=CONCURRENCY)
            print(f"warm-up: {CONCURRENCY} calls (opens the connections) in {warm:.2f} s")
            calls = PROMPTS
            wall = await bench_calls(engine)
            ideal = calls * LATENCY_S / CONCURRENCY
            print(
                f"calls: {calls} complex prompts x 1 call, concurrency {CONCURRENCY}, "
                f"{LATENCY_S * 1000:.0f} ms each"
            )
            print(
                f"  wall {wall:.2f} s, ideal {ideal:.2f} s, ratio {wall / ideal:.2f}x "
                f"(target <= 1.3x); {server.connections} connections"
            )
            print(
                f"  floor from {CONCURRENCY}-wide waves: "
                f"{-(-calls // CONCURRENCY) * LATENCY_S / ideal:.2f}x"
            )
            before = len(server.bodies)
            wall, _ = await bench_pipeline(engine, log)
            pcalls = len(server.bodies) - before
            ideal = pcalls * LATENCY_S / CONCURRENCY
            print(
                f"pipeline: {PROMPTS} full optimizations ({pcalls} calls), {CONCURRENCY} at a time"
            )
            print(
                f"  wall {wall:.2f} s, calls x latency / concurrency {ideal:.2f} s, "
                f"ratio {wall / ideal:.2f}x (each run has 2 dependent rounds: "
                f"floor {2 * LATENCY_S * PROMPTS / CONCURRENCY / ideal:.2f}x); "
                f"{pcalls / PROMPTS:.1f} calls per optimization"
            )
            times = await bench_hits(engine)
            print(
                f"response-cache hits in-process: {HITS}, p50 {pct(times, 50):.3f} ms, "
                f"p99 {pct(times, 99):.3f} ms, mean {statistics.fmean(times):.3f} ms "
                "(target p99 < 2 ms)"
            )
        finally:
            await engine.aclose()
            await log.close()


def main_batch() -> None:
    wall, calls, summary = bench_batch()
    print(
        f"batch: {BATCH_PROMPTS} complex prompts, `promptd batch --engine llm`, "
        f"{BATCH_LATENCY_S:.0f} s per call"
    )
    print(
        f"  wall {wall:.1f} s (target < 8 s), {calls} calls = "
        f"{calls / BATCH_PROMPTS:.1f} per prompt (target <= 2.2); {summary}"
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["batch"]:
        main_batch()
    elif sys.argv[1:] == ["lookup"]:
        main_lookup()
    else:
        asyncio.run(main())
        main_batch()
        main_lookup()

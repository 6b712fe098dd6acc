"""``promptd eval`` benchmark: one evaluation against a loopback chat-completions server.

1. 10 samples, each: the two versions on the target model at once, then the judge's two
   orders at once (two round trips a sample), against a server that takes 200 ms per call:
   wall time, calls, and the ideal (samples x 2 round trips x latency).
2. The same evaluation again: every call from the response cache (wall time, cost).
3. The recorded ``EvaluationCompleted``: its size in the log with 10 and with 200 samples of
   long answers (outputs are cut to a bound, so the event stays small).

Everything goes through the real event log (LMDB in a temporary folder) and a real HTTP
client over 127.0.0.1.

Run: .venv/bin/python bench/eval.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promptd.daemon.config import parse
from promptd.daemon.evals.runner import EvalRun
from promptd.daemon.evals.samples import Sample
from promptd.daemon.events import EvaluationCompleted, encode_event
from promptd.daemon.projections import open_async_log
from promptd.daemon.providers import LLMEngine
from tests.daemon.evals.fake_model import EvalLoopback

ORIGINAL = "Summarize {doc} for {audience}."
CANDIDATE = "Summarize the document below for {audience} in three bullets.\n\n<doc>\n{doc}\n</doc>"
LATENCY_S = 0.2


def samples(n: int, size: int = 40) -> list[Sample]:
    return [
        Sample(vars={"doc": f"document {i} " + "x" * size, "audience": "the board"})
        for i in range(n)
    ]


async def one(engine: LLMEngine, rows: list[Sample]) -> tuple[float, EvaluationCompleted]:
    started = time.perf_counter()
    done = await EvalRun(engine, original=ORIGINAL, candidate=CANDIDATE, samples=rows).run(
        lambda p: None
    )
    return time.perf_counter() - started, done


async def main() -> None:
    with tempfile.TemporaryDirectory() as home, EvalLoopback(latency_s=LATENCY_S) as server:
        log = await open_async_log(Path(home) / "events")
        cfg = parse(
            f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\nmodel = "grok-4.3"\n'
        )
        engine = LLMEngine(cfg, log)
        try:
            rows = samples(10)
            wall, done = await one(engine, rows)
            ideal = len(rows) * 2 * LATENCY_S
            print(
                f"1. 10 samples at {LATENCY_S * 1000:.0f} ms a call: {wall:.2f} s "
                f"(ideal {ideal:.2f} s, {wall / ideal:.2f}x), {done.calls} calls, "
                f"{done.wins}/{done.ties}/{done.losses} win/tie/loss"
            )
            wall, again = await one(engine, rows)
            print(
                f"2. the same again: {wall * 1000:.0f} ms, {again.cached_calls} of "
                f"{again.calls} calls from the cache, cost {again.cost_ticks} ticks"
            )
            print(f"3. EvaluationCompleted, 10 samples: {len(encode_event(done)):,} bytes")
            server.latency_s = 0.0
            big = samples(200, size=5000)
            _, large = await one(engine, big)
            print(f"   200 samples with 5 kB inputs: {len(encode_event(large)):,} bytes")
        finally:
            await engine.aclose()
            await log.close()


if __name__ == "__main__":
    asyncio.run(main())

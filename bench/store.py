"""Benchmark of the event log: append, read back, rebuild; compared with raw py-lmdb puts.

    .venv/bin/python bench/store.py                 # 1,000,000 events (a few minutes)
    .venv/bin/python bench/store.py --events 100000 # a quick run

Event mix: realistic. Each optimization writes 10 events, as the engine does:
OptimizationRequested, CacheMiss, BudgetReserved, 4 x AgentStepCompleted,
2 x ProviderCallCompleted (one settles the reservation; both carry a response-cache key),
OptimizationCompleted (with an optimization-cache key). Every event is folded by the
projections it concerns (history, budget, cache, stats, origins...), in the same transaction.
Texts are sized so a stored record averages ~200 bytes.

Printed: events/s for our appends (batches of --batch, durable commits), for raw py-lmdb
``putmulti(append=True)`` of the same bytes in the same batches, and their ratio; read-back
events/s (decoded Records); full rebuild time and events/s; single durable append latency.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lmdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.events import (
    AgentStepCompleted,
    BudgetReserved,
    CacheMiss,
    DaemonStarted,
    Event,
    OptimizationCompleted,
    OptimizationRequested,
    ProviderCallCompleted,
)
from daemon.store import EventLog
from daemon.values import Scores

AGENTS = ("deconstructor", "diagnoser", "designer", "evaluator")
SCORE = Scores(clarity=60, specificity=55, structure=70, completeness=50, total=59)


def optimization(i: int) -> list[Event]:
    """The 10 events of one optimization (ids and text vary with ``i``)."""
    opt = f"opt-{i:09d}"
    phash = f"{i * 2654435761 % 2**32:08x}" * 8
    prompt = f"Write a short product description for item {i} aimed at new customers."
    day, month = f"2026-11-{1 + i % 28:02d}", "2026-11"
    res = f"res-{i:09d}"
    out: list[Event] = [
        OptimizationRequested(
            opt_id=opt, prompt=prompt, prompt_hash=phash, engine="llm", model="grok-4.3"
        ),
        CacheMiss(cache="optimization", key=phash[:32], opt_id=opt),
        BudgetReserved(reservation_id=res, ticks=2_000_000, opt_id=opt, day=day, month=month),
    ]
    for agent in AGENTS:
        out.append(
            AgentStepCompleted(
                opt_id=opt,
                agent=agent,
                engine="llm",
                model="grok-4.3",
                duration_us=123_456,
                summary=f"{agent} done: 3 findings",
            )
        )
    for n in range(2):
        out.append(
            ProviderCallCompleted(
                call_id=f"call-{i:09d}-{n}",
                provider="xai",
                model="grok-4.3",
                opt_id=opt,
                agent=AGENTS[n],
                prompt_tokens=812,
                cached_tokens=256,
                completion_tokens=301,
                latency_ms=950,
                cost_ticks=1_234_567,
                reservation_id=res if n == 0 else "",
                request_key=f"{i:016x}{n:016x}",
                response="{}",
                day=day,
                month=month,
            )
        )
    out.append(
        OptimizationCompleted(
            opt_id=opt,
            prompt_hash=phash,
            original=prompt,
            optimized="You are a copywriter. " + prompt,
            prompt_type="creative",
            engine="llm",
            model="grok-4.3",
            score_before=SCORE,
            score_after=SCORE,
            cost_ticks=2_469_134,
            cache_key=phash[:32],
            duration_ms=2100,
        )
    )
    return out


def batches(total: int, size: int) -> list[list[Event]]:
    events: list[Event] = []
    i = 0
    while len(events) < total:
        events.extend(optimization(i))
        i += 1
    del events[total:]
    return [events[k : k + size] for k in range(0, total, size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--singles", type=int, default=1_000, help="single durable appends")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: tmp)")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="promptd-bench-", dir=args.dir))
    try:
        run(root, args.events, args.batch, args.singles)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(root: Path, total: int, batch: int, singles: int) -> None:
    print(
        f"event log benchmark: {total:,} events in batches of {batch:,} "
        "(realistic mix: 10 events per optimization)"
    )
    work = batches(total, batch)

    # ours ---------------------------------------------------------------------------------
    log = EventLog.open(root / "ours")
    started = time.perf_counter()
    for chunk in work:
        log.append(chunk)
    ours_s = time.perf_counter() - started
    size = log.size_bytes()
    del work

    # the same bytes with raw py-lmdb ------------------------------------------------------
    stored = list(log.read_raw())
    avg = sum(len(v) for v in stored) / len(stored)
    env = lmdb.open(str(root / "raw"), map_size=1 << 34, max_dbs=4, sync=True)
    db = env.open_db(b"events")
    keyed = [((n + 1).to_bytes(8, "big"), v) for n, v in enumerate(stored)]
    raw_batches = [keyed[k : k + batch] for k in range(0, len(keyed), batch)]
    del stored, keyed
    started = time.perf_counter()
    for chunk in raw_batches:
        with env.begin(write=True, db=db) as txn:
            txn.cursor().putmulti(chunk, append=True)
    raw_s = time.perf_counter() - started
    env.close()
    del raw_batches

    ours_rate, raw_rate = total / ours_s, total / raw_s
    print(f"  average stored record      {avg:,.0f} bytes; environment {size / 2**20:,.0f} MiB")
    print(f"  append (ours, projections) {ours_rate:>12,.0f} events/s  ({ours_s:.2f} s)")
    print(f"  append (raw py-lmdb)       {raw_rate:>12,.0f} events/s  ({raw_s:.2f} s)")
    print(f"  ratio ours/raw             {ours_rate / raw_rate:>12.0%}   (target >= 50%)")

    # read back ----------------------------------------------------------------------------
    started = time.perf_counter()
    n = sum(1 for _ in log.read())
    read_s = time.perf_counter() - started
    assert n == total, (n, total)
    print(f"  read back (decoded)        {total / read_s:>12,.0f} events/s  ({read_s:.2f} s)")

    # rebuild ------------------------------------------------------------------------------
    before = log.projection_bytes()
    started = time.perf_counter()
    log.rebuild()
    rebuild_s = time.perf_counter() - started
    same = log.projection_bytes() == before
    del before
    print(
        f"  rebuild all projections    {total / rebuild_s:>12,.0f} events/s  "
        f"({rebuild_s:.2f} s; target < 10 s per 1M; same bytes as incremental: {same})"
    )

    # single durable appends ---------------------------------------------------------------
    lat: list[float] = []
    for i in range(singles):
        event = DaemonStarted(pid=i, version="bench")
        t0 = time.perf_counter()
        log.append(event)
        lat.append(time.perf_counter() - t0)
    lat.sort()
    p50 = statistics.median(lat) * 1e3
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3
    print(f"  single durable append      p50 {p50:.3f} ms   p99 {p99:.3f} ms  ({singles:,} runs)")
    log.close()


if __name__ == "__main__":
    main()

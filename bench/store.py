"""Benchmark of the event log: append, read back, rebuild; compared with raw py-lmdb puts.

    .venv/bin/python bench/store.py                 # 1,000,000 events (a few minutes)
    .venv/bin/python bench/store.py --events 100000 # a quick run

Event mix: realistic. Each optimization writes 10 events, as the engine does:
OptimizationRequested, CacheMiss, BudgetReserved, 4 x AgentStepCompleted,
2 x ProviderCallCompleted (one settles the reservation; both carry a response-cache key),
OptimizationCompleted (with an optimization-cache key). Every event is folded by the
projections it concerns (history, budget, cache, stats, origins...), in the same transaction.
Texts are short, so a stored record averages ~250 bytes (from ~110 for a CacheMiss to
~600 for an OptimizationCompleted with its scores).

``--mix light``: ~200-byte ``ConfigReloaded`` events that only the stats projection counts:
the cost of the log machinery itself, without projection writes.

Printed: events/s for our appends (batches of --batch, durable commits), for raw py-lmdb
``putmulti(append=True)`` of the same bytes in the same batches (interleaved with ours batch
by batch, so both see the same load on a shared machine), and their ratio; read-back
events/s (decoded Records); full rebuild time and events/s; single durable append latency.
"""

from __future__ import annotations

import argparse
import os
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
    ConfigReloaded,
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
    phash = f"{i * 2654435761 % 2**32:08x}" * 4  # a 32-hex-digit digest
    prompt = f"Describe item {i}."
    day, month = f"2026-11-{1 + i % 28:02d}", "2026-11"
    res = f"res-{i:09d}"
    out: list[Event] = [
        OptimizationRequested(
            opt_id=opt, prompt=prompt, prompt_hash=phash, engine="llm", model="grok-4.3"
        ),
        CacheMiss(cache="optimization", key=phash, opt_id=opt),
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
                summary="ok",
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
            optimized="As a copywriter: " + prompt,
            prompt_type="creative",
            engine="llm",
            model="grok-4.3",
            score_before=SCORE,
            score_after=SCORE,
            cost_ticks=2_469_134,
            cache_key=phash,
            duration_ms=2100,
        )
    )
    return out


def light(i: int) -> list[Event]:
    """One ~200-byte event that only the stats projection counts."""
    return [ConfigReloaded(engine="llm", provider="xai", model=f"model-{i:09d}-" + "x" * 140)]


def batches(total: int, size: int, mix: str = "realistic") -> list[list[Event]]:
    make = optimization if mix == "realistic" else light
    events: list[Event] = []
    i = 0
    while len(events) < total:
        events.extend(make(i))
        i += 1
    del events[total:]
    return [events[k : k + size] for k in range(0, total, size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--singles", type=int, default=1_000, help="single durable appends")
    parser.add_argument("--dir", type=Path, default=None, help="where to write (default: tmp)")
    parser.add_argument("--mix", choices=("realistic", "light"), default="realistic")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="promptd-bench-", dir=args.dir))
    try:
        run(root, args.events, args.batch, args.singles, args.mix)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(root: Path, total: int, batch: int, singles: int, mix: str) -> None:
    what = "10 events per optimization" if mix == "realistic" else "stats-only events"
    print(f"event log benchmark: {total:,} events in batches of {batch:,} ({mix} mix: {what})")
    print(f"  load average at the start  {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    work = batches(total, batch, mix)

    # ours and raw, interleaved batch by batch so both see the same machine load ----------
    log = EventLog.open(root / "ours")
    env = lmdb.open(str(root / "raw"), map_size=1 << 34, max_dbs=4, sync=True)
    db = env.open_db(b"events")
    ours_s = raw_s = ours_cpu = raw_cpu = 0.0
    ours_w = raw_w = 0
    stored_bytes = 0
    for chunk in work:
        w0, t0, c0 = disk_writes(), time.perf_counter(), time.process_time()
        seqs = log.append(chunk)
        ours_s += time.perf_counter() - t0
        ours_cpu += time.process_time() - c0
        ours_w += disk_writes() - w0
        same_bytes = [
            (seq.to_bytes(8, "big"), raw)
            for seq, raw in zip(seqs, log.read_raw(seqs[0], seqs[-1] + 1), strict=True)
        ]
        stored_bytes += sum(len(v) for _, v in same_bytes)
        w0, t0, c0 = disk_writes(), time.perf_counter(), time.process_time()
        with env.begin(write=True, db=db) as txn:
            txn.cursor().putmulti(same_bytes, append=True)
        raw_s += time.perf_counter() - t0
        raw_cpu += time.process_time() - c0
        raw_w += disk_writes() - w0
    env.close()
    commits = len(work)
    del work
    size = log.size_bytes()
    avg = stored_bytes / total
    ours_kib, raw_kib = ours_w / commits / 1024, raw_w / commits / 1024

    ours_rate, raw_rate = total / ours_s, total / raw_s
    print(f"  average stored record      {avg:,.0f} bytes; environment {size / 2**20:,.0f} MiB")
    print(
        f"  append (ours, projections) {ours_rate:>12,.0f} events/s  ({ours_s:.2f} s, "
        f"{ours_cpu:.2f} s CPU)"
    )
    print(
        f"  append (raw py-lmdb)       {raw_rate:>12,.0f} events/s  ({raw_s:.2f} s, "
        f"{raw_cpu:.2f} s CPU)"
    )
    print(f"  ratio ours/raw             {ours_rate / raw_rate:>12.0%}   (target >= 50%)")
    if ours_w >= 0 <= raw_w:
        print(f"  written per commit         ours {ours_kib:,.0f} KiB, raw {raw_kib:,.0f} KiB")

    # read back ----------------------------------------------------------------------------
    started = time.perf_counter()
    n = sum(1 for _ in log.read())
    read_s = time.perf_counter() - started
    assert n == total, (n, total)
    print(f"  read back (decoded)        {total / read_s:>12,.0f} events/s  ({read_s:.2f} s)")

    # rebuild ------------------------------------------------------------------------------
    before = log.projection_bytes()
    started, cpu = time.perf_counter(), time.process_time()
    log.rebuild()
    rebuild_s, rebuild_cpu = time.perf_counter() - started, time.process_time() - cpu
    same = log.projection_bytes() == before
    del before
    print(
        f"  rebuild all projections    {total / rebuild_s:>12,.0f} events/s  "
        f"({rebuild_s:.2f} s, {rebuild_cpu:.2f} s CPU; target < 10 s per 1M)"
    )
    print(f"  rebuilt == incremental     {same} (every projection table, byte for byte)")

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
    print(
        f"  load average at the end    {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} cores)"
    )


def disk_writes() -> int:
    """Bytes this process caused to be written to disk (Linux), or -1."""
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


if __name__ == "__main__":
    main()

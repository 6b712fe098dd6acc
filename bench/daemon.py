"""Benchmark the daemon through its real socket; prints figures (not a timed test).

* optimize round trip on a cache hit (p50/p99; target p99 < 5 ms)
* offline optimize round trip without cache (p50/p99)
* ``promptd status`` wall time as a process (target < 250 ms), and its CPU time
* idle RSS after 2,351 optimizations (target < 80 MB)
* idle CPU over 10 s

Run: ``.venv/bin/python bench/daemon.py`` (uses a temporary PROMPTD_HOME).
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This file is bench/daemon.py: keep its folder off the path so `daemon` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from promptd.daemon import api, process  # noqa: E402
from promptd.daemon.client import DaemonClient  # noqa: E402
from promptd.daemon.paths import resolve  # noqa: E402

PROMPT = (
    "please kindly write some stuff about dogs for {audience}, make it good and DONT make it "
    "boring!!!"
)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(name: str, values_ms: list[float], target: str = "") -> None:
    print(
        f"{name:<34} p50 {statistics.median(values_ms):7.2f} ms   p99 {pct(values_ms, 99):7.2f} ms"
        f"   (n={len(values_ms)}){'   target ' + target if target else ''}"
    )


def promptd_bin() -> str:
    return str(Path(sys.executable).with_name("promptd"))


def proc_stat(pid: int) -> tuple[float, int]:
    """(CPU seconds used, RSS bytes) of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


async def round_trips(home: Path) -> None:
    paths = resolve(home)
    client = await DaemonClient.connect(paths)
    try:
        await client.call("optimize", api.OptimizeParams(text=PROMPT))  # fill the cache
        for _ in range(50):  # warm up
            await client.call("optimize", api.OptimizeParams(text=PROMPT))
        hits: list[float] = []
        for _ in range(2000):
            t0 = time.perf_counter()
            result = await client.call(
                "optimize", api.OptimizeParams(text=PROMPT), result_type=api.OptimizeResult
            )
            hits.append((time.perf_counter() - t0) * 1000)
            assert result.cached
        line("optimize, cache hit", hits, "p99 < 5 ms")

        runs: list[float] = []
        for i in range(300):
            t0 = time.perf_counter()
            await client.call(
                "optimize", api.OptimizeParams(text=f"{PROMPT} (variant {i})", no_cache=True)
            )
            runs.append((time.perf_counter() - t0) * 1000)
        line("optimize, offline engine, no cache", runs)
        # 1 + 50 + 2,000 cache hits + 300 full runs = 2,351 optimizations before the idle figures
    finally:
        await client.close()


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="pdb-"))
    env = {**os.environ, "PROMPTD_HOME": str(home)}
    for key in ("XAI_API_KEY", "OPENAI_API_KEY", "PROMPTD_PROVIDER"):
        env.pop(key, None)
    os.environ.update({"PROMPTD_HOME": str(home)})
    paths = resolve(home)
    subprocess.run([promptd_bin(), "start"], env=env, check=True, capture_output=True)
    pid = process.running_pid(paths)
    assert pid is not None
    try:
        print(f"promptd daemon benchmark (pid {pid}, {os.cpu_count()} cores, offline engine)")
        asyncio.run(round_trips(home))

        walls: list[float] = []
        cpus: list[float] = []
        for _ in range(20):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([promptd_bin(), "status"], env=env, check=True, capture_output=True)
            walls.append((time.perf_counter() - t0) * 1000)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(
                (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
            )
        line("`promptd status` as a process", walls, "< 250 ms")
        line("`promptd status` CPU time", cpus)

        time.sleep(1.0)  # let the last group commit and the GC settle
        cpu0, rss = proc_stat(pid)
        print(
            f"{'idle RSS after 2,351 optimizations':<34} {rss / 2**20:7.1f} MiB"
            "              target < 80 MB"
        )
        time.sleep(10.0)
        cpu1, _ = proc_stat(pid)
        print(
            f"{'idle CPU over 10 s':<34} {100 * (cpu1 - cpu0) / 10:7.2f} %  "
            f"({(cpu1 - cpu0) * 1000:.0f} ms of CPU)"
        )
    finally:
        subprocess.run([promptd_bin(), "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

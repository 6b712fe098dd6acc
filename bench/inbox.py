"""Inbox benchmark: drop a file into a real daemon's inbox, time until the outbox file appears.

1. A 1,000-row CSV on the offline engine: wall time from drop to the outbox file.
   Target < 15 s on this machine.
2. A 100-row CSV against a loopback chat-completions server that takes 200 ms per call, at
   inbox concurrency 4: wall time and its ratio to the ideal (provider calls x latency /
   concurrency). Target <= 1.3x.
3. A 100,000-row CSV on the offline engine (BENCH_ROWS changes the count): the daemon's
   resident memory (VmRSS, sampled every 0.25 s) at its peak during the batch and 10 s after
   it ends, and rows/s. Targets: < 150 MB during, < 80 MB after. It takes a while: about
   20 minutes on an idle 2-core machine, so the daemon's catch-up backup (5 minutes after it
   starts, there being none) runs during the batch; it runs in a child process of its own,
   whose peak is printed apart.

Each run starts ``promptd start --foreground`` in a temporary home (the real LMDB log, the real
watcher), drops the file with a rename (taken at once) and polls for the result. Figures are
printed; nothing is asserted.

Run: .venv/bin/python bench/inbox.py            (all)
     .venv/bin/python bench/inbox.py memory     (only 3)
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promptd.daemon.events import BatchCompleted, ProviderCallCompleted
from promptd.daemon.paths import resolve
from promptd.daemon.projections import open_log
from tests.daemon.providers.loopback import LoopbackServer

LATENCY_S = 0.2
CONCURRENCY = 4


def prompts_csv(n: int, text: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "prompt", "team"])
    for i in range(n):
        writer.writerow([f"r{i}", text.format(i=i), "bench"])
    return buf.getvalue().encode()


def start_daemon(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptd.daemon", "--home", str(home), "start", "--foreground"],
        env={**os.environ, **env, "PROMPTD_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    paths = resolve(home)
    deadline = time.monotonic() + 30
    while not (paths.socket.exists() and paths.inbox.is_dir()):
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"the daemon did not start; see {paths.log_file}")
        time.sleep(0.02)
    time.sleep(0.5)  # let the watcher arm and the start-up work settle
    return proc


def drop_and_wait(home: Path, name: str, data: bytes, timeout: float) -> float:
    paths = resolve(home)
    stem = name.rsplit(".", 1)[0]
    out = paths.outbox / f"{stem}.optimized.csv"
    part = paths.inbox / f"{name}.part"
    part.write_bytes(data)
    started = time.perf_counter()
    part.rename(paths.inbox / name)
    deadline = time.monotonic() + timeout
    while not out.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"no {out.name} after {timeout:g} s; see {paths.log_file}")
        time.sleep(0.005)
    return time.perf_counter() - started


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def check_rows(home: Path, name: str, n: int) -> int:
    out = resolve(home).outbox / name
    rows = list(csv.DictReader(io.StringIO(out.read_text(), newline="")))
    if len(rows) != n:
        raise SystemExit(f"{name}: {len(rows)} rows, expected {n}")
    return sum(1 for r in rows if r["status"] == "ok")


def offline_1000(concurrency: int = CONCURRENCY) -> None:
    with tempfile.TemporaryDirectory(prefix="promptd-bench-") as tmp:
        home = Path(tmp)
        (home / "config.toml").write_text(
            f'[provider]\nkind = "offline"\n[inbox]\nconcurrency = {concurrency}\n'
        )
        proc = start_daemon(home, {})
        try:
            wall = drop_and_wait(home, "thousand.csv", prompts_csv(1000, PROMPT_OFFLINE), 120)
        finally:
            stop(proc)
        ok = check_rows(home, "thousand.optimized.csv", 1000)
        print(
            f"1,000-row CSV, offline engine, concurrency {concurrency}: drop -> outbox "
            f"{wall:.2f} s ({1000 / wall:.0f} prompts/s, {ok} ok)  target < 15 s"
        )


PROMPT_OFFLINE = (
    "please kindly write some stuff about topic {i} for our readers, make it good and DONT "
    "make it boring!!!"
)
PROMPT_LLM = "write some stuff about dogs, variant number {i}"


def loopback_100() -> None:
    with tempfile.TemporaryDirectory(prefix="promptd-bench-") as tmp:
        home = Path(tmp)
        with LoopbackServer(latency_s=LATENCY_S, api_key="bench-key") as server:
            (home / "config.toml").write_text(
                f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\n'
                f'model = "grok-4.3"\napi_key_env = "BENCH_KEY"\n'
                f"[inbox]\nconcurrency = {CONCURRENCY}\n"
            )
            proc = start_daemon(home, {"BENCH_KEY": "bench-key"})
            try:
                wall = drop_and_wait(home, "hundred.csv", prompts_csv(100, PROMPT_LLM), 300)
            finally:
                stop(proc)
        ok = check_rows(home, "hundred.optimized.csv", 100)
        log = open_log(resolve(home).events, readonly=True, allow_stale=True)
        try:
            records = list(log.read())
        finally:
            log.close()
        calls = sum(1 for r in records if isinstance(r.event, ProviderCallCompleted))
        cost = sum(r.event.cost_ticks for r in records if isinstance(r.event, BatchCompleted))
        ideal = calls * LATENCY_S / CONCURRENCY
        print(
            f"100-row CSV, loopback LLM ({LATENCY_S * 1000:.0f} ms/call, concurrency "
            f"{CONCURRENCY}): {wall:.2f} s for {calls} calls ({ok} ok, {cost} ticks); "
            f"ideal {ideal:.2f} s; ratio {wall / ideal:.2f}x  target <= 1.3x"
        )


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident MB of ``pid``: VmRSS in all; RssAnon is the heap, RssFile the mapped files
    (LMDB's pages of data.mdb, which the kernel can drop)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def children_mb(pid: int) -> float:
    """Resident MB of the children of ``pid`` (the backup worker, while one runs)."""
    kids: list[str] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                kids += fh.read().split()
    except OSError:
        return 0.0
    total = 0.0
    for kid in kids:
        with contextlib.suppress(OSError):  # it ended meanwhile
            total += rss_mb(int(kid))
    return total


def memory_rows(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="promptd-bench-") as tmp:
        home = Path(tmp)
        (home / "config.toml").write_text('[provider]\nkind = "offline"\n')
        proc = start_daemon(home, {})
        paths = resolve(home)
        try:
            idle = rss_mb(proc.pid)
            part = paths.inbox / "many.csv.part"
            part.write_bytes(prompts_csv(n, PROMPT_OFFLINE))
            started = time.perf_counter()
            part.rename(paths.inbox / "many.csv")
            peak = idle
            peak_heap = rss_mb(proc.pid, "RssAnon")
            peak_child = 0.0
            done = paths.inbox / "done" / "many.csv"
            deadline = time.monotonic() + 3600
            while not done.exists():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"the {n}-row batch did not finish; see {paths.log_file}")
                peak = max(peak, rss_mb(proc.pid))
                peak_heap = max(peak_heap, rss_mb(proc.pid, "RssAnon"))
                peak_child = max(peak_child, children_mb(proc.pid))
                time.sleep(0.25)
            wall = time.perf_counter() - started
            after_end = time.monotonic() + 10
            while time.monotonic() < after_end:
                peak_after = rss_mb(proc.pid)
                time.sleep(0.5)
            after = rss_mb(proc.pid)
            anon, mapped = rss_mb(proc.pid, "RssAnon"), rss_mb(proc.pid, "RssFile")
        finally:
            stop(proc)
        print(
            f"{n:,}-row CSV, offline engine: {wall:.0f} s ({n / wall:.0f} rows/s); "
            f"daemon RSS idle {idle:.0f} MB, "
            f"peak during {peak:.0f} MB (target < 150; heap at most {peak_heap:.0f} MB), "
            f"10 s after {after:.0f} MB "
            f"(target < 80; {peak_after:.0f} MB at the last sample; of it heap {anon:.0f} MB, "
            f"mapped files {mapped:.0f} MB); "
            + (
                f"the backup worker (a child process, gone when done) peaked at {peak_child:.0f} MB"
                if peak_child
                else "no backup ran during the batch"
            )
        )


def main() -> None:
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if sys.argv[1:] == ["memory"]:  # only the 100,000-row memory run
        memory_rows(int(os.environ.get("BENCH_ROWS", "100000")))
        return
    offline_1000()
    offline_1000(16)  # commit-bound: more prompts in flight share each LMDB commit
    loopback_100()
    memory_rows(int(os.environ.get("BENCH_ROWS", "100000")))


if __name__ == "__main__":
    main()

"""Benchmark of the dashboard: how fast the page loads with 10,000 optimizations in the log.

    .venv/bin/python bench/dashboard.py                   # 10,000 optimizations, 7 loads
    .venv/bin/python bench/dashboard.py --optimizations 2000 --loads 3
    .venv/bin/python bench/dashboard.py --compare 5551364 # before/after, in the same run

Builds a log of ``--optimizations`` optimizations spread over 60 days (each one as the
engine writes it: request, cache miss, four agent steps, two provider calls with costs, the
completion with findings and scores; a tenth answered from cache; a fifth kept or
rejected), starts a real daemon on it (``promptd start``), waits until the daemon is idle
(its catch-up on a new log), then prints:

* the server's side: the wall time of every request the page makes (the page, the files it
  names, then the JSON answers its sections ask for, in parallel, as the browser does),
  median of ``--loads`` loads;
* the page in a browser (Debian's Chromium through Playwright, when both are there), median
  of ``--loads`` fresh loads (new context: no cache, no cookie; the token redirect
  included): from navigation start to the load event (the page loaded), to the first screen
  on screen (the overview), to every section drawn, and the CPU time of the page's main
  thread (what the page costs, whatever else the machine runs);
* live updates: how long after a committed event its Server-Sent Event reaches a listener.

``--compare REF`` runs the dashboard of another commit too (its ``daemon/`` from git, on a
copy of the same log, in a daemon of its own) and alternates the loads of the two pages in
the same browser, so both see the same machine: on a shared machine only figures taken
side by side compare. The load average is printed before and after.

The target (issue 17): the page loads in under 300 ms with 10,000 optimizations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from promptd.daemon.client import DaemonClient
from promptd.daemon.events import (
    AgentStepCompleted,
    CacheHit,
    CacheMiss,
    Event,
    OptimizationCompleted,
    OptimizationKept,
    OptimizationRejected,
    OptimizationRequested,
    ProviderCallCompleted,
)
from promptd.daemon.paths import resolve
from promptd.daemon.projections import open_log
from promptd.daemon.values import Change, Finding, Scores

NS_DAY = 86_400 * 10**9
CHROMIUM = "/usr/bin/chromium"
PROMPT = (
    "please kindly write some stuff about {topic} for {audience}, make it good and "
    "DONT make it boring!!! number "
)


def _scores(total: int) -> Scores:
    return Scores(
        clarity=total, specificity=total, structure=total, completeness=total, total=total
    )


def optimization(i: int, rng: random.Random) -> list[Event]:
    opt_id = f"{i:016x}"
    prompt = PROMPT + str(i)
    source = rng.choice(["cli", "lsp", "lsp", "inbox"])
    engine = rng.choice(["offline", "llm", "llm"])
    model = "grok-4" if engine == "llm" else ""
    ptype = rng.choice(["general", "creative", "technical", "analytical", "code"])
    findings = [
        Finding(code=f"PD{rng.randint(1, 20):03d}", severity="warning", message="a finding")
        for _ in range(rng.randint(1, 5))
    ]
    cached = i % 10 == 9
    events: list[Event] = [
        OptimizationRequested(
            opt_id=opt_id, prompt=prompt, prompt_hash=f"{i:064x}", engine=engine, source=source
        )
    ]
    if cached:
        events.append(CacheHit(cache="optimization", key=f"k{i}", opt_id=opt_id, saved_ticks=10**7))
    else:
        events.append(CacheMiss(cache="optimization", key=f"k{i}", opt_id=opt_id))
        for agent in ("deconstructor", "diagnoser", "designer", "evaluator"):
            events.append(
                AgentStepCompleted(opt_id=opt_id, agent=agent, duration_us=900, summary="ok")
            )
        if engine == "llm":
            for n in range(2):
                events.append(
                    ProviderCallCompleted(
                        call_id=f"{opt_id}-{n}",
                        provider="xai",
                        model=model,
                        opt_id=opt_id,
                        prompt_tokens=900,
                        completion_tokens=300,
                        latency_ms=rng.randint(400, 4000),
                        ok=rng.random() > 0.02,
                        cost_ticks=rng.randint(10**6, 10**7),
                    )
                )
    before = rng.randint(20, 60)
    events.append(
        OptimizationCompleted(
            opt_id=opt_id,
            prompt_hash=f"{i:064x}",
            original=prompt,
            optimized="Write an engaging piece.\n\n## Guidelines\n- Be concrete.\n" + str(i),
            prompt_type=ptype,
            engine=engine,
            model=model,
            score_before=_scores(before),
            score_after=_scores(before + rng.randint(5, 35)),
            findings=findings,
            changes=[Change(description="Removed filler", findings=[findings[0].code])],
            cached=cached,
            source=source,
        )
    )
    if i % 10 == 0:
        events.append(OptimizationKept(opt_id=opt_id))
    elif i % 10 == 5:
        events.append(OptimizationRejected(opt_id=opt_id, why="too long"))
    return events


def build_log(home: Path, count: int) -> int:
    paths = resolve(home)
    paths.events.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(17)
    now = time.time_ns()
    log = open_log(paths.events, map_size=1 << 30)
    try:
        batch: list[Event] = []
        for i in range(count):
            batch += optimization(i, rng)
            if len(batch) >= 2000 or i == count - 1:
                ts = now - (60 * NS_DAY * (count - i)) // count
                log.append(batch, ts_ns=ts)
                batch = []
        return log.last_seq()
    finally:
        log.close()


def promptd(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    exe = str(Path(sys.executable).with_name("promptd"))
    done = subprocess.run(
        [exe, "--home", str(home), *args], capture_output=True, text=True, timeout=300, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"promptd {' '.join(args)} failed: {done.stderr}")
    return done.stdout


class Site:
    """One daemon's dashboard: its home, URL and the environment that runs its code."""

    def __init__(self, name: str, home: Path, env: dict[str, str] | None) -> None:
        self.name = name
        self.home = home
        self.env = env
        self.url = ""

    def start(self) -> None:
        promptd(self.home, "start", env=self.env)
        self.url = json.loads(promptd(self.home, "dashboard", "--json", env=self.env))["url"]

    def settle(self, limit_s: float = 600.0) -> float:
        """Wait until the daemon is idle (its start-up catch-up on a new log, the library
        index and the first backup, takes a minute of CPU at 10,000 optimizations; loads
        measured meanwhile would time that, not the page). The seconds waited."""
        pid = int(resolve(self.home).pid_file.read_text().split()[0])
        started = last = time.perf_counter()
        used = _cpu_s(pid)
        while time.perf_counter() - started < limit_s:
            time.sleep(1.0)
            now = _cpu_s(pid)
            if now - used < 0.02 * (time.perf_counter() - last):
                break
            used, last = now, time.perf_counter()
        return time.perf_counter() - started

    def stop(self) -> None:
        exe = str(Path(sys.executable).with_name("promptd"))
        subprocess.run(
            [exe, "--home", str(self.home), "stop"], capture_output=True, timeout=60, env=self.env
        )


def _cpu_s(pid: int) -> float:
    """CPU seconds process ``pid`` has used (user + system, from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def checkout(ref: str, into: Path) -> dict[str, str]:
    """The daemon of commit ``ref`` (from git), importable as ``promptd.daemon`` ahead of
    this one: the environment that runs it."""
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", ref, "daemon", "lsp"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    (into / "promptd").mkdir()
    for name in ("daemon", "lsp"):
        (into / "promptd" / name).symlink_to(into / name)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(into), env.get("PYTHONPATH", "")]))
    return env


_ASSET = re.compile(r'(?:src|href)="(/(?:static|assets)/[^"]+)"')
_APIS = ["/api/history?", "/api/batches", "/api/audit?limit=50", "/api/backups"]


async def server_side(url: str, loads: int) -> list[float]:
    """Every request of one load, as the browser makes them: the page, the files it names,
    then the sections' answers."""
    base, token = url.split("/?token=")
    times = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:
        await c.get(f"/?token={token}")  # takes the cookie
        for _ in range(loads):
            start = time.perf_counter()
            page = await c.get("/")
            page.raise_for_status()
            await asyncio.gather(*(c.get(p) for p in _ASSET.findall(page.text)))
            answers = await asyncio.gather(*(c.get(p) for p in _APIS))
            for a in answers:
                a.raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return times


_READY = "body[data-state=ready]"
_PAINTED = "performance.getEntriesByType('paint').length > 0"


# From the start of the navigation (the token's redirect included): the load event's end,
# the first screen on screen, and every section drawn. The first screen: the frame after
# the page's script ran (data-painted-ms; the script runs once the whole page is parsed, so
# the overview the daemon drew into it is all there), at the latest; on a page whose script
# drew the overview and held the first paint until then, the first paint.
_TIMES = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByType("paint").find((e) => e.name === "first-paint");
  const screen = document.body.dataset.paintedMs;
  return [nav.loadEventEnd, screen ? Number(screen) : paint ? paint.startTime : NaN,
    Number(document.body.dataset.readyMs)];
}"""


class Loads:
    """What the browser measured over the loads of one page."""

    def __init__(self) -> None:
        self.load: list[float] = []
        self.screen: list[float] = []
        self.ready: list[float] = []
        self.cpu: list[float] = []


def browser_side(urls: list[str], loads: int) -> list[Loads] | str:
    """Fresh loads of each page, taking turns (the first round warms Chromium up)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "skipped: playwright is not installed (pip install -e '.[test]')"
    if not shutil.which(CHROMIUM):
        return f"skipped: no Chromium at {CHROMIUM} (apt-get install chromium)"
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    args += ["--disable-component-update", "--disable-sync", "--no-first-run"]
    out = [Loads() for _ in urls]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            for n in range(loads + 1):
                for url, seen in zip(urls, out, strict=True):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    cdp = context.new_cdp_session(page)
                    cdp.send("Performance.enable")
                    before = _metric(cdp, "ThreadTime")
                    page.goto(url)
                    # "attached": a visibility check would force style and layout passes that
                    # are Playwright's, not the page's
                    page.wait_for_selector(_READY, state="attached", timeout=30_000)
                    thread_ms = (_metric(cdp, "ThreadTime") - before) * 1000
                    # the first paint may come after the last section is drawn
                    page.wait_for_function(_PAINTED, timeout=10_000)
                    if n:
                        load, screen, ready = page.evaluate(_TIMES)
                        seen.load.append(load)
                        seen.screen.append(screen)
                        seen.ready.append(ready)
                        seen.cpu.append(thread_ms)
                    context.close()
        finally:
            browser.close()
    return out


def _metric(cdp: Any, name: str) -> float:
    for m in cdp.send("Performance.getMetrics")["metrics"]:
        if m["name"] == name:
            return float(m["value"])
    return float("nan")


async def live_latency(home: Path, url: str, samples: int) -> list[float]:
    base, token = url.split("/?token=")
    paths = resolve(home)
    out = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as c,
        await DaemonClient.connect(paths) as client,
    ):
        await c.get(f"/?token={token}")
        async with c.stream("GET", "/api/live") as stream:
            lines = stream.aiter_lines()
            while await anext(lines) != "event: hello":
                pass
            for i in range(samples):
                start = time.perf_counter()
                await client.call("budget.set", {"daily_usd": 100 + i})
                while True:
                    line = await anext(lines)
                    if line.startswith("data: {") and json.loads(line[6:])["kind"] == "budget.set":
                        break
                out.append((time.perf_counter() - start) * 1000)
    return out


def _fmt(times: list[float]) -> str:
    return (
        f"median {statistics.median(times):.0f} ms, min {min(times):.0f} ms, "
        f"max {max(times):.0f} ms over {len(times)} loads"
    )


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--optimizations", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--compare", metavar="REF", help="also run this commit's dashboard")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="promptd-bench-dash-"))
    sites = [Site("this", root / "this", None)]
    try:
        print(f"machine: {os.cpu_count()} cores, load average {_load()} (other work slows these)")
        if args.compare:
            (root / "old").mkdir()
            sites.insert(
                0, Site(args.compare, root / "before", checkout(args.compare, root / "old"))
            )
        started = time.perf_counter()
        for site in sites:
            events = build_log(site.home, args.optimizations)
        print(
            f"log: {args.optimizations:,} optimizations, {events:,} events "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        for site in sites:
            site.start()
        for site in sites:
            print(f"[{site.name}] daemon idle {site.settle():.0f} s after its start")
        for site in sites:
            server = asyncio.run(server_side(site.url, args.loads))
            print(f"[{site.name}] server: every request of one page load: {_fmt(server)}")
        browser = browser_side([s.url for s in sites], args.loads)
        if isinstance(browser, str):
            print(f"browser: {browser}")
        else:
            for site, seen in zip(sites, browser, strict=True):
                print(
                    f"[{site.name}] browser: navigation to the page loaded (load event): "
                    f"{_fmt(seen.load)} (target < 300 ms)"
                )
                print(
                    f"[{site.name}] browser: navigation to the first screen on screen (the "
                    f"overview, charts included): {_fmt(seen.screen)}"
                )
                print(
                    f"[{site.name}] browser: navigation to every section drawn: {_fmt(seen.ready)}"
                )
                print(
                    f"[{site.name}] browser: CPU time of the page's main thread per load: "
                    f"median {statistics.median(seen.cpu):.0f} ms"
                )
            print(f"machine: load average {_load()} after the browser's loads")
        this = sites[-1]
        live = asyncio.run(live_latency(this.home, this.url, 20))
        print(
            f"[{this.name}] live: an event reaches the page's stream "
            f"{statistics.median(live):.1f} ms (median, max {max(live):.1f} ms) after it is "
            "appended (target < 1 s)"
        )
    finally:
        for site in sites:
            site.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

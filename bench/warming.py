"""Cache-warming benchmark: what the first request on a prompt costs, cold and warmed.

A real daemon process (its own home) against a loopback chat-completions server that takes
``LATENCY_S`` per call. For ``PROMPTS`` complex prompts:

1. cold: ``promptd lint --engine llm`` on half of them, ``promptd optimize`` on the other
   half, with nothing cached: wall time per command and LLM calls;
2. warmed: the same on fresh prompts after ``analysis.warm`` and waiting for the queue to
   empty: wall time per command and calls (a warmed lint makes none, a warmed optimization
   one, the Designer);
3. how long the one warm worker takes per prompt, and whether a request made while it works
   waits for it (``status`` round trips during warming, p50/max).

Run: .venv/bin/python bench/warming.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from promptd.daemon import api
from promptd.daemon.client import Client
from promptd.daemon.paths import resolve
from tests.daemon.providers.loopback import LoopbackServer

LATENCY_S = 1.0
PROMPTS = 6


def prompt(i: int, tag: str) -> str:
    return (
        f"{tag} {i}: You are a senior analyst. Write a detailed report on the quarterly sales "
        "data below, then compare it with last year, also summarize the three biggest risks "
        "and list concrete actions. Keep it under 800 words.\n\n"
        + "Row: region, units, revenue.\n"
        * 20
    )


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="pw") as tmp,
        LoopbackServer(latency_s=LATENCY_S, echo=True) as server,
    ):
        home = Path(tmp)
        (home / "config.toml").write_text(
            f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\n'
            'model = "grok-4.3"\n[backup]\nenabled = false\n[inbox]\nenabled = false\n'
        )
        env = {**os.environ, "PROMPTD_HOME": str(home)}
        env.pop("XAI_API_KEY", None)
        os.environ["PROMPTD_HOME"] = str(home)
        exe = str(Path(sys.executable).with_name("promptd"))

        def run(*args: str) -> float:
            t0 = time.perf_counter()
            subprocess.run([exe, *args], env=env, capture_output=True, check=True)
            return time.perf_counter() - t0

        def timed(tag: str) -> tuple[list[float], list[float], int]:
            before = len(server.bodies)
            lints = [run("lint", "--engine", "llm", prompt(i, tag)) for i in range(PROMPTS // 2)]
            opts = [run("optimize", "--json", prompt(i, tag)) for i in range(PROMPTS // 2, PROMPTS)]
            return lints, opts, len(server.bodies) - before

        subprocess.run([exe, "start"], env=env, check=True, capture_output=True)
        try:
            cold_lint, cold_opt, cold_calls = timed("cold")
            paths = resolve()
            with Client.connect(paths) as client:
                t0 = time.perf_counter()
                client.call(
                    "analysis.warm",
                    api.WarmParams(prompts=[prompt(i, "warm") for i in range(PROMPTS)]),
                    result_type=api.WarmResult,
                )
                rtts = []
                while True:
                    s0 = time.perf_counter()
                    status = client.call("status", api.Empty(), result_type=api.StatusResult)
                    rtts.append(time.perf_counter() - s0)
                    if status.warming.done + status.warming.failed >= PROMPTS:
                        break
                    time.sleep(0.2)
                warm_wall = time.perf_counter() - t0
            warm_lint, warm_opt, warm_calls = timed("warm")
            final = json.loads(
                subprocess.run(
                    [exe, "status", "--json"], env=env, capture_output=True, text=True, check=True
                ).stdout
            )
        finally:
            subprocess.run([exe, "stop"], env=env, capture_output=True, check=False)

    half = PROMPTS // 2
    print(f"warming: {PROMPTS} complex prompts, loopback server at {LATENCY_S:.1f} s per call")
    print(
        f"  cold:   lint --engine llm {statistics.mean(cold_lint):.2f} s, "
        f"optimize {statistics.mean(cold_opt):.2f} s (mean of {half}); {cold_calls} calls"
    )
    print(
        f"  warmed: lint --engine llm {statistics.mean(warm_lint):.2f} s, "
        f"optimize {statistics.mean(warm_opt):.2f} s (mean of {half}); {warm_calls} calls"
    )
    print(
        f"  the worker: {PROMPTS} prompts in {warm_wall:.1f} s "
        f"({warm_wall / PROMPTS:.2f} s each, one at a time); status during it: "
        f"p50 {1000 * statistics.median(rtts):.1f} ms, max {1000 * max(rtts):.1f} ms"
    )
    w = final["warming"]
    print(
        f"  status: warming done {w['done']} (warmed {w['warmed']}), dropped {w['dropped']}, "
        f"failed {w['failed']}; lint tier hits {w['lint_hits']}, hit rate {w['lint_hit_rate']}"
    )


if __name__ == "__main__":
    main()

"""What a person sees of the LLM path: estimates, status, alerts, batch summaries.

Real daemon processes (``promptd`` subprocesses, their own home) against a loopback
chat-completions server; no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptd.daemon import process
from promptd.daemon.paths import Paths, resolve

from .loopback import LoopbackServer

LONG = "Write a report on the sales data below, then list the three biggest risks.\n" * 12


def promptd(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("promptd"))
    return subprocess.run(
        [exe, *args], capture_output=True, text=True, timeout=timeout, env=env or dict(os.environ)
    )


@pytest.fixture
def paths(promptd_home: Path) -> Iterator[Paths]:
    p = resolve()
    p.config_file.parent.mkdir(parents=True, exist_ok=True)
    yield p
    pid = process.running_pid(p)
    if pid is not None:
        promptd("stop", "--timeout", "10")
        if process.running_pid(p) == pid:
            os.kill(pid, 9)


def provider_config(paths: Paths, base_url: str, extra: str = "") -> None:
    paths.config_file.write_text(
        f'[provider]\nkind = "openai"\nbase_url = "{base_url}"\nmodel = "grok-4.3"\n'
        f"[backup]\nenabled = false\n{extra}"
    )


def test_estimate_without_a_key_and_one_count_of_calls(paths: Paths) -> None:
    est = promptd("optimize", "--engine", "llm", "--estimate", "--json", LONG)
    assert est.returncode == 0, est.stderr  # no key needed: the price table knows
    doc = json.loads(est.stdout)
    assert doc["engine"] == "llm" and doc["calls"] == 2 and doc["estimated_usd"] > 0
    short = json.loads(promptd("optimize", "--engine", "llm", "--estimate", "--json", "hi").stdout)
    assert short["calls"] == 1  # the fast route: the Designer only
    models = promptd("models")
    assert "a typical optimization (2 calls" in models.stdout


def test_status_shows_tiers_json_mode_and_the_alert(paths: Paths) -> None:
    with LoopbackServer(cost_ticks=None) as server:
        provider_config(paths, server.base_url)
        first = promptd("optimize", "--json", "--no-cache", LONG)
        assert first.returncode == 0, first.stderr
        cost = json.loads(first.stdout)["cost_usd"]
        assert cost > 0
        # a daily budget the next run crosses 80% of
        assert promptd("budget", "--daily", str(round(cost * 2.2, 8))).returncode == 0
        again = promptd("optimize", "--json", "--no-cache", LONG + "Be brief.\n")
        assert again.returncode == 0, again.stderr
        result = json.loads(again.stdout)
        assert result["alerts"] and result["alerts"][0].startswith("budget alert: the daily")
        assert "budget alert: the daily budget" in again.stderr and "resets at" in again.stderr
        third = promptd("optimize", "--json", "--no-cache", LONG + "Be kind.\n")
        assert "budget alert" not in third.stderr  # one alert per period and threshold
        status = json.loads(promptd("status", "--json").stdout)
        assert status["provider"]["json_mode"] == "json_schema"
        assert set(status["cache"]["tiers"]) == {"response", "optimization", "lint"}
        assert status["cache"]["tiers"]["lint"]["ttl_s"] == 7200
        assert status["spend"]["alerts"] == result["alerts"]
        shown = promptd("status").stdout
        assert "budget alert: the daily budget" in shown and "json_schema" in shown
        assert "budget alert" in paths.log_file.read_text()
        tokens = json.loads(promptd("costs", "--json").stdout)["tokens"]
        calls = len(server.bodies)  # the loopback: 900 prompt (600 cached), 150 out (50 reasoning)
        assert tokens == {
            "prompt": 900 * calls,
            "cached": 600 * calls,
            "completion": 100 * calls,  # reasoning is counted apart
            "reasoning": 50 * calls,
        }
        assert "tokens" in promptd("costs").stdout


def test_batch_summary_names_degraded_rows_and_the_daemon_without_a_key(
    paths: Paths, tmp_path: Path
) -> None:
    paths.config_file.write_text("[backup]\nenabled = false\n")
    env = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "OPENAI_API_KEY")}
    assert promptd("start", env=env).returncode == 0  # a daemon started without a key
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"prompt": "write some stuff about dogs"}\n{"prompt": "fix this {code}"}\n')
    done = promptd("batch", str(rows), "--engine", "llm", env={**env, "XAI_API_KEY": "k"})
    assert "this shell's settings say provider 'xai'" in done.stderr
    assert "uses 'offline'" in done.stderr and "promptd stop" in done.stderr


def test_daemon_log_has_retries_fallbacks_and_the_breaker(paths: Paths) -> None:
    with LoopbackServer(status=503) as server:
        provider_config(paths, server.base_url)
        text = paths.config_file.read_text().replace(
            'model = "grok-4.3"\n', 'model = "grok-4.3"\nretries = 2\nbreaker_failures = 1\n'
        )
        paths.config_file.write_text(text)
        done = promptd("optimize", "--json", "write some stuff about dogs")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["degraded"] is True
    text = paths.log_file.read_text()
    assert "retrying a call to grok-4.3 (attempt 2 of 2)" in text
    assert "circuit of openai: closed -> open" in text
    assert "answered degraded" in text and "HTTP 503" in text


def test_the_analysis_tier_serves_lint_and_then_optimize(paths: Paths) -> None:
    text = LONG + "Include some stuff about trends.\n"
    with LoopbackServer(echo=True) as server:  # a Designer that edits minimally
        provider_config(paths, server.base_url)
        first = promptd("lint", "--engine", "llm", "--json", text)
        assert first.returncode in (0, 1), first.stderr
        assert [f["code"] for f in json.loads(first.stdout)] == ["PD003"]
        again = promptd("lint", "--engine", "llm", text)
        assert "from the lint cache" in again.stdout
        assert len(server.bodies) == 1  # one analysis call for both lints
        done = promptd("optimize", "--json", text)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["route"] == "full" and not result["degraded"]
        # the analysis came from the lint tier: the optimization asked only the Designer
        assert len(server.bodies) == 2
        assert server.bodies[1]["messages"][0]["content"].startswith("You are the Designer")
        tiers = json.loads(promptd("status", "--json").stdout)["cache"]["tiers"]
        assert tiers["lint"]["hits"] == 2 and tiers["lint"]["misses"] == 1


def test_sighup_applies_new_cache_ttls(paths: Paths) -> None:
    import signal
    import time

    paths.config_file.write_text("[backup]\nenabled = false\n")
    assert promptd("start").returncode == 0
    pid = process.running_pid(paths)
    assert pid is not None
    prompt = "write some stuff about dogs for {audience}!!!"
    assert json.loads(promptd("optimize", "--json", prompt).stdout)["cached"] is False
    assert json.loads(promptd("optimize", "--json", prompt).stdout)["cached"] is True
    paths.config_file.write_text("[backup]\nenabled = false\n[cache]\noptimization_ttl_s = 0\n")
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while True:  # the reload is done when status shows the new TTL
        tiers = json.loads(promptd("status", "--json").stdout)["cache"]["tiers"]
        if tiers["optimization"]["ttl_s"] == 0:
            break
        assert time.monotonic() < deadline, "the reload did not happen"
        time.sleep(0.05)
    assert json.loads(promptd("optimize", "--json", prompt).stdout)["cached"] is False


def test_optimize_llm_on_a_daemon_started_without_the_key_says_how_to_apply_it(
    paths: Paths,
) -> None:
    paths.config_file.write_text("[backup]\nenabled = false\n")
    env = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY", "OPENAI_API_KEY")}
    assert promptd("start", env=env).returncode == 0
    done = promptd("optimize", "--engine", "llm", "hello there", env={**env, "XAI_API_KEY": "k"})
    assert done.returncode != 0
    assert "needs a provider" in done.stderr  # what is wrong...
    assert "uses 'offline'" in done.stderr and "promptd stop" in done.stderr  # ...and what to do


def test_the_batch_summary_says_how_many_rows_were_degraded_and_why() -> None:
    from promptd.daemon import api
    from promptd.daemon.cli.batch import _summary

    info = api.BatchInfo(
        id="b_1",
        file_name="/x/rows.jsonl",
        done=10,
        total=10,
        rate_per_s=1.0,
        eta_s=0.0,
        cost_usd=0.0,
        state="completed",
        degraded=10,
        degraded_reason="the llm engine failed (no key); answered by the offline engine",
    )
    assert _summary(info) == (
        "rows.jsonl: 10/10 prompts, $0.00; 10 degraded: the llm engine failed (no key); "
        "answered by the offline engine"
    )

"""``promptd eval`` as a person runs it: real daemon processes against a loopback
chat-completions server (no network), then ``promptd show`` and the dashboard's detail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptd.daemon.paths import Paths

from ..providers.test_cli_llm import paths, promptd, provider_config
from .fake_model import EvalLoopback, kind_of

__all__ = ["paths"]  # the fixture, shared with the LLM CLI tests

DOGS = "write some stuff about dogs for {audience}, make it good and DONT make it boring!!!"
SAMPLES = (
    '{"vars": {"audience": "children"}, "expected": "short and friendly"}\n'
    '{"vars": {"audience": "vets"}, "criteria": ["accurate", "uses medical terms"]}\n'
)


@pytest.fixture
def rewrite(paths: Paths) -> Iterator[str]:
    """An optimization of DOGS by the offline engine (a real rewrite), then the daemon
    stopped so the next command starts one with the provider of the test."""
    done = promptd("optimize", "--json", DOGS)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["changed"] and "{audience}" in result["optimized"]
    assert promptd("stop").returncode == 0
    yield result["id"]


def write(paths: Paths, name: str, text: str) -> str:
    path = paths.config_file.parent / name
    path.write_text(text)
    return str(path)


def test_on_the_offline_engine_eval_refuses_and_says_what_to_do(paths: Paths) -> None:
    original = write(paths, "a.prompt", "Summarize {doc}.")
    candidate = write(paths, "b.prompt", "Summarize {doc} in three bullets.")
    done = promptd("eval", "--original", original, "--candidate", candidate, "--yes")
    assert done.returncode == 2
    assert done.stderr.startswith("promptd: eval runs both prompts on a model, and this daemon")
    assert "set XAI_API_KEY" in done.stderr and done.stdout == ""


def test_eval_of_an_optimization_then_show_and_the_dashboard(paths: Paths, rewrite: str) -> None:
    samples = write(paths, "samples.jsonl", SAMPLES)
    with EvalLoopback() as server:
        provider_config(paths, server.base_url)
        # no terminal to ask on and no --yes: nothing is spent
        asked = promptd("eval", rewrite, "--inputs", samples)
        assert asked.returncode == 2
        assert "eval: 2 sample(s) = 2 comparison(s) on grok-4.3: 8 calls, about $" in asked.stderr
        assert "there is no terminal to ask on; run it again with --yes to confirm" in asked.stderr
        assert server.bodies == []
        done = promptd("eval", rewrite, "--inputs", samples, "--yes", "--json")
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert [kind_of(b) for b in server.bodies] == ["target", "target", "judge", "judge"] * 2
        # the optimized prompt is longer, so its answers are: the judge prefers them
        assert (doc["wins"], doc["ties"], doc["losses"]) == (2, 0, 0)
        assert doc["status"] == "completed" and doc["opt_id"] == rewrite and not doc["drafted"]
        assert doc["cost_usd"] == pytest.approx(8 * 1000 / 1e10)
        assert doc["verdicts"][1]["inputs"] == {"audience": "vets"}
        judge = next(b for b in server.bodies if kind_of(b) == "judge")
        assert "children" in judge["messages"][1]["content"]
        text = promptd("eval", rewrite, "--inputs", samples, "--yes")
        assert text.returncode == 0, text.stderr
        assert "candidate vs original: 2 win(s), 0 tie(s), 0 loss(es)" in text.stdout
        assert "win rate 100% (ties count half), 95% interval 34%-100%" in text.stdout
        assert "8 calls, 8 from cache" in text.stdout  # the same calls again: the cache
        shown = promptd("show", rewrite)
        assert shown.returncode == 0, shown.stderr
        assert "evaluations (promptd eval)" in shown.stdout
        assert doc["eval_id"] in shown.stdout and "2/0/0" in shown.stdout
        assert "answers in more detail" in shown.stdout  # the judge's reasons
        listed = json.loads(promptd("show", rewrite, "--json").stdout)["evaluations"]
        assert next(e["eval_id"] for e in listed) == doc["eval_id"] and len(listed) == 2
        assert listed[0]["wins"] == 2 and listed[0]["low"] == doc["low"]
        from promptd.daemon.dashboard import data
        from promptd.daemon.projections import open_log

        log = open_log(paths.events, readonly=True)
        try:
            with log.view() as view:
                detail = data.detail(view, rewrite)
        finally:
            log.close()
        assert next(e["eval_id"] for e in detail["evaluations"]) == doc["eval_id"]


def test_drafted_inputs_are_marked(paths: Paths) -> None:
    original = write(paths, "a.prompt", "Summarize {doc}.")
    candidate = write(paths, "b.prompt", "Summarize {doc} in three bullets for a busy reader.")
    with EvalLoopback() as server:
        provider_config(paths, server.base_url)
        args = ("eval", "--original", original, "--candidate", candidate, "--yes")
        done = promptd(*args)
        assert done.returncode == 0, done.stderr
        assert "eval: 5 drafted sample(s) = 5 comparison(s) on grok-4.3: 21 calls" in done.stderr
        assert "(inputs drafted by the model)" in done.stdout
        assert kind_of(server.bodies[0]) == "draft"


def test_a_bad_inputs_file_names_the_line(paths: Paths) -> None:
    original = write(paths, "a.prompt", "Summarize {doc} for {audience}.")
    candidate = write(paths, "b.prompt", "Summarize {doc} for {audience}, briefly.")
    bad = write(
        paths, "bad.jsonl", '{"vars": {"doc": "x", "audience": "y"}}\n{"vars": {"doc": 1}}\n'
    )
    with EvalLoopback() as server:
        provider_config(paths, server.base_url)
        args = ("eval", "--original", original, "--candidate", candidate, "--inputs", bad)
        done = promptd(*args, "--yes")
        assert done.returncode == 2
        assert f"{bad} line 2: no value for 'audience' (a placeholder of the original)" in (
            done.stderr
        )
        assert server.bodies == []


def test_a_refused_budget_stops_the_eval_and_says_what_was_spent(paths: Paths) -> None:
    original = write(paths, "a.prompt", "Summarize {doc}.")
    candidate = write(paths, "b.prompt", "Summarize {doc} in three bullets.")
    samples = write(paths, "s.jsonl", '{"vars": {"doc": "tides"}}\n{"vars": {"doc": "moons"}}\n')
    with EvalLoopback() as server:
        provider_config(paths, server.base_url)
        assert promptd("budget", "--daily", "0.0000001").returncode == 0
        args = ("eval", "--original", original, "--candidate", candidate, "--inputs", samples)
        done = promptd(*args, "--yes", "--json")
        assert done.returncode == 1
        assert "the daily budget has $0.0000 left, less than the most this eval can cost" in (
            done.stderr
        )
        doc = json.loads(done.stdout)  # the partial result is still one JSON document
        assert doc["status"] == "stopped" and "daily budget" in doc["stopped_reason"]
        assert "promptd: eval stopped after 0 of 2 comparison(s): the daily budget" in done.stderr
        assert "--engine offline" not in done.stderr  # no such option here
        assert done.stderr.endswith("; spent $0.00 on 0 call(s)\n")
        assert server.bodies == []


def test_eval_run_over_json_rpc_sends_progress_per_sample(paths: Paths) -> None:
    from promptd.daemon.api import Progress
    from promptd.daemon.client import Client
    from promptd.daemon.evals.types import EvalEstimate, EvalParams, EvalResult

    params = EvalParams(
        original="Summarize {doc}.",
        candidate="Summarize {doc} in three bullets.",
        inputs='{"vars": {"doc": "tides"}}\n{"vars": {"doc": "moons"}}\n',
        source="api",
    )
    with EvalLoopback() as server:
        provider_config(paths, server.base_url)
        seen: list[Progress] = []
        with Client.connect(paths, autostart=True, timeout=30) as client:
            est = client.call("eval.estimate", params, result_type=EvalEstimate, timeout=30)
            assert (est.samples, est.comparisons, est.calls) == (2, 2, 8)
            assert server.bodies == []  # an estimate calls nothing
            result = client.call(
                "eval.run", params, result_type=EvalResult, on_progress=seen.append, timeout=60
            )
    assert result.status == "completed" and result.wins == 2
    assert [(p.kind, p.message, p.done, p.total) for p in seen] == [
        ("eval", "sample 1", 0, 2),
        ("eval", "sample 2", 1, 2),
        ("eval", "done", 2, 2),
    ]
    assert seen[-1].cost_usd == pytest.approx(8 * 1000 / 1e10)


def _at_a_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """Run ``promptd ARGS`` with stdin and stderr on a pseudo-terminal, typing ``answer``
    when it asks; its exit code and what the terminal showed."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    main, secondary = pty.openpty()
    exe = str(Path(sys.executable).with_name("promptd"))
    proc = subprocess.Popen(
        [exe, *args], stdin=secondary, stdout=subprocess.PIPE, stderr=secondary, close_fds=True
    )
    os.close(secondary)
    shown = b""
    deadline = time.monotonic() + 60
    try:
        while b"Run it?" not in shown:
            assert time.monotonic() < deadline, f"no question asked: {shown!r}"
            ready, _, _ = select.select([main], [], [], 1)
            if ready:
                shown += os.read(main, 4096)
        os.write(main, answer)
        code = proc.wait(60)
        while select.select([main], [], [], 0.2)[0]:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
        assert proc.stdout is not None
        proc.stdout.close()
    return code, shown.decode(errors="replace")


def test_at_a_terminal_it_asks_first_and_no_spends_nothing(paths: Paths) -> None:
    original = write(paths, "a.prompt", "Summarize {doc}.")
    candidate = write(paths, "b.prompt", "Summarize {doc} in three bullets.")
    samples = write(paths, "s.jsonl", '{"vars": {"doc": "tides"}}\n')
    args = ["eval", "--original", original, "--candidate", candidate, "--inputs", samples]
    with EvalLoopback() as server:
        provider_config(paths, server.base_url)
        code, shown = _at_a_terminal(args, b"n\n")
        assert code == 1
        assert "eval: 1 sample(s) = 1 comparison(s) on grok-4.3: 4 calls" in shown
        assert server.bodies == []
        code, shown = _at_a_terminal(args, b"y\n")
        assert code == 0, shown
        assert [kind_of(b) for b in server.bodies] == ["target", "target", "judge", "judge"]

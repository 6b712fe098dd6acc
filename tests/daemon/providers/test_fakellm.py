"""promptd against an OpenAI-compatible server that is not ours: PyPI's ``fakellm``.

fakellm (a test extra) is a real HTTP server (FastAPI + uvicorn) that answers
``/v1/chat/completions`` by rules matched on the request. It answers with its own response
shapes and token counts, so this checks our client against someone else's idea of the API.
A real daemon process points at it. Skipped only when fakellm cannot be imported.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from promptd.daemon import process
from promptd.daemon.paths import Paths, resolve

pytest.importorskip("fakellm", reason="fakellm (the test extra) is not installed")

PROMPT = (
    "write some stuff about dogs for {audience}, then list three facts about their history. "
    "keep it short!!!"
)
REWRITE = (
    "Write an engaging piece about dogs for {audience}, then list three facts about their "
    "history. Keep it short."
)
ANALYSIS = {
    "deconstruction": {
        "role": "",
        "tasks": [
            "write some stuff about dogs for {audience}",
            "list three facts about their history",
        ],
        "audience": "{audience}",
        "context": "",
        "constraints": ["keep it short!!!"],
        "output_format": "",
        "examples": [],
        "input_data": [],
        "placeholders": ["{audience}"],
    },
    "findings": [
        {
            "code": "PD003",
            "severity": "warning",
            "message": "Say what about dogs.",
            "quote": "some stuff",
            "needs_input": True,
        },
        {
            "code": "PD008",
            "severity": "info",
            "message": "An invented problem.",
            "quote": "cats and parrots",  # not in the prompt: dropped
            "needs_input": False,
        },
    ],
}
DESIGN = {"prompt": REWRITE, "changes": [{"description": "Removed shouting", "findings": []}]}


def _yaml(rules: list[dict[str, object]]) -> str:
    """fakellm.yaml (JSON is YAML)."""
    return json.dumps({"version": 1, "rules": rules})


RULES = [
    # a model that refuses json_schema as llama.cpp's server does: HTTP 500 naming it; asked
    # again with json_object (whose system prompt carries the <schema>), it answers
    {
        "name": "refuser-json-object",
        "when": {"model_matches": "refuser*", "messages_contain": "<schema>"},
        "respond": {"content": json.dumps(DESIGN)},
    },
    {
        "name": "refuser-json-schema",
        "when": {"model_matches": "refuser*"},
        "respond": {
            "status": 500,
            "error": "1 validation error: response_format.type: Input should be 'text' or "
            "'json_object'",
        },
    },
    {
        "name": "analysis",
        "when": {"messages_contain": "You are the Deconstructor and the Diagnoser"},
        "respond": {"content": json.dumps(ANALYSIS)},
    },
    {
        "name": "designer",
        "when": {"messages_contain": "You are the Designer"},
        "respond": {"content": json.dumps(DESIGN)},
    },
]


def promptd(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("promptd"))
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fakellm(tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "fakellm.yaml"
    config.write_text(_yaml(RULES))
    port = free_port()
    exe = str(Path(sys.executable).with_name("fakellm"))
    log = tmp_path / "fakellm.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/_fakellm/stats", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(5)
            raise AssertionError(f"fakellm did not start: {log.read_text()[-500:]}")
        time.sleep(0.05)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


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


def test_an_optimization_against_fakellm(paths: Paths, fakellm: str) -> None:
    paths.config_file.write_text(
        f'[provider]\nkind = "openai"\nbase_url = "{fakellm}/v1"\nmodel = "grok-4.3"\n'
        "[backup]\nenabled = false\n"
    )
    done = promptd("optimize", "--json", "--no-cache", PROMPT)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["engine"] == "llm" and not result["degraded"], result["degraded_reason"]
    assert result["optimized"] == REWRITE and result["route"] == "full"
    # the model's findings that point at the prompt, and not the invented one
    assert [f["code"] for f in result["findings"]] == ["PD003"]
    span = result["findings"][0]["span"]
    assert PROMPT[span["start"] : span["end"]] == "some stuff"
    assert result["cost_usd"] > 0  # from fakellm's own token counts and the price table
    costs = json.loads(promptd("costs", "--json").stdout)
    assert costs["tokens"]["prompt"] > 0 and costs["tokens"]["completion"] > 0
    assert sum(r["calls"] for r in costs["by_day"]) == 2  # two round trips, two calls


def test_a_500_refusing_json_schema_falls_back_to_json_object(paths: Paths, fakellm: str) -> None:
    paths.config_file.write_text(
        f'[provider]\nkind = "openai"\nbase_url = "{fakellm}/v1"\nmodel = "refuser-1"\n'
        "[backup]\nenabled = false\n"
    )
    short = "write some stuff about dogs for {audience}!!!"
    done = promptd("optimize", "--json", "--no-cache", short)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # answered by the model in json_object mode (its rewrite then meets the guards)
    assert result["engine"] == "llm" and not result["degraded"], result["degraded_reason"]
    status = json.loads(promptd("status", "--json").stdout)
    assert status["provider"]["json_mode"] == "json_object"
    assert status["provider"]["json_modes"] == {"refuser-1": "json_object"}
    assert status["provider"]["circuit"] == "closed"  # a refusal is not an outage
    assert "refuses response_format json_schema" in paths.log_file.read_text()
    # a reload (SIGHUP) keeps what the endpoint refuses: no second failed call to learn it
    pid = process.running_pid(paths)
    assert pid is not None
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "config reloaded" not in paths.log_file.read_text():
        assert time.monotonic() < deadline, "the daemon did not reload"
        time.sleep(0.05)
    status = json.loads(promptd("status", "--json").stdout)
    assert status["provider"]["json_modes"] == {"refuser-1": "json_object"}

"""Cache warming in a real daemon: ``analysis.warm`` and the library folders fill the lint tier.

Real daemon processes against a loopback chat-completions server; the server counts the
calls, ``status --json`` shows the warming figures and the lint tier's hits.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from promptd.daemon import api
from promptd.daemon.client import Client
from promptd.daemon.errors import RPCError
from promptd.daemon.paths import Paths

from .loopback import LoopbackServer
from .test_cli_llm import LONG, paths, promptd, provider_config

__all__ = ["paths"]

TEXT = LONG + "Include some stuff about trends.\n"


def status(deadline_s: float = 30, until: Any = None) -> dict[str, Any]:
    """``status --json``; with ``until``, polled until ``until(doc)`` holds (or fail)."""
    deadline = time.monotonic() + deadline_s
    while True:
        done = promptd("status", "--json")
        assert done.returncode == 0, done.stderr
        doc: dict[str, Any] = json.loads(done.stdout)
        if until is None or until(doc):
            return doc
        assert time.monotonic() < deadline, f"status never got there: {doc['warming']}"
        time.sleep(0.1)


def warm(paths: Paths, prompts: list[str], source: str = "lsp") -> api.WarmResult:
    with Client.connect(paths, autostart=True) as client:
        result: api.WarmResult = client.call(
            "analysis.warm",
            api.WarmParams(prompts=prompts, source=source),
            result_type=api.WarmResult,
        )
    return result


def test_a_warmed_prompt_is_a_lint_hit_and_saves_the_optimization_a_call(paths: Paths) -> None:
    with LoopbackServer(echo=True) as server:
        provider_config(paths, server.base_url)
        assert promptd("start").returncode == 0
        assert warm(paths, [TEXT, TEXT]) == api.WarmResult(queued=2, dropped=0)
        doc = status(until=lambda d: d["warming"]["done"] >= 1 and d["warming"]["queued"] == 0)
        assert doc["warming"]["warmed"] == 1 and doc["warming"]["dropped"] == 0
        assert len(server.bodies) == 1  # one analysis, asked before anyone linted
        lint_tier = doc["cache"]["tiers"]["lint"]
        assert (lint_tier["hits"], lint_tier["misses"]) == (0, 0)  # warming is not a lookup

        linted = promptd("lint", "--engine", "llm", TEXT)
        assert "from the lint cache" in linted.stdout, linted.stdout + linted.stderr
        assert len(server.bodies) == 1
        done = promptd("optimize", "--json", TEXT)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["engine"] == "llm"
        kinds = [b["messages"][0]["content"][:40] for b in server.bodies[1:]]
        assert len(kinds) == 1  # the Designer only: the analysis came from the lint tier
        doc = status(until=lambda d: d["cache"]["tiers"]["lint"]["hits"] >= 2)
        assert doc["warming"]["lint_hits"] == 2 and doc["warming"]["lint_hit_rate"] == 1.0
        assert "warming" in promptd("status").stdout

        # again: the analysis is in the cache, so warming makes no call
        warm(paths, [TEXT])
        status(until=lambda d: d["warming"]["done"] >= 2)
        assert len(server.bodies) == 2


def test_the_library_folders_are_warmed(paths: Paths, tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "report.prompt").write_text(TEXT)
    with LoopbackServer() as server:
        provider_config(paths, server.base_url, f'[library]\npaths = ["{folder}"]\n')
        assert promptd("start").returncode == 0
        status(until=lambda d: d["warming"]["done"] >= 1)
        assert len(server.bodies) == 1
        linted = promptd("lint", "--engine", "llm", TEXT)
        assert "from the lint cache" in linted.stdout, linted.stdout + linted.stderr
        # a file added while the daemon runs is warmed too
        (folder / "second.prompt").write_text(TEXT + "Add a summary table.\n")
        status(until=lambda d: d["warming"]["done"] >= 2)
        assert len(server.bodies) == 2


def test_bad_warm_requests_say_what_is_wrong(paths: Paths) -> None:
    paths.config_file.write_text("[backup]\nenabled = false\n")
    with pytest.raises(RPCError, match="at most 64 prompts a call, not 65"):
        warm(paths, ["a prompt"] * 65)
    with pytest.raises(RPCError, match="prompt 2 is empty"):
        warm(paths, ["a prompt", "  "])
    with pytest.raises(RPCError, match=r"prompt 1 has 100,001 characters"):
        warm(paths, ["x" * 100_001])
    offline = warm(paths, ["a prompt"])  # the offline engine has no analysis cache
    assert (offline.queued, offline.skipped) == (0, 1)
    assert "offline engine" in offline.reason
    assert status()["warming"]["skipped"] == 1


def test_warming_can_be_turned_off(paths: Paths) -> None:
    with LoopbackServer() as server:
        provider_config(paths, server.base_url, "[cache]\nwarm = false\n")
        off = warm(paths, [TEXT])
        assert (off.queued, off.skipped) == (0, 1) and "cache.warm" in off.reason
        assert status()["warming"]["skipped"] == 1 and server.bodies == []

"""The Designer's search_library tool: the model decides what to look up, at most twice a
run, each lookup recorded with its cost; an endpoint that refuses tools is asked without them
(remembered), and a run that looks nothing up makes no extra round trip.

Against a loopback chat-completions server whose Designer asks for a lookup (no key, no
network); the daemon runs in this event loop.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from promptd.daemon.events import LibrarySearched, ProviderCallCompleted
from promptd.daemon.values import ticks_to_usd
from tests.daemon.inbox.harness import events, running_daemon, until
from tests.daemon.library.test_service import library, optimize
from tests.daemon.providers.loopback import LoopbackServer

PROMPT = "fix the bug in this python code {code} and explain what was wrong"
STYLE = "House style for Python bug fixes: the corrected code in one fenced block, then why."
QUERY = "python bug fix house style"


def _config(server: LoopbackServer, folder: Path) -> str:
    return (
        f'[provider]\nkind = "openai"\nbase_url = "{server.base_url}"\nmodel = "grok-4.3"\n'
        f"[inbox]\nstable_s = 0.2\n[backup]\nenabled = false\n"
        f"[library]\npaths = [{json.dumps(str(folder))}]\nretrieve_timeout_ms = 10000\n"
        # the tests count the model's calls: no background analysis of the library's files
        f"[cache]\nwarm = false\n"
    )


def _designer(server: LoopbackServer) -> list[dict[str, Any]]:
    return [
        b for b in server.bodies if b["messages"][0]["content"].startswith("You are the Designer")
    ]


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "style.md").write_text(f"{STYLE}\n{PROMPT}\nPython bug fix house style.\n")
    return folder


async def _ready(daemon: Any) -> None:
    service = library(daemon)
    # ready: the folder scan is over and retrieval answers (the count alone can come first)
    await until(
        lambda: service.ready and service.index.counts()["file"] == 1,
        30,
        "the library folder to be indexed",
    )


async def test_the_designer_looks_something_up_and_the_lookup_is_recorded_and_paid(
    promptd_home: Path, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    with LoopbackServer(echo=True, lookup=QUERY) as server:
        async with running_daemon(promptd_home, _config(server, folder)) as daemon:
            await _ready(daemon)
            result = await optimize(daemon, PROMPT)
            assert result.engine == "llm" and not result.degraded, result.degraded_reason

            designer = _designer(server)
            assert len(designer) == 2  # the answer that asked, then the answer that used it
            assert designer[0]["tools"][0]["function"]["name"] == "search_library"
            assert designer[0]["tool_choice"] == "auto"
            tool_answer = [m for m in designer[1]["messages"] if m["role"] == "tool"]
            assert tool_answer[0]["tool_call_id"] == "call_0" and STYLE in tool_answer[0]["content"]

            searched = [e for e in events(daemon, LibrarySearched) if e.opt_id == result.id]
            assert [s.query for s in searched] == [QUERY]
            style_ref = f"file:{(folder / 'style.md').resolve()}"
            assert [h.ref for h in searched[0].hits] == [style_ref]
            calls = [e for e in events(daemon, ProviderCallCompleted) if e.opt_id == result.id]
            asked = next(c for c in calls if c.call_id == searched[0].call_id)
            assert asked.agent == "designer" and searched[0].cost_ticks == asked.cost_ticks > 0
            assert asked.request_key == ""  # an answer asking for a tool is never reused
            assert result.cost_usd == ticks_to_usd(sum(c.cost_ticks for c in calls))

            looked = [g for g in result.grounding if g.query]
            assert [(g.ref, g.kind, g.source, g.query) for g in looked] == [
                (style_ref, "passage", "library", QUERY)
            ]


async def test_at_most_two_lookups_a_run(promptd_home: Path, tmp_path: Path) -> None:
    with LoopbackServer(echo=True, lookup=QUERY, lookups=5) as server:
        async with running_daemon(promptd_home, _config(server, _folder(tmp_path))) as daemon:
            await _ready(daemon)
            result = await optimize(daemon, PROMPT)
            assert result.engine == "llm" and not result.degraded, result.degraded_reason
            searched = [e for e in events(daemon, LibrarySearched) if e.opt_id == result.id]
            assert len(searched) == 2
            choices = [b["tool_choice"] for b in _designer(server)]
            assert choices == ["auto", "auto", "none"]  # then it must answer


async def test_an_endpoint_that_refuses_tools_is_asked_without_them_from_then_on(
    promptd_home: Path, tmp_path: Path
) -> None:
    with LoopbackServer(echo=True, lookup=QUERY, refuse_tools=True) as server:
        async with running_daemon(promptd_home, _config(server, _folder(tmp_path))) as daemon:
            await _ready(daemon)
            first = await optimize(daemon, PROMPT)
            second = await optimize(daemon, PROMPT + " in plain words")
            for result in (first, second):
                assert result.engine == "llm" and not result.degraded, result.degraded_reason
                # retrieved up front instead: the file is still given as context
                assert any(g.source == "library" and not g.query for g in result.grounding)
            with_tools = [b for b in _designer(server) if "tools" in b]
            assert len(with_tools) == 1  # refused once, remembered for this model
            assert events(daemon, LibrarySearched) == []


async def test_no_lookup_no_extra_round_trip(promptd_home: Path, tmp_path: Path) -> None:
    with LoopbackServer(echo=True) as server:  # a model that never uses the tool
        async with running_daemon(promptd_home, _config(server, _folder(tmp_path))) as daemon:
            await _ready(daemon)
            result = await optimize(daemon, PROMPT)
            assert result.route == "full" and not result.degraded
            designer = _designer(server)
            planned = [b for b in server.bodies if "Evaluator" not in b["messages"][0]["content"]]
            assert len(planned) == 2 and len(designer) == 1  # the analysis, the Designer
            assert designer[0]["tool_choice"] == "auto"  # offered, not used
            assert events(daemon, LibrarySearched) == []

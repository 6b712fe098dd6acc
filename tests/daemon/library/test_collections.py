"""xAI Collections through respx, against the documented request and response shapes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from promptd.daemon.events import CircuitChanged
from promptd.daemon.library import keeper, types
from promptd.daemon.library.collections import CollectionsClient, CollectionsError
from promptd.daemon.library.keeper import LibraryService
from tests.daemon.inbox.harness import events, running_daemon, until
from tests.daemon.library.test_service import _Call, indexed, library, optimize

SEARCH = "https://api.x.ai/v1/documents/search"
FILES = "https://api.x.ai/v1/files"
MATCHES = {
    "matches": [
        {
            "file_id": "file_style",
            "chunk_id": "c1",
            "chunk_content": "House style: write summaries as three bullet points of action items.",
            "score": 0.82,
            "collection_ids": ["collection_abc"],
        },
        {
            "file_id": "file_other",
            "chunk_id": "c9",
            "chunk_content": "Unrelated passage about invoices.",
            "score": 0.11,
            "collection_ids": ["collection_abc"],
        },
    ]
}


@respx.mock
async def test_search_sends_the_documented_request() -> None:
    route = respx.post(SEARCH).mock(return_value=httpx.Response(200, json=MATCHES))
    async with httpx.AsyncClient() as http:
        client = CollectionsClient(http, api_key="xai-test")
        matches = await client.search("summarize meeting notes", ["collection_abc"], limit=2)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer xai-test"
    assert json.loads(sent.content) == {
        "query": "summarize meeting notes",
        "source": {"collection_ids": ["collection_abc"]},
        "limit": 2,
    }
    assert [m.file_id for m in matches] == ["file_style", "file_other"]


@respx.mock
@pytest.mark.parametrize(
    ("status", "says"), [(401, "refused"), (404, "collection id"), (429, "rate limited")]
)
async def test_search_failures_say_what_to_do(status: int, says: str) -> None:
    respx.post(SEARCH).mock(return_value=httpx.Response(status, json={"error": "x"}))
    async with httpx.AsyncClient() as http:
        with pytest.raises(CollectionsError, match=says):
            await CollectionsClient(http, api_key="k").search("q", ["c"])


@respx.mock
async def test_upload_goes_through_files_then_the_management_api(tmp_path: Path) -> None:
    f = tmp_path / "style.md"
    f.write_text("House style guide")
    up = respx.post(FILES).mock(return_value=httpx.Response(200, json={"id": "file_123"}))
    add = respx.post(
        "https://management-api.x.ai/v1/collections/collection_abc/documents/file_123"
    ).mock(return_value=httpx.Response(200, json={}))
    async with httpx.AsyncClient() as http:
        client = CollectionsClient(http, api_key="xai-k", management_key="mgmt-k")
        assert await client.upload(f, "collection_abc") == "file_123"
    assert up.calls.last.request.headers["authorization"] == "Bearer xai-k"
    assert b"House style guide" in up.calls.last.request.content
    assert add.calls.last.request.headers["authorization"] == "Bearer mgmt-k"


async def test_upload_without_a_management_key_says_how_to_get_one(tmp_path: Path) -> None:
    f = tmp_path / "a.prompt"
    f.write_text("x")
    async with httpx.AsyncClient() as http:
        with pytest.raises(CollectionsError, match="XAI_MANAGEMENT_API_KEY"):
            await CollectionsClient(http, api_key="k").upload(f, "collection_abc")


def test_the_upload_command_refuses_without_the_key_and_stores_none(
    promptd_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "a.prompt").write_text("Summarize the notes.")
    env = {**os.environ, "XAI_API_KEY": "xai-secret-key"}
    promptd = str(Path(sys.executable).with_name("promptd"))
    args = [promptd, "library", "upload", str(tmp_path), "--collection", "c1"]
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "set XAI_MANAGEMENT_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    written = [p for p in promptd_home.rglob("*") if p.is_file()]
    assert not any(b"xai-secret-key" in p.read_bytes() for p in written)


# --- in a real daemon: merged ranking and the degrade paths --------------------------------
#
# Deterministic by construction: the daemon has no provider key in its environment (the
# conftest removes them), so it runs the offline engine and no optimization can go online;
# the library service gets the Collections key from a dict and its HTTP client from a
# MockTransport, so no request of it can reach a socket or a DNS lookup either.

QUERY = "summarize meeting notes into action items"
NOTES = "summarize the meeting notes into action items for the team"
COLLECTIONS_CONFIG = (
    '[inbox]\nstable_s = 0.2\n[library]\nxai_collections = ["collection_abc"]\n'
    "retrieve_timeout_ms = 10000\n"  # the local part must answer however loaded the machine is
)


async def step(what: str, work: Any, timeout: float = 60) -> Any:
    """``await work`` with a deadline that names the step (a hang fails where it happens)."""
    try:
        return await asyncio.wait_for(work, timeout)
    except TimeoutError:
        raise AssertionError(f"{what} did not finish within {timeout:g} s") from None


def _offline_daemon_with(daemon: Any, handler: Callable[[httpx.Request], Any]) -> LibraryService:
    service = library(daemon)
    service.environ = {"XAI_API_KEY": "xai-test"}  # never the process environment
    service.http_factory = lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return service


async def test_search_merges_collection_hits_and_degrades_to_local(promptd_home: Path) -> None:
    assert "XAI_API_KEY" not in os.environ and "OPENAI_API_KEY" not in os.environ
    answers = [httpx.Response(200, json=MATCHES)] + [httpx.Response(503, text="down")] * 3
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return answers.pop(0)

    async with running_daemon(promptd_home, COLLECTIONS_CONFIG) as daemon:
        service = _offline_daemon_with(daemon, handler)
        first = await step("the optimization", optimize(daemon, NOTES))
        assert first.engine == "offline" and sent == []  # offline: Collections not asked
        await step("indexing", indexed(daemon, 1))
        params = types.SearchParams(text=QUERY)

        found = await step("the first search", service.search(params, _Call()))
        assert [str(r.url) for r in sent] == [SEARCH]
        assert sent[0].headers["authorization"] == "Bearer xai-test"
        assert json.loads(sent[0].content)["source"] == {"collection_ids": ["collection_abc"]}
        assert found.degraded_reason == ""
        # one ranking: the local hit (closest in words) first, then the passages by similarity
        assert [(h.source, h.ref) for h in found.hits] == [
            ("local", f"opt:{first.id}"),
            ("xai", "collection:collection_abc/file_style#c1"),
            ("xai", "collection:collection_abc/file_other#c9"),
        ]
        sims = [h.similarity for h in found.hits]
        assert sims == sorted(sims, reverse=True) and sims[0] > sims[1] > sims[2]

        for n in range(3):  # Collections down: local hits, with the reason
            down = await step(f"failing search {n + 1}", service.search(params, _Call()))
            assert [h.ref for h in down.hits] == [f"opt:{first.id}"]
            assert "HTTP 503" in down.degraded_reason and "local hits only" in down.degraded_reason
            assert len(sent) == 2 + n
        # three failures opened the breaker
        opened = await step("the search with the breaker open", service.search(params, _Call()))
        assert "breaker open" in opened.degraded_reason
        assert [h.ref for h in opened.hits] == [f"opt:{first.id}"]
        assert len(sent) == 4  # the open breaker made no call
        await until(
            lambda: (
                [(e.provider, e.new) for e in events(daemon, CircuitChanged)]
                == [("xai-collections", "open")]
            ),
            10,
            "the breaker's opening to be recorded",
        )


async def test_grounding_degrades_when_collections_hang_or_the_breaker_is_open(
    promptd_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keeper, "GROUND_COLLECTIONS_TIMEOUT_S", 0.3)
    never = asyncio.Event()
    sent: list[httpx.Request] = []

    async def hang(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        await never.wait()  # a Collections call that never answers
        raise AssertionError("unreachable")

    async with running_daemon(promptd_home, COLLECTIONS_CONFIG) as daemon:
        service = _offline_daemon_with(daemon, hang)
        first = await step("the optimization", optimize(daemon, NOTES))
        await step("indexing", indexed(daemon, 1))
        for n in range(3):
            got = await asyncio.wait_for(service.ground(QUERY, True), 10)
            assert "did not answer within 0.3 s" in got.note
            # the local example is still there; nothing of Collections
            assert [(m.ref, m.kind, m.source) for m in got.materials] == [
                (f"opt:{first.id}", "example", "history")
            ]
            assert len(sent) == n + 1
        opened = await service.ground(QUERY, True)
        assert "breaker open" in opened.note and len(sent) == 3
        assert [m.ref for m in opened.materials] == [f"opt:{first.id}"]
        offline = await service.ground(QUERY, False)  # the offline engine never asks
        assert offline.note == "" and offline.materials == [] and len(sent) == 3
        assert [r.ref for r in offline.related] == [f"opt:{first.id}"]

"""xAI Collections through respx, against the documented request and response shapes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import respx

from promptd.daemon.library.collections import CollectionsClient, CollectionsError

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

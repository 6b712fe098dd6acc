"""xAI Collections: search the user's uploaded documents, and upload more.

Opt-in with ``[library] xai_collections = ["collection_..."]``. Search is
``POST https://api.x.ai/v1/documents/search`` with the normal API key (``XAI_API_KEY``)::

    {"query": "...", "source": {"collection_ids": ["collection_..."]}, "limit": 5}
    -> {"matches": [{"file_id", "chunk_id", "chunk_content", "score", "collection_ids"}]}

Upload (``promptd library upload DIR --collection ID``) puts each file through the Files API
(``POST /v1/files``, multipart, the API key) and adds it to the collection through the
Management API (``POST https://management-api.x.ai/v1/collections/{id}/documents/{file_id}``)
with ``XAI_MANAGEMENT_API_KEY``, read from the environment and never stored.

Failures raise :class:`CollectionsError` with what to do; the library service degrades to
local hits with the reason, behind a circuit breaker of its own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import httpx
import msgspec

from ..errors import PromptdError

API_URL: Final = "https://api.x.ai/v1"
MANAGEMENT_URL: Final = "https://management-api.x.ai/v1"
MANAGEMENT_KEY_ENV: Final = "XAI_MANAGEMENT_API_KEY"
TIMEOUT: Final = httpx.Timeout(10.0, connect=5.0)


class CollectionsError(PromptdError):
    """xAI Collections could not be searched or written."""


class Match(msgspec.Struct, kw_only=True):
    """One passage the documents search found."""

    file_id: str = ""
    chunk_id: str = ""
    chunk_content: str = ""
    score: float = 0.0
    collection_ids: list[str] = msgspec.field(default_factory=list)


class _SearchAnswer(msgspec.Struct):
    matches: list[Match] = msgspec.field(default_factory=list)


class _FileAnswer(msgspec.Struct):
    id: str = ""
    file_id: str = ""


_search_decoder: Final = msgspec.json.Decoder(_SearchAnswer)
_file_decoder: Final = msgspec.json.Decoder(_FileAnswer)


def _explain(response: httpx.Response, what: str, key_env: str) -> CollectionsError:
    status = response.status_code
    if status in (401, 403):
        return CollectionsError(f"{what}: the key in {key_env} was refused ({status}); check it")
    if status == 404:
        return CollectionsError(f"{what}: not found (404); check the collection id")
    if status == 429:
        return CollectionsError(f"{what}: rate limited (429); try again later")
    body = response.text[:200].replace("\n", " ")
    return CollectionsError(f"{what}: HTTP {status} {body}".rstrip())


class CollectionsClient:
    """Search and upload over one ``httpx.AsyncClient`` (tests hand it respx)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
        api_url: str = API_URL,
        management_url: str = MANAGEMENT_URL,
        management_key: str | None = None,
    ) -> None:
        self.http = http
        self.api_key = api_key
        self.api_url = api_url.rstrip("/")
        self.management_url = management_url.rstrip("/")
        self.management_key = management_key

    async def search(self, query: str, collection_ids: list[str], limit: int = 5) -> list[Match]:
        """The best passages for ``query`` in the collections, best first."""
        if not self.api_key:
            raise CollectionsError("searching xAI Collections needs XAI_API_KEY; set it")
        body = {"query": query, "source": {"collection_ids": collection_ids}, "limit": limit}
        try:
            response = await self.http.post(
                f"{self.api_url}/documents/search",
                json=body,
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise CollectionsError(f"xAI Collections search failed: {exc!r}") from exc
        if response.status_code != 200:
            raise _explain(response, "xAI Collections search", "XAI_API_KEY")
        try:
            answer = _search_decoder.decode(response.content)
        except msgspec.DecodeError as exc:
            raise CollectionsError(f"xAI Collections search: unreadable answer ({exc})") from exc
        return sorted(answer.matches, key=lambda m: m.score, reverse=True)[:limit]

    async def upload(self, path: Path, collection_id: str) -> str:
        """Upload ``path`` and add it to the collection; the new file id."""
        if not self.management_key:
            raise CollectionsError(
                f"uploading to a collection needs a management key: set {MANAGEMENT_KEY_ENV} "
                "(xAI console, Management Keys, with the AddFileToCollection permission)"
            )
        if not self.api_key:
            raise CollectionsError("uploading a file needs XAI_API_KEY; set it")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CollectionsError(f"{path}: cannot read it ({exc.strerror})") from exc
        try:
            uploaded = await self.http.post(
                f"{self.api_url}/files",
                files={"file": (path.name, data, "text/plain")},
                data={"purpose": "assistants"},
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=httpx.Timeout(60.0, connect=5.0),
            )
            if uploaded.status_code not in (200, 201):
                raise _explain(uploaded, f"uploading {path.name}", "XAI_API_KEY")
            answer = _file_decoder.decode(uploaded.content)
            file_id = answer.id or answer.file_id
            if not file_id:
                raise CollectionsError(f"uploading {path.name}: the answer had no file id")
            added = await self.http.post(
                f"{self.management_url}/collections/{collection_id}/documents/{file_id}",
                headers={"Authorization": f"Bearer {self.management_key}"},
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise CollectionsError(f"uploading {path.name} failed: {exc!r}") from exc
        except msgspec.DecodeError as exc:
            raise CollectionsError(f"uploading {path.name}: unreadable answer ({exc})") from exc
        if added.status_code not in (200, 201, 204):
            raise _explain(added, f"adding {path.name} to {collection_id}", MANAGEMENT_KEY_ENV)
        return file_id


def management_key() -> str | None:
    """The management key from the environment (never stored by promptd)."""
    return os.environ.get(MANAGEMENT_KEY_ENV) or None

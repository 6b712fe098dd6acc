"""The library service in a real daemon: similar prompts reach optimizations, and nothing
about the library can make an optimization fail."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from promptd.daemon import api
from promptd.daemon.events import OptimizationCompleted, OptimizationKept
from promptd.daemon.library import types
from promptd.daemon.library.keeper import LibraryService
from promptd.daemon.server.app import Daemon
from tests.daemon.inbox.harness import FAST_INBOX, events, running_daemon, until

FIX = "fix the bug in this python code {code} and explain what was wrong"
# what the library finds is under test, not how fast: a loaded machine gets the time it needs
PATIENT = FAST_INBOX + "[library]\nretrieve_timeout_ms = 10000\n"


class _Call:
    """What a method handler needs of a call: a place for progress."""

    def progress(self, _: Any) -> None:
        pass


def library(daemon: Daemon) -> LibraryService:
    return next(s for s in daemon.services if isinstance(s, LibraryService))


async def optimize(daemon: Daemon, text: str) -> api.OptimizeResult:
    assert daemon.core is not None
    result = await daemon.core.optimize(api.OptimizeParams(text=text, no_cache=True), _Call())
    assert isinstance(result, api.OptimizeResult)
    return result


async def indexed(daemon: Daemon, n: int) -> None:
    service = library(daemon)
    await until(
        lambda: service.index.is_open and service.index.state.seq >= _last_completed(daemon),
        30,
        "the library to index the optimizations",
    )
    assert service.index.counts()["optimization"] >= n


def _last_completed(daemon: Daemon) -> int:
    store = daemon.core.store  # type: ignore[union-attr]
    seqs = [r.seq for r in store.read() if isinstance(r.event, OptimizationCompleted)]
    return seqs[-1] if seqs else 0


async def test_a_similar_past_optimization_is_shown_and_recorded(promptd_home: Path) -> None:
    async with running_daemon(promptd_home, PATIENT) as daemon:
        first = await optimize(daemon, FIX)
        await indexed(daemon, 1)
        second = await optimize(daemon, "please fix the bug in this python code {code} and explain")
        assert [r.ref for r in second.related] == [f"opt:{first.id}"]
        rel = second.related[0]
        assert rel.similarity >= 50 and rel.score == first.score_after and rel.at
        stored = [e for e in events(daemon, OptimizationCompleted) if e.opt_id == second.id]
        assert stored[0].related == second.related  # `promptd show` reads it from the log


async def test_a_rejected_rewrite_is_not_offered_and_a_kept_one_counts(promptd_home: Path) -> None:
    async with running_daemon(promptd_home, PATIENT) as daemon:
        first = await optimize(daemon, FIX)
        await indexed(daemon, 1)
        service = library(daemon)
        kept = await service.keep(types.VerdictParams(id=first.id[:12]), _Call())  # a prefix
        assert kept.id == first.id and kept.acceptance_rate == 1.0
        assert [e.opt_id for e in events(daemon, OptimizationKept)] == [first.id]
        await service.reject(types.VerdictParams(id=first.id, why="lost the code block"), _Call())
        await until(lambda: service.index.state.rejected == 1, 30, "the verdict to be folded")
        again = await optimize(daemon, FIX)
        assert again.related == []
        status = await daemon.core.status(api.Empty(), _Call())  # type: ignore[union-attr]
        assert status.library is not None and status.library.acceptance_rate == 0.5


async def test_a_broken_index_costs_the_optimization_nothing(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon:
        await optimize(daemon, FIX)
        await indexed(daemon, 1)

        def broken(*_: object) -> list[object]:
            raise OSError("disk went away")

        library(daemon)._similar = broken  # type: ignore[method-assign]
        result = await optimize(daemon, FIX)
        assert result.optimized and result.related == []


async def test_a_slow_index_is_not_waited_for(promptd_home: Path) -> None:
    async with running_daemon(promptd_home) as daemon:
        await optimize(daemon, FIX)
        await indexed(daemon, 1)
        service = library(daemon)
        release = asyncio.Event()
        loop = asyncio.get_running_loop()

        def slow(*_: object) -> list[object]:
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=30)
            return []

        service._similar = slow  # type: ignore[method-assign]
        try:
            result = await asyncio.wait_for(optimize(daemon, FIX), 10)
            assert result.optimized and result.related == []  # answered while the index hangs
        finally:
            release.set()


async def test_library_folders_are_indexed_and_watched(promptd_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "review.prompt").write_text("Review this pull request for security issues: {diff}")
    config = PATIENT + f'paths = ["{folder}"]\n'
    async with running_daemon(promptd_home, config) as daemon:
        service = library(daemon)
        await until(lambda: service.index.is_open and service.index.counts()["file"] == 1, 30)
        (folder / "notes.md").write_text("Summarize these meeting notes into action items.")
        await until(lambda: service.index.counts()["file"] == 2, 30, "the watcher to index")
        found = await service.search(types.SearchParams(text="meeting action items"), _Call())
        assert found.hits[0].title == str(folder / "notes.md") and found.hits[0].source == "local"
        result = await optimize(daemon, "summarize these meeting notes into action items")
        assert any(r.ref == f"file:{folder / 'notes.md'}" for r in result.related)


async def test_library_off_means_no_index_and_a_clear_answer(promptd_home: Path) -> None:
    async with running_daemon(promptd_home, FAST_INBOX + "[library]\nenabled = false\n") as daemon:
        result = await optimize(daemon, FIX)
        assert result.related == []
        try:
            await library(daemon).search(types.SearchParams(text="fix"), _Call())
        except Exception as exc:
            assert "enabled = false" in str(exc)
        else:
            raise AssertionError("search answered with the library off")
        assert not (promptd_home / "library").exists()

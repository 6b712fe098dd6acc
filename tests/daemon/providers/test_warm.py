"""The warm queue: bounded, one worker, out of the way of user requests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from promptd.daemon.providers.warm import ALREADY, WARMED, WarmQueue, WarmSkipped


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_full_queue_drops_and_counts() -> None:
    seen: list[str] = []

    async def analyze(text: str) -> str:
        seen.append(text)
        return WARMED

    queue = WarmQueue(analyze, capacity=2)
    assert queue.offer(["a", "b", "c", "a"]) == (3, 1)  # "a" again: already waiting
    assert queue.figures.queued == 2 and queue.figures.dropped == 1
    worker = asyncio.create_task(queue.run())
    try:
        await until(lambda: queue.figures.done == 2)
        assert seen == ["a", "b"] and queue.figures.warmed == 2 and queue.figures.queued == 0
        assert queue.offer(["c"]) == (1, 0)  # room again
        await until(lambda: queue.figures.done == 3)
    finally:
        worker.cancel()


async def test_the_worker_waits_while_the_daemon_is_busy() -> None:
    busy = True
    seen: list[str] = []

    async def analyze(text: str) -> str:
        seen.append(text)
        return ALREADY

    queue = WarmQueue(analyze, busy=lambda: busy, idle_poll_s=0.001)
    queue.offer(["p"])
    worker = asyncio.create_task(queue.run())
    try:
        for _ in range(50):  # many turns of the loop: still nothing while busy
            await asyncio.sleep(0.001)
        assert seen == [] and queue.figures.queued == 1
        busy = False
        await until(lambda: queue.figures.done == 1)
        assert seen == ["p"] and queue.figures.warmed == 0  # the cache had it
    finally:
        worker.cancel()


async def test_failures_and_skips_are_counted_and_the_worker_goes_on() -> None:
    async def analyze(text: str) -> str:
        if text == "boom":
            raise RuntimeError("the provider said no")
        if text == "skip":
            raise WarmSkipped("no provider")
        return WARMED

    queue = WarmQueue(analyze)
    queue.offer(["boom", "skip", "fine"])
    worker = asyncio.create_task(queue.run())
    try:
        await until(lambda: queue.figures.done == 1)
        f = queue.figures
        assert (f.failed, f.skipped, f.done) == (1, 1, 1)
        assert f.last_error == "RuntimeError: the provider said no"
    finally:
        worker.cancel()


@given(st.lists(st.text(max_size=3), max_size=40), st.integers(1, 10))
def test_offer_never_holds_more_than_its_capacity(prompts: list[str], capacity: int) -> None:
    async def analyze(text: str) -> str:
        return WARMED

    async def body() -> None:
        queue = WarmQueue(analyze, capacity=capacity)
        queued, dropped = queue.offer(prompts)
        assert queued + dropped == len(prompts)
        assert queue.figures.queued == min(capacity, len(set(prompts)))
        assert queue.figures.dropped == dropped

    asyncio.run(body())


def test_an_empty_offer_queues_nothing() -> None:
    async def analyze(text: str) -> str:
        return WARMED

    async def body() -> None:
        queue = WarmQueue(analyze)
        assert queue.offer([]) == (0, 0) and queue.figures.queued == 0

    asyncio.run(body())

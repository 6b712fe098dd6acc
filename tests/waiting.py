"""Wait on a condition with a deadline: the one helper every test uses instead of a sleep.

``await until(cond)`` in async tests, ``wait_until(cond)`` in blocking ones. Both poll
``cond()`` until it returns something truthy, return that value, and fail with an
``AssertionError`` that names what was awaited (and ``explain()``'s text, e.g. a log tail)
once ``timeout`` seconds have passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _ready(
    cond: Callable[[], T], deadline: float, what: str, explain: Callable[[], str] | None
) -> T | None:
    """``cond()``'s value when truthy, None to poll again; past the deadline, fail."""
    value = cond()
    if value:
        return value
    if time.monotonic() > deadline:
        detail = f"\n{explain()}" if explain is not None else ""
        raise AssertionError(f"timed out waiting for {what}{detail}")
    return None


async def until(
    cond: Callable[[], T],
    timeout: float = 10.0,
    what: str = "the condition",
    *,
    interval: float = 0.02,
    explain: Callable[[], str] | None = None,
) -> T:
    """Poll ``cond()`` on the running loop until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while (value := _ready(cond, deadline, f"{what} ({timeout:g} s)", explain)) is None:
        await asyncio.sleep(interval)
    return value


def wait_until(
    cond: Callable[[], T],
    timeout: float = 10.0,
    what: str = "the condition",
    *,
    interval: float = 0.02,
    explain: Callable[[], str] | None = None,
) -> T:
    """Poll ``cond()`` (blocking) until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while (value := _ready(cond, deadline, f"{what} ({timeout:g} s)", explain)) is None:
        time.sleep(interval)
    return value

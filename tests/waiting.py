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


def _timed_out(timeout: float, what: str, explain: Callable[[], str] | None) -> AssertionError:
    detail = f"\n{explain()}" if explain is not None else ""
    return AssertionError(f"timed out after {timeout:g} s waiting for {what}{detail}")


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
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what, explain)
        await asyncio.sleep(interval)


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
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _timed_out(timeout, what, explain)
        time.sleep(interval)

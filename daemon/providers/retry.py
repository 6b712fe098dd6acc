"""Retries with tenacity: exponential backoff with jitter, honouring ``Retry-After``.

What is retried: connect errors, timeouts, 429 and 5xx (raised by the provider as
:class:`Transient`). Nothing else is: a 400/401/403/404/422 is the caller's problem and
retrying it only costs money. When the server says how long to wait (``Retry-After`` in
seconds or as an HTTP date), that wait is used instead of the backoff, capped at
``max_wait_s``.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

T = TypeVar("T")

DEFAULT_INITIAL_S: Final = 0.5
DEFAULT_MAX_WAIT_S: Final = 20.0


class Transient(Exception):
    """A failure worth another attempt. ``status`` is 0 when there was no response."""

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class BackoffWait:
    """tenacity wait: ``Retry-After`` when the failure carries one, else exponential + jitter."""

    def __init__(
        self,
        initial_s: float = DEFAULT_INITIAL_S,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        rng: random.Random | None = None,
    ) -> None:
        self.initial_s = initial_s
        self.max_wait_s = max_wait_s
        self._rng = rng or random.Random()

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_wait_s)
        exp = self.initial_s * float(2 ** (state.attempt_number - 1))
        jitter = self._rng.uniform(0, self.initial_s)
        return float(min(exp + jitter, self.max_wait_s))


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    wait: BackoffWait | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: Callable[[int, Transient], None] | None = None,
) -> T:
    """Run ``call`` up to ``attempts`` times while it raises :class:`Transient`.

    The last :class:`Transient` is re-raised when every attempt failed; any other exception
    goes straight through. ``on_retry(attempt, exc)`` runs before each wait.
    """

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is None or state.outcome is None:
            return
        exc = state.outcome.exception()
        if isinstance(exc, Transient):
            on_retry(state.attempt_number, exc)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait or BackoffWait(),
        retry=retry_if_exception_type(Transient),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover

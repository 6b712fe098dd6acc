"""A circuit breaker per provider: closed -> open -> half-open -> closed.

* closed: calls go through; ``failures`` consecutive failures (default 5) open it.
* open: calls fail fast with :class:`CircuitOpenError` until ``cooldown_s`` (default 30 s)
  has passed on the injected clock; then the next call is let through as a probe
  (half-open). Only one probe runs at a time; the others keep failing fast.
* half-open: the probe's success closes the breaker, its failure opens it again.

Every state change is reported to ``on_change`` as a :class:`CircuitChanged` event, which the
provider appends to the log. The breaker itself does no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, Literal

from ..errors import CircuitOpenError
from ..events import CircuitChanged

State = Literal["closed", "open", "half_open"]
CLOSED: Final = "closed"
OPEN: Final = "open"
HALF_OPEN: Final = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        provider: str,
        *,
        failures: int = 5,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[CircuitChanged], None] | None = None,
    ) -> None:
        if failures < 1:
            raise ValueError("breaker failures must be at least 1")
        self.provider = provider
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self._clock = clock
        self.on_change = on_change
        self._state: State = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> State:
        """The current state; an open breaker whose cool-down passed reads as half-open."""
        if self._state == OPEN and self._clock() - self._opened_at >= self.cooldown_s:
            return HALF_OPEN
        return self._state

    @property
    def failures(self) -> int:
        return self._failures

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self._state != OPEN:
            return 0.0
        return max(0.0, self.cooldown_s - (self._clock() - self._opened_at))

    def before_call(self) -> None:
        """Let a call through or raise :class:`CircuitOpenError` (fail fast)."""
        if self._state == CLOSED:
            return
        if self._state == OPEN:
            wait = self.retry_in()
            if wait > 0:
                raise CircuitOpenError(
                    f"the {self.provider} provider failed {self._failures} times in a row; "
                    f"not calling it for another {wait:.0f} s (answers come from the cache or "
                    "the offline engine meanwhile)"
                )
            self._move(HALF_OPEN, "cool-down over: letting one probe call through")
        if self._probing:
            raise CircuitOpenError(
                f"the {self.provider} provider is being probed after failures; try again shortly"
            )
        self._probing = True

    def cancel_call(self) -> None:
        """A let-through call ended without an answer either way (cancelled, refused)."""
        self._probing = False

    def record_success(self) -> None:
        self._probing = False
        self._failures = 0
        if self._state != CLOSED:
            self._move(CLOSED, "a call succeeded")

    def record_failure(self, reason: str) -> None:
        self._probing = False
        self._failures += 1
        if self._state == HALF_OPEN:
            self._opened_at = self._clock()
            self._move(OPEN, f"the probe call failed: {reason}")
        elif self._state == CLOSED and self._failures >= self.threshold:
            self._opened_at = self._clock()
            self._move(OPEN, f"{self._failures} consecutive failures; last: {reason}")

    def _move(self, new: State, reason: str) -> None:
        old = self._state
        self._state = new
        if self.on_change is not None and old != new:
            self.on_change(
                CircuitChanged(
                    provider=self.provider,
                    old=old,
                    new=new,
                    failures=self._failures,
                    reason=reason,
                )
            )

"""Stats: counts of events by type, cache hits and misses, optimizations and calls.

One table, ``stats``: a counter (int) per key:

* ``type/TAG``              records of each type (unknown types too: it is a fact of the log)
* ``cache/NAME/hit|miss``   ``CacheHit`` / ``CacheMiss`` per cache
* ``opt/requested|completed|failed|changed|cached|degraded``
* ``calls/ok|failed``, ``tokens/prompt|cached|completion|reasoning``
"""

from __future__ import annotations

from typing import ClassVar

import msgspec

from ..events import (
    EVENT_TYPES,
    CacheHit,
    CacheMiss,
    OptimizationCompleted,
    OptimizationFailed,
    OptimizationRequested,
    ProviderCallCompleted,
    Record,
    UnknownEvent,
)
from .base import Projection, Reader, State, Table

STATS = Table("stats", int)

_TYPE_KEYS: dict[type, bytes] = {
    t: b"type/" + str(t.__struct_config__.tag).encode() for t in EVENT_TYPES
}


class CacheRate(msgspec.Struct, frozen=True, kw_only=True):
    hits: int
    misses: int

    @property
    def rate(self) -> float | None:
        """Hits / lookups, or ``None`` before the first lookup."""
        total = self.hits + self.misses
        return self.hits / total if total else None


def _inc(state: State, key: bytes, n: int = 1) -> None:
    state.put(STATS, key, (state.get(STATS, key) or 0) + n)


class StatsProjection(Projection):
    name = "stats"
    version = 1
    tables = (STATS,)
    fold_all = "count"
    folds: ClassVar[dict[type, str]] = {
        CacheHit: "hit",
        CacheMiss: "miss",
        OptimizationRequested: "requested",
        OptimizationCompleted: "completed",
        OptimizationFailed: "failed",
        ProviderCallCompleted: "call",
    }

    def count(self, state: State, rec: Record) -> None:
        event = rec.event
        key = _TYPE_KEYS.get(type(event))
        if key is None:
            assert isinstance(event, UnknownEvent)
            key = b"type/" + event.type.encode()
        _inc(state, key)

    def hit(self, state: State, rec: Record) -> None:
        ev: CacheHit = rec.event  # type: ignore[assignment]
        _inc(state, b"cache/" + ev.cache.encode() + b"/hit")

    def miss(self, state: State, rec: Record) -> None:
        ev: CacheMiss = rec.event  # type: ignore[assignment]
        _inc(state, b"cache/" + ev.cache.encode() + b"/miss")

    def requested(self, state: State, rec: Record) -> None:
        _inc(state, b"opt/requested")

    def completed(self, state: State, rec: Record) -> None:
        ev: OptimizationCompleted = rec.event  # type: ignore[assignment]
        _inc(state, b"opt/completed")
        if ev.changed:
            _inc(state, b"opt/changed")
        if ev.cached:
            _inc(state, b"opt/cached")
        if ev.degraded:
            _inc(state, b"opt/degraded")

    def failed(self, state: State, rec: Record) -> None:
        _inc(state, b"opt/failed")

    def call(self, state: State, rec: Record) -> None:
        ev: ProviderCallCompleted = rec.event  # type: ignore[assignment]
        _inc(state, b"calls/ok" if ev.ok else b"calls/failed")
        if ev.prompt_tokens:
            _inc(state, b"tokens/prompt", ev.prompt_tokens)
        if ev.cached_tokens:
            _inc(state, b"tokens/cached", ev.cached_tokens)
        if ev.completion_tokens:
            _inc(state, b"tokens/completion", ev.completion_tokens)
        if ev.reasoning_tokens:
            _inc(state, b"tokens/reasoning", ev.reasoning_tokens)


class StatsView:
    """``view.stats``: counters."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def counter(self, key: str) -> int:
        """One raw counter, e.g. ``"opt/completed"`` or ``"type/cache.hit"``."""
        return self._r.get(STATS, key.encode()) or 0

    def by_type(self) -> dict[str, int]:
        """Records per event type tag (unknown tags included)."""
        return {k[5:].decode(): v for k, v in self._r.scan(STATS, b"type/")}

    def events(self) -> int:
        return sum(self.by_type().values())

    def cache(self, name: str) -> CacheRate:
        return CacheRate(
            hits=self.counter(f"cache/{name}/hit"), misses=self.counter(f"cache/{name}/miss")
        )

    def caches(self) -> dict[str, CacheRate]:
        hits: dict[str, int] = {}
        misses: dict[str, int] = {}
        for key, value in self._r.scan(STATS, b"cache/"):
            _, name, kind = key.decode().split("/", 2)
            (hits if kind == "hit" else misses)[name] = value
        return {
            n: CacheRate(hits=hits.get(n, 0), misses=misses.get(n, 0))
            for n in sorted(hits.keys() | misses.keys())
        }

    def hit_rate(self) -> float | None:
        """Hits / lookups over every cache, or ``None`` before the first lookup."""
        rates = self.caches().values()
        return CacheRate(hits=sum(r.hits for r in rates), misses=sum(r.misses for r in rates)).rate

    def optimizations(self) -> dict[str, int]:
        """``requested``, ``completed``, ``failed``, ``changed``, ``cached``, ``degraded``."""
        names = ("requested", "completed", "failed", "changed", "cached", "degraded")
        return {n: self.counter(f"opt/{n}") for n in names}

    def calls(self) -> dict[str, int]:
        return {"ok": self.counter("calls/ok"), "failed": self.counter("calls/failed")}

    def tokens(self) -> dict[str, int]:
        return {
            n: self.counter(f"tokens/{n}") for n in ("prompt", "cached", "completion", "reasoning")
        }

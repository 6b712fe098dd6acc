"""Stats: counts of events by type, cache hits and misses, optimizations and calls.

One table, ``stats``: a counter (a one-element list of int) per key:

* ``type/TAG``              records of each type (unknown types too: it is a fact of the log)
* ``cache/NAME/hit|miss``   ``CacheHit`` / ``CacheMiss`` per cache
* ``opt/changed|cached|degraded``  (requested/completed/failed: their type counts)
* ``calls/failed``                  (calls made: the type count of provider.call_completed)

Type counts are taken once per batch (``fold_batch``), so counting costs next to nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import msgspec

from ..events import (
    EVENT_TYPES,
    CacheHit,
    CacheMiss,
    OptimizationCompleted,
    ProviderCallCompleted,
    Record,
    UnknownEvent,
)
from .base import Projection, Reader, State, Table, on

STATS = Table("stats", list[int], counter=True)  # one-element counters (State.add)


class CacheRate(msgspec.Struct, frozen=True, kw_only=True):
    hits: int
    misses: int

    @property
    def rate(self) -> float | None:
        """Hits / lookups, or ``None`` before the first lookup."""
        total = self.hits + self.misses
        return self.hits / total if total else None


_TAG_OF: dict[type, str] = {t: str(t.__struct_config__.tag) for t in EVENT_TYPES}


class StatsProjection(Projection):
    name = "stats"
    version = 3
    tables = (STATS,)

    def fold_batch(self, state: State, records: Sequence[Record], kinds: Counter[type]) -> None:
        for etype, n in kinds.items():
            tag = _TAG_OF.get(etype)
            if tag is not None:
                state.add(STATS, b"type/" + tag.encode(), n)
        if UnknownEvent in kinds:
            for rec in records:
                if isinstance(rec.event, UnknownEvent):
                    state.add(STATS, b"type/" + rec.event.type.encode(), 1)

    @on(CacheHit)
    def hit(self, state: State, rec: Record, ev: CacheHit) -> None:
        state.add(STATS, b"cache/" + ev.cache.encode() + b"/hit", 1)

    @on(CacheMiss)
    def miss(self, state: State, rec: Record, ev: CacheMiss) -> None:
        state.add(STATS, b"cache/" + ev.cache.encode() + b"/miss", 1)

    @on(OptimizationCompleted)
    def completed(self, state: State, rec: Record, ev: OptimizationCompleted) -> None:
        if ev.changed:
            state.add(STATS, b"opt/changed", 1)
        if ev.cached:
            state.add(STATS, b"opt/cached", 1)
        if ev.degraded:
            state.add(STATS, b"opt/degraded", 1)

    @on(ProviderCallCompleted)
    def call(self, state: State, rec: Record, ev: ProviderCallCompleted) -> None:
        if not ev.ok:
            state.add(STATS, b"calls/failed", 1)


class StatsView:
    """``view.stats``: counters."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def counter(self, key: str) -> int:
        """One raw counter, e.g. ``"opt/completed"`` or ``"type/cache.hit"``."""
        value = self._r.get(STATS, key.encode())
        return value[0] if value else 0

    def by_type(self) -> dict[str, int]:
        """Records per event type tag (unknown tags included)."""
        return {k[5:].decode(): v[0] for k, v in self._r.scan(STATS, b"type/")}

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
            (hits if kind == "hit" else misses)[name] = value[0]
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
        out = {
            n: self.counter(f"type/optimization.{n}") for n in ("requested", "completed", "failed")
        }
        out.update({n: self.counter(f"opt/{n}") for n in ("changed", "cached", "degraded")})
        return out

    def calls(self) -> dict[str, int]:
        """Provider calls: ``ok`` and ``failed``."""
        total = self.counter("type/provider.call_completed")
        failed = self.counter("calls/failed")
        return {"ok": total - failed, "failed": failed}

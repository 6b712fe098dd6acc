"""Caches: key -> the event that produced the result, with expiry and an entry cap.

Three caches, each filled by folding the event that produced its value:

* ``optimization``  an ``OptimizationCompleted`` with a non-empty ``cache_key`` that was not
  itself answered from cache (``cached=False``)
* ``response``      a ``ProviderCallCompleted`` that is ``ok`` and has a ``request_key``
* ``lint``          a ``LintCompleted`` (its ``key``)

Expiry is computed at read time: an entry is live while ``entry ts + TTL > now``, with the
TTL of :class:`~promptd.daemon.config.CacheConfig` (so a rebuild gives the same bytes, and a changed
TTL applies at once). Each cache keeps at most ``max_entries``; past that the oldest inserted
entry is evicted. ``max_entries`` is part of the projection's version key, so changing it
rebuilds the cache at the next open.

Tables:

* ``cache``        ``T + text_key(KEY)`` -> :class:`CacheEntry` (the producing record's
  seq and time)
* ``cache_order``  ``T + be64(order)`` -> that ``cache`` key, oldest first (for eviction)
* ``cache_meta``   ``NAME`` -> :class:`CacheCounters`

``T`` is the cache's one-letter tag (``o``, ``r``, ``l``). The cache table takes random-key
inserts and evictions on every commit, so its entries are short (a hex key stored as its
bytes, no copy of what the producing event holds: ``opt_id`` is read from it): fewer pages
to write per commit.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..config import CacheConfig
from ..events import LintCompleted, OptimizationCompleted, ProviderCallCompleted, Record
from .base import Projection, Reader, State, Table, be64, on, text_key

CACHES: tuple[str, ...] = ("optimization", "response", "lint")
_PREFIX: dict[str, bytes] = {"optimization": b"o", "response": b"r", "lint": b"l"}
_NS = 1_000_000_000


class CacheEntry(msgspec.Struct, array_like=True):
    seq: int  # the record holding the value
    ts_ns: int  # when it was produced: expiry counts from here
    order: int  # insertion number within its cache


class CacheCounters(msgspec.Struct, array_like=True):
    next_order: int = 0
    head: int = 0  # the oldest order number that may still be present
    count: int = 0


class CachedValue(msgspec.Struct, frozen=True, kw_only=True):
    """What ``view.cache.get`` returns: the live entry and the event that produced it."""

    cache: str
    key: str
    seq: int
    ts_ns: int
    expires_ns: int
    opt_id: str
    event: Any  # OptimizationCompleted | ProviderCallCompleted | LintCompleted


CACHE = Table("cache", CacheEntry)
ORDER = Table("cache_order", bytes)
COUNTERS = Table("cache_meta", CacheCounters)


def ttl_ns(config: CacheConfig, cache: str) -> int:
    if cache == "optimization":
        return config.optimization_ttl_s * _NS
    if cache == "response":
        return config.response_ttl_s * _NS
    if cache == "lint":
        return config.lint_ttl_s * _NS
    raise ValueError(f"unknown cache {cache!r}; use one of {', '.join(CACHES)}")


class CacheProjection(Projection):
    name = "cache"
    version = 2
    tables = (CACHE, ORDER, COUNTERS)

    def __init__(self, config: CacheConfig | None = None) -> None:
        self.max_entries = max(1, (config or CacheConfig()).max_entries)

    def version_key(self) -> str:
        return f"{self.version}/max={self.max_entries}"

    @on(OptimizationCompleted)
    def optimization(self, state: State, rec: Record, ev: OptimizationCompleted) -> None:
        if ev.cache_key and not ev.cached:
            self._insert(state, "optimization", ev.cache_key, rec)

    @on(ProviderCallCompleted)
    def response(self, state: State, rec: Record, ev: ProviderCallCompleted) -> None:
        if ev.ok and ev.request_key:
            self._insert(state, "response", ev.request_key, rec)

    @on(LintCompleted)
    def lint(self, state: State, rec: Record, ev: LintCompleted) -> None:
        if ev.key:
            self._insert(state, "lint", ev.key, rec)

    def _insert(self, state: State, cache: str, key: str, rec: Record) -> None:
        name = cache.encode()
        prefix = _PREFIX[cache]
        counters = state.get(COUNTERS, name)
        if counters is None:
            counters = CacheCounters()
            state.put(COUNTERS, name, counters)
        entry_key = prefix + text_key(key)
        old = state.get(CACHE, entry_key)
        if old is not None:
            state.delete(ORDER, prefix + be64(old.order))
        else:
            counters.count += 1
        order = counters.next_order
        counters.next_order += 1
        state.put(CACHE, entry_key, CacheEntry(seq=rec.seq, ts_ns=rec.ts_ns, order=order))
        state.put(ORDER, prefix + be64(order), entry_key)
        while counters.count > self.max_entries:
            oldest = prefix + be64(counters.head)
            counters.head += 1
            victim = state.get(ORDER, oldest)
            if victim is None:
                continue  # that slot was replaced by a newer insert of the same key
            state.delete(ORDER, oldest)
            state.delete(CACHE, victim)
            counters.count -= 1


class CacheView:
    """``view.cache``: live entries (``now_ns`` decides expiry) and entry counts."""

    def __init__(self, reader: Reader, config: CacheConfig) -> None:
        self._r = reader
        self._config = config

    def get(self, cache: str, key: str, now_ns: int) -> CachedValue | None:
        """The live entry for ``key`` in ``cache`` at ``now_ns``, else ``None``."""
        ttl = ttl_ns(self._config, cache)
        entry = self._r.get(CACHE, _PREFIX[cache] + text_key(key))
        if entry is None or entry.ts_ns + ttl <= now_ns:
            return None
        rec = self._r.record(entry.seq)
        if rec is None:
            return None
        return CachedValue(
            cache=cache,
            key=key,
            seq=entry.seq,
            ts_ns=entry.ts_ns,
            expires_ns=entry.ts_ns + ttl,
            opt_id=getattr(rec.event, "opt_id", ""),  # the lint cache's events have none
            event=rec.event,
        )

    def optimization(self, key: str, now_ns: int) -> OptimizationCompleted | None:
        hit = self.get("optimization", key, now_ns)
        return (
            hit.event if hit is not None and isinstance(hit.event, OptimizationCompleted) else None
        )

    def response(self, key: str, now_ns: int) -> str | None:
        hit = self.get("response", key, now_ns)
        return (
            hit.event.response
            if hit is not None and isinstance(hit.event, ProviderCallCompleted)
            else None
        )

    def lint(self, key: str, now_ns: int) -> LintCompleted | None:
        hit = self.get("lint", key, now_ns)
        return hit.event if hit is not None and isinstance(hit.event, LintCompleted) else None

    def entries(self, cache: str | None = None) -> int:
        """Stored entries (expired ones included until evicted) of one cache or of all."""
        names = (cache,) if cache is not None else CACHES
        return sum((self._r.get(COUNTERS, n.encode()) or CacheCounters()).count for n in names)

    def live_entries(self, cache: str, now_ns: int) -> int:
        """Entries of ``cache`` not yet expired at ``now_ns`` (scans the cache)."""
        ttl = ttl_ns(self._config, cache)
        return sum(1 for _, e in self._r.scan(CACHE, _PREFIX[cache]) if e.ts_ns + ttl > now_ns)

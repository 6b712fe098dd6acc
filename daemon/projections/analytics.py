"""Analytics: per-day aggregates for the dashboard's charts.

One counter table, ``analytics`` (values are lists of ints summed with ``State.add``):

* ``o/DAY/SOURCE/ENGINE``  optimizations completed that UTC day from that source (cli, lsp,
  inbox, batch...) by that engine: ``[completed, changed, cached, degraded]``
* ``x/DAY``                optimizations failed that day: ``[failed]``
* ``c/DAY/CACHE``          cache lookups per tier (optimization, response, lint):
  ``[hits, misses, saved_ticks]``
* ``s/TYPE``               scores by prompt type: ``[n, sum of before, sum of after]``
* ``g/DAY``                scores by day (the score-gain trend): the same three numbers
* ``f/CODE``               how often each finding code was seen in completed optimizations
* ``p/MODEL``              provider calls: ``[calls, errors, sum of latency ms]``
* ``l/MODEL/`` + ``be16(bucket)``  the latency histogram per model: ``[calls]``; bucket
  ``i`` holds latencies up to :data:`LATENCY_BOUNDS_MS` ``[i]`` (for p50/p95)
* ``a/ENGINE/TYPE``        the author's verdicts on rewrites (``promptd keep`` / ``reject``,
  the editor): ``[kept, rejected]``, each optimization counted once, by its latest verdict
* ``v/DAY``                the same by the UTC day of the verdict (the acceptance trend)

And ``analytics_verdicts``, a row per completed optimization (``opt_id`` -> :class:`Verdict`):
its engine and type (from its completion) and its latest verdict, so a changed verdict
moves its count instead of adding one, and History shows each row's verdict.

Days are UTC days of the record's time, so a rebuild gives the same bytes wherever it runs
(spend per day is the budget projection's: booked on the provider call's local day).
"""

from __future__ import annotations

import bisect
import struct

import msgspec

from ..events import (
    CacheHit,
    CacheMiss,
    OptimizationCompleted,
    OptimizationFailed,
    OptimizationKept,
    OptimizationRejected,
    ProviderCallCompleted,
    Record,
)
from .base import Projection, Reader, State, Table, on, text_key, utc_day


class Verdict(msgspec.Struct, array_like=True):
    """One optimization's engine and prompt type, and the author's latest verdict on it
    (``verdict`` "" until there is one; ``ts_ns`` when it was given)."""

    engine: str = ""
    prompt_type: str = ""
    verdict: str = ""  # kept | rejected | ""
    ts_ns: int = 0
    why: str = ""
    source: str = ""


ANALYTICS = Table("analytics", list[int], counter=True)
VERDICTS = Table("analytics_verdicts", Verdict)
_WHY = 500  # characters of a rejection's reason kept here (the event has it all)

# Upper bounds (ms) of the latency buckets: 1 ms to ~10 min in steps of about 12%.
LATENCY_BOUNDS_MS: tuple[int, ...] = tuple(sorted({max(1, round(1.12**i)) for i in range(0, 118)}))
_BE16 = struct.Struct(">H")


def latency_bucket(latency_ms: int) -> int:
    """The index of the bucket that holds ``latency_ms`` (the last one holds the rest)."""
    return min(bisect.bisect_left(LATENCY_BOUNDS_MS, latency_ms), len(LATENCY_BOUNDS_MS) - 1)


def _part(text: str) -> bytes:
    """A key part: ``/`` would split it, so it is replaced."""
    return (text or "-").replace("/", "_").encode()


class AnalyticsProjection(Projection):
    name = "analytics"
    version = 2
    tables = (ANALYTICS, VERDICTS)

    @on(OptimizationCompleted)
    def completed(self, state: State, rec: Record, ev: OptimizationCompleted) -> None:
        day = utc_day(rec.ts_ns).encode()
        state.add(
            ANALYTICS,
            b"o/" + day + b"/" + _part(ev.source) + b"/" + _part(ev.engine),
            1,
            int(ev.changed),
            int(ev.cached),
            int(ev.degraded),
        )
        if ev.score_before is not None and ev.score_after is not None:
            before, after = ev.score_before.total, ev.score_after.total
            state.add(ANALYTICS, b"s/" + _part(ev.prompt_type), 1, before, after)
            state.add(ANALYTICS, b"g/" + day, 1, before, after)
        for finding in ev.findings:
            state.add(ANALYTICS, b"f/" + _part(finding.code), 1)
        key = text_key(ev.opt_id)
        known = state.get(VERDICTS, key)
        if known is None:
            state.put(VERDICTS, key, Verdict(engine=ev.engine, prompt_type=ev.prompt_type))
        elif not known.engine:  # the verdict came first (an import): file it where it belongs
            self._count(state, known, -1)
            known.engine, known.prompt_type = ev.engine, ev.prompt_type
            self._count(state, known, 1)

    @on(OptimizationKept)
    def kept(self, state: State, rec: Record, ev: OptimizationKept) -> None:
        self._verdict(state, rec, ev.opt_id, "kept", "", ev.source)

    @on(OptimizationRejected)
    def rejected(self, state: State, rec: Record, ev: OptimizationRejected) -> None:
        self._verdict(state, rec, ev.opt_id, "rejected", ev.why[:_WHY], ev.source)

    def _verdict(
        self, state: State, rec: Record, opt_id: str, verdict: str, why: str, source: str
    ) -> None:
        key = text_key(opt_id)
        known = state.get(VERDICTS, key)
        if known is None:
            known = Verdict()
            state.put(VERDICTS, key, known)
        self._count(state, known, -1)
        known.verdict, known.ts_ns, known.why, known.source = verdict, rec.ts_ns, why, source
        self._count(state, known, 1)

    @staticmethod
    def _count(state: State, v: Verdict, sign: int) -> None:
        """Add (``sign`` 1) or take back (-1) ``v``'s verdict in the counters."""
        if not v.verdict:
            return
        kept, rejected = (sign, 0) if v.verdict == "kept" else (0, sign)
        state.add(ANALYTICS, b"a/" + _part(v.engine) + b"/" + _part(v.prompt_type), kept, rejected)
        state.add(ANALYTICS, b"v/" + utc_day(v.ts_ns).encode(), kept, rejected)

    @on(OptimizationFailed)
    def failed(self, state: State, rec: Record, ev: OptimizationFailed) -> None:
        state.add(ANALYTICS, b"x/" + utc_day(rec.ts_ns).encode(), 1)

    @on(CacheHit)
    def hit(self, state: State, rec: Record, ev: CacheHit) -> None:
        key = b"c/" + utc_day(rec.ts_ns).encode() + b"/" + _part(ev.cache)
        state.add(ANALYTICS, key, 1, 0, ev.saved_ticks)

    @on(CacheMiss)
    def miss(self, state: State, rec: Record, ev: CacheMiss) -> None:
        key = b"c/" + utc_day(rec.ts_ns).encode() + b"/" + _part(ev.cache)
        state.add(ANALYTICS, key, 0, 1, 0)

    @on(ProviderCallCompleted)
    def call(self, state: State, rec: Record, ev: ProviderCallCompleted) -> None:
        model = _part(ev.model)
        latency = max(ev.latency_ms, 0)
        state.add(ANALYTICS, b"p/" + model, 1, int(not ev.ok), latency)
        state.add(ANALYTICS, b"l/" + model + b"/" + _BE16.pack(latency_bucket(latency)), 1)


# --- the view ------------------------------------------------------------------------------


class DayCount(msgspec.Struct, frozen=True, kw_only=True):
    day: str
    source: str
    engine: str
    completed: int
    changed: int
    cached: int
    degraded: int


class CacheDay(msgspec.Struct, frozen=True, kw_only=True):
    day: str
    cache: str
    hits: int
    misses: int
    saved_ticks: int


class ScoreMean(msgspec.Struct, frozen=True, kw_only=True):
    key: str  # a prompt type, or a day
    count: int
    before: float
    after: float


class Acceptance(msgspec.Struct, frozen=True, kw_only=True):
    key: str  # an engine, a prompt type, or a day
    kept: int
    rejected: int

    @property
    def rate(self) -> float | None:
        """kept / (kept + rejected); None before any verdict."""
        n = self.kept + self.rejected
        return self.kept / n if n else None


class ModelHealth(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    calls: int
    errors: int
    mean_ms: float
    p50_ms: int
    p95_ms: int

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def _mean(key: str, value: list[int]) -> ScoreMean:
    n = value[0] if value else 0
    before = value[1] / n if n and len(value) > 1 else 0.0
    after = value[2] / n if n and len(value) > 2 else 0.0
    return ScoreMean(key=key, count=n, before=round(before, 1), after=round(after, 1))


def _padded(value: list[int], n: int) -> list[int]:
    return [*value, *([0] * (n - len(value)))]


def percentile(histogram: dict[int, int], q: float) -> int:
    """The bucket bound (ms) at which ``q`` (0..1) of the calls have answered."""
    total = sum(histogram.values())
    if not total:
        return 0
    need = q * total
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= need:
            return LATENCY_BOUNDS_MS[bucket]
    return LATENCY_BOUNDS_MS[max(histogram)]


class AnalyticsView:
    """``view.analytics``: the dashboard's aggregates."""

    def __init__(self, reader: Reader) -> None:
        self._r = reader

    def _rows(self, prefix: bytes) -> list[tuple[list[str], list[int]]]:
        n = len(prefix)
        return [(k[n:].decode().split("/"), v) for k, v in self._r.scan(ANALYTICS, prefix)]

    def optimizations_by_day(self) -> list[DayCount]:
        out = []
        for (day, source, engine), value in self._rows(b"o/"):
            completed, changed, cached, degraded = _padded(value, 4)
            out.append(
                DayCount(
                    day=day,
                    source=source,
                    engine=engine,
                    completed=completed,
                    changed=changed,
                    cached=cached,
                    degraded=degraded,
                )
            )
        return out

    def failed_by_day(self) -> dict[str, int]:
        return {parts[0]: value[0] for parts, value in self._rows(b"x/")}

    def cache_by_day(self) -> list[CacheDay]:
        out = []
        for (day, cache), value in self._rows(b"c/"):
            hits, misses, saved = _padded(value, 3)
            out.append(CacheDay(day=day, cache=cache, hits=hits, misses=misses, saved_ticks=saved))
        return out

    def scores_by_type(self) -> list[ScoreMean]:
        return [_mean(parts[0], value) for parts, value in self._rows(b"s/")]

    def scores_by_day(self) -> list[ScoreMean]:
        return [_mean(parts[0], value) for parts, value in self._rows(b"g/")]

    def findings(self, limit: int = 10) -> list[tuple[str, int]]:
        """The finding codes seen most often, most first (ties by code)."""
        rows = [(parts[0], value[0]) for parts, value in self._rows(b"f/")]
        rows.sort(key=lambda r: (-r[1], r[0]))
        return rows[:limit]

    def acceptance(self, by: str) -> list[Acceptance]:
        """Verdicts by ``engine``, ``type`` (prompt type) or ``day`` (UTC), sorted by key."""
        if by == "day":
            rows = [(parts[0], value) for parts, value in self._rows(b"v/")]
        else:
            sums: dict[str, list[int]] = {}
            for (engine, ptype), value in self._rows(b"a/"):
                acc = sums.setdefault(engine if by == "engine" else ptype, [0, 0])
                kept, rejected = _padded(value, 2)
                acc[0] += kept
                acc[1] += rejected
            rows = sorted(sums.items())
        out = []
        for key, value in rows:
            kept, rejected = _padded(value, 2)
            if kept or rejected:
                out.append(Acceptance(key=key, kept=kept, rejected=rejected))
        return out

    def verdict(self, opt_id: str) -> Verdict | None:
        """The author's latest verdict on ``opt_id`` (None: none given)."""
        found = self._r.get(VERDICTS, text_key(opt_id))
        return found if found is not None and found.verdict else None

    def models(self) -> list[ModelHealth]:
        """Calls, errors and latency per model (p50/p95 from the histogram: within ~12%)."""
        hist: dict[str, dict[int, int]] = {}
        for key, value in self._r.scan(ANALYTICS, b"l/"):
            # MODEL "/" be16(bucket): the bucket's bytes may hold a "/"
            name, bucket = key[2:-3].decode(), key[-2:]
            hist.setdefault(name, {})[_BE16.unpack(bucket)[0]] = value[0]
        out = []
        for (name,), value in self._rows(b"p/"):
            calls, errors, latency = _padded(value, 3)
            h = hist.get(name, {})
            out.append(
                ModelHealth(
                    model=name,
                    calls=calls,
                    errors=errors,
                    mean_ms=round(latency / calls, 1) if calls else 0.0,
                    p50_ms=percentile(h, 0.5),
                    p95_ms=percentile(h, 0.95),
                )
            )
        return out

"""The dashboard's per-day aggregates: what each chart reads, folded and rebuilt alike."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from promptd.daemon.events import (
    CacheHit,
    CacheMiss,
    OptimizationCompleted,
    OptimizationFailed,
    OptimizationKept,
    OptimizationRejected,
    ProviderCallCompleted,
)
from promptd.daemon.projections import memory_log
from promptd.daemon.projections.analytics import (
    LATENCY_BOUNDS_MS,
    latency_bucket,
    percentile,
)
from promptd.daemon.values import Finding, Scores

SEC = 1_000_000_000
DAY = 86_400 * SEC
T0 = 1_795_000_000 * SEC  # 2026-11-18 (UTC)


def _scores(total: int) -> Scores:
    return Scores(
        clarity=total, specificity=total, structure=total, completeness=total, total=total
    )


def _done(
    opt_id: str, *, source: str = "cli", engine: str = "offline", before: int = 40, after: int = 80
) -> OptimizationCompleted:
    return OptimizationCompleted(
        opt_id=opt_id,
        prompt_hash="h" + opt_id,
        original="Do X",
        optimized="Do X well",
        prompt_type="general" if source != "lsp" else "code",
        engine=engine,
        source=source,
        score_before=_scores(before),
        score_after=_scores(after),
        findings=[
            Finding(code="PD001", severity="warning", message="vague"),
            Finding(code="PD007", severity="info", message="no format"),
        ],
        cached=source == "inbox",
    )


def _call(model: str, latency: int, ok: bool = True) -> ProviderCallCompleted:
    return ProviderCallCompleted(
        call_id=f"c{latency}", provider="xai", model=model, ok=ok, latency_ms=latency
    )


def test_optimizations_scores_and_findings_per_day_source_and_engine() -> None:
    log = memory_log()
    log.append([_done("a"), _done("b", source="lsp", before=20, after=60)], ts_ns=T0)
    log.append([_done("c", source="inbox", engine="llm")], ts_ns=T0 + DAY)
    log.append(OptimizationFailed(opt_id="d", error="guard", message="no"), ts_ns=T0 + DAY)
    with log.view() as view:
        days = view.analytics.optimizations_by_day()
        by_type = {s.key: s for s in view.analytics.scores_by_type()}
        by_day = {s.key: s for s in view.analytics.scores_by_day()}
        findings = view.analytics.findings()
        failed = view.analytics.failed_by_day()
    assert [(d.day, d.source, d.engine, d.completed, d.cached) for d in days] == [
        ("2026-11-18", "cli", "offline", 1, 0),
        ("2026-11-18", "lsp", "offline", 1, 0),
        ("2026-11-19", "inbox", "llm", 1, 1),
    ]
    assert (by_type["general"].count, by_type["general"].before, by_type["general"].after) == (
        2,
        40.0,
        80.0,
    )
    assert (by_type["code"].before, by_type["code"].after) == (20.0, 60.0)
    assert by_day["2026-11-18"].before == 30.0 and by_day["2026-11-18"].after == 70.0
    assert findings == [("PD001", 3), ("PD007", 3)]
    assert failed == {"2026-11-19": 1}


def test_cache_tiers_per_day_with_money_saved() -> None:
    log = memory_log()
    log.append(
        [
            CacheHit(cache="optimization", key="k", saved_ticks=5),
            CacheHit(cache="optimization", key="k", saved_ticks=7),
            CacheMiss(cache="optimization", key="j"),
            CacheMiss(cache="response", key="r"),
        ],
        ts_ns=T0,
    )
    with log.view() as view:
        rows = view.analytics.cache_by_day()
    assert [(r.day, r.cache, r.hits, r.misses, r.saved_ticks) for r in rows] == [
        ("2026-11-18", "optimization", 2, 1, 12),
        ("2026-11-18", "response", 0, 1, 0),
    ]


def test_provider_health_per_model_with_percentiles() -> None:
    log = memory_log()
    # bucket 47's bound is where a big-endian bucket number holds the byte "/"
    slow = LATENCY_BOUNDS_MS[47]
    calls = [_call("grok/fast", 100) for _ in range(18)] + [
        _call("grok/fast", slow),
        _call("grok/fast", slow, ok=False),
    ]
    log.append(calls, ts_ns=T0)
    with log.view() as view:
        (health,) = view.analytics.models()
    assert health.model == "grok_fast" and health.calls == 20 and health.errors == 1
    assert health.error_rate == 0.05
    assert 100 <= health.p50_ms <= 112
    assert health.p95_ms == slow
    assert health.mean_ms == round((18 * 100 + 2 * slow) / 20, 1)


def test_rebuild_gives_the_same_aggregates() -> None:
    log = memory_log()
    log.append([_done("a"), _call("m", 250), CacheHit(cache="lint", key="x")], ts_ns=T0)
    log.append([_done("b", source="lsp"), _call("m", 3, ok=False)], ts_ns=T0 + DAY)
    before = log.projection_bytes()["analytics"]
    log.rebuild()
    assert log.projection_bytes()["analytics"] == before


@given(st.integers(min_value=0, max_value=10**7))
def test_a_latency_falls_in_the_first_bucket_whose_bound_holds_it(ms: int) -> None:
    b = latency_bucket(ms)
    if ms <= LATENCY_BOUNDS_MS[-1]:
        assert ms <= LATENCY_BOUNDS_MS[b]
        assert b == 0 or LATENCY_BOUNDS_MS[b - 1] < ms
    else:
        assert b == len(LATENCY_BOUNDS_MS) - 1


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile({}, 0.5) == 0


def test_acceptance_counts_each_rewrite_once_by_its_latest_verdict() -> None:
    log = memory_log()
    log.append([_done("a"), _done("b", source="lsp"), _done("c", engine="llm")], ts_ns=T0)
    log.append([OptimizationKept(opt_id="a"), OptimizationKept(opt_id="b")], ts_ns=T0)
    log.append(OptimizationRejected(opt_id="c", why="too long"), ts_ns=T0 + DAY)
    log.append(OptimizationRejected(opt_id="a", why="changed my mind"), ts_ns=T0 + DAY)
    log.append(OptimizationKept(opt_id="late"), ts_ns=T0 + DAY)  # before its completion
    log.append(_done("late", engine="llm"), ts_ns=T0 + DAY)
    with log.view() as view:
        engine = {r.key: (r.kept, r.rejected) for r in view.analytics.acceptance("engine")}
        ptype = {r.key: (r.kept, r.rejected) for r in view.analytics.acceptance("type")}
        by_day = {r.key: (r.kept, r.rejected) for r in view.analytics.acceptance("day")}
        verdict_a = view.analytics.verdict("a")
        none = view.analytics.verdict("nope")
    assert engine == {"offline": (1, 1), "llm": (1, 1)}
    assert ptype == {"general": (1, 2), "code": (1, 0)}
    assert by_day == {"2026-11-18": (1, 0), "2026-11-19": (1, 2)}
    assert verdict_a is not None and verdict_a.verdict == "rejected"
    assert verdict_a.why == "changed my mind"
    assert none is None
    log.rebuild()
    with log.view() as view:
        rebuilt = {r.key: (r.kept, r.rejected) for r in view.analytics.acceptance("engine")}
    assert rebuilt == engine

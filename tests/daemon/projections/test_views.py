"""What each projection answers, as the CLI and the daemon ask it."""

from __future__ import annotations

from promptd.daemon.config import CacheConfig
from promptd.daemon.events import (
    AgentStepCompleted,
    BackupCreated,
    BackupFailed,
    BackupPruned,
    BatchCompleted,
    BatchItemCompleted,
    BatchStarted,
    BudgetAlert,
    BudgetReleased,
    BudgetReserved,
    BudgetSet,
    CacheHit,
    CacheMiss,
    LintCompleted,
    OptimizationCompleted,
    OptimizationFailed,
    OptimizationRequested,
    ProviderCallCompleted,
)
from promptd.daemon.projections import memory_log
from promptd.daemon.values import Finding, Scores

SEC = 1_000_000_000
T0 = 1_795_000_000 * SEC


def _scores(total: int) -> Scores:
    return Scores(
        clarity=total, specificity=total, structure=total, completeness=total, total=total
    )


def _completed(
    opt_id: str, *, cache_key: str = "", cached: bool = False, prompt_hash: str = "h"
) -> OptimizationCompleted:
    return OptimizationCompleted(
        opt_id=opt_id,
        prompt_hash=prompt_hash,
        original="Do X",
        optimized=f"Do X well ({opt_id})",
        prompt_type="general",
        score_before=_scores(40),
        score_after=_scores(80),
        cost_ticks=9,
        cache_key=cache_key,
        cached=cached,
    )


def test_history_lists_newest_first_and_finds_by_hash_prefix_and_steps() -> None:
    log = memory_log()
    for n, opt in enumerate(["a1", "b2", "c3"]):
        log.append(
            OptimizationRequested(
                opt_id=opt,
                prompt=f"  Prompt {opt}\nmore",
                prompt_hash="same" if opt != "b2" else "other",
                source="lsp",
            ),
            ts_ns=T0 + n * SEC,
        )
    log.append(
        [
            AgentStepCompleted(opt_id="a1", agent="diagnoser", summary="2 findings"),
            ProviderCallCompleted(
                call_id="c", provider="xai", model="m", opt_id="a1", cost_ticks=5
            ),
            _completed("a1", prompt_hash="same"),
            OptimizationFailed(opt_id="b2", error="provider", message="down"),
        ],
        ts_ns=T0 + 10 * SEC,
    )
    with log.view() as view:
        assert [e.opt_id for e in view.history.recent(10)] == ["c3", "b2", "a1"]
        assert [e.opt_id for e in view.history.recent(2)] == ["c3", "b2"]
        assert [e.opt_id for e in view.history.recent(10, status="completed")] == ["a1"]
        assert [e.opt_id for e in view.history.by_prompt_hash("same")] == ["c3", "a1"]
        a1 = view.history.get("a1")
        assert a1 is not None
        assert (a1.status, a1.preview, a1.source, a1.score_before, a1.score_after) == (
            "completed",
            "Prompt a1",
            "lsp",
            40,
            80,
        )
        assert [r.event.summary for r in view.history.steps("a1")] == ["2 findings"]  # type: ignore[union-attr]
        assert [r.event.cost_ticks for r in view.history.calls("a1")] == [5]  # type: ignore[union-attr]
        done = view.history.completed("a1")
        assert done is not None and done.optimized == "Do X well (a1)"
        failure = view.history.failure("b2")
        assert failure is not None and failure.message == "down"
        assert [e.opt_id for e in view.history.match("b")] == ["b2"]
        assert view.history.get("zz") is None


def test_budget_books_spend_by_day_month_model_and_source_and_tracks_holds() -> None:
    log = memory_log()
    log.append(
        [
            BudgetSet(daily_ticks=1000, monthly_ticks=None, alert_pct=75),
            OptimizationRequested(opt_id="o1", prompt="p", prompt_hash="h", source="inbox"),
            BudgetReserved(reservation_id="r1", ticks=300, day="2026-11-27", month="2026-11"),
            BudgetReserved(reservation_id="r2", ticks=200, day="2026-11-27", month="2026-11"),
        ]
    )
    with log.view() as view:
        assert view.budget.reserved(day="2026-11-27") == 500
        assert view.budget.reserved(month="2026-11") == 500
        assert {r.reservation_id for r in view.budget.open_reservations()} == {"r1", "r2"}
    log.append(
        [
            ProviderCallCompleted(
                call_id="c1",
                provider="xai",
                model="grok",
                opt_id="o1",
                cost_ticks=120,
                reservation_id="r1",
                day="2026-11-27",
                month="2026-11",
            ),
            BudgetReleased(reservation_id="r2"),
            BudgetReleased(reservation_id="r2"),  # twice: nothing more to release
            ProviderCallCompleted(call_id="c2", provider="xai", model="mini", cost_ticks=30),
            BudgetAlert(
                period="day",
                period_key="2026-11-27",
                spent_ticks=800,
                budget_ticks=1000,
                threshold_pct=75,
            ),
        ],
        ts_ns=T0,
    )
    with log.view() as view:
        b = view.budget
        assert b.reserved(day="2026-11-27") == 0 and b.open_reservations() == []
        assert b.spent(day="2026-11-27") == 120
        assert b.spent(month="2026-11") == 150  # both days are in November
        fallback_day = "2026-11-18"  # c2 had no day: the UTC day of its record
        assert b.spent(day=fallback_day) == 30
        assert b.spent() == 150
        assert [(m, s.ticks, s.calls) for m, s in b.by_model()] == [
            ("grok", 120, 1),
            ("mini", 30, 1),
        ]
        assert [(k, s.ticks) for k, s in b.by_source()] == [("inbox", 120), ("other", 30)]
        assert b.settings().daily_ticks == 1000 and b.settings().alert_pct == 75
        assert b.alert_sent("day", "2026-11-27", 75)
        assert not b.alert_sent("day", "2026-11-28", 75)


def test_cache_entries_expire_by_event_time_and_the_oldest_is_evicted() -> None:
    config = CacheConfig(optimization_ttl_s=100, response_ttl_s=10, lint_ttl_s=50, max_entries=2)
    log = memory_log(cache_config=config)
    log.append(_completed("o1", cache_key="k1"), ts_ns=T0)
    log.append(_completed("o2", cache_key="k2"), ts_ns=T0 + SEC)
    log.append(_completed("o3", cache_key="k3", cached=True), ts_ns=T0 + 2 * SEC)  # a hit
    with log.view() as view:
        hit = view.cache.get("optimization", "k1", T0 + 99 * SEC)
        assert hit is not None and hit.opt_id == "o1" and hit.expires_ns == T0 + 100 * SEC
        assert view.cache.get("optimization", "k1", T0 + 100 * SEC) is None  # expired
        assert view.cache.get("optimization", "k3", T0) is None  # a cached answer is no entry
        assert view.cache.entries("optimization") == 2
    log.append(_completed("o4", cache_key="k1"), ts_ns=T0 + 3 * SEC)  # replaces k1
    log.append(_completed("o5", cache_key="k5"), ts_ns=T0 + 4 * SEC)  # evicts k2, the oldest
    with log.view() as view:
        assert view.cache.get("optimization", "k2", T0 + 5 * SEC) is None
        found = view.cache.optimization("k1", T0 + 5 * SEC)
        assert found is not None and found.opt_id == "o4"
        assert view.cache.entries() == 2
    log.append(
        [
            ProviderCallCompleted(
                call_id="c", provider="xai", model="m", request_key="rk", response="the answer"
            ),
            ProviderCallCompleted(
                call_id="d", provider="xai", model="m", request_key="bad", ok=False
            ),
            LintCompleted(
                key="lk", findings=[Finding(code="PD001", severity="info", message="vague")]
            ),
        ],
        ts_ns=T0,
    )
    with log.view() as view:
        assert view.cache.response("rk", T0 + 9 * SEC) == "the answer"
        assert view.cache.response("rk", T0 + 10 * SEC) is None
        assert view.cache.response("bad", T0) is None
        lint = view.cache.lint("lk", T0 + 49 * SEC)
        assert lint is not None and lint.findings[0].code == "PD001"
        assert view.cache.live_entries("optimization", T0 + 5 * SEC) == 2


def test_stats_count_types_cache_rates_and_outcomes() -> None:
    log = memory_log()
    log.append(
        [
            CacheHit(cache="optimization", key="k"),
            CacheHit(cache="optimization", key="k"),
            CacheMiss(cache="optimization", key="j"),
            CacheMiss(cache="response", key="r"),
            OptimizationRequested(opt_id="o", prompt="p", prompt_hash="h"),
            _completed("o"),
            ProviderCallCompleted(call_id="c", provider="xai", model="m", ok=False),
        ]
    )
    log.append(OptimizationFailed(opt_id="p", error="guard", message="m"))
    with log.view() as view:
        s = view.stats
        assert s.by_type()["cache.hit"] == 2
        assert s.events() == 8
        rate = s.cache("optimization")
        assert (rate.hits, rate.misses) == (2, 1)
        assert rate.rate is not None and abs(rate.rate - 2 / 3) < 1e-9
        assert s.hit_rate() == 0.5
        assert s.optimizations() == {
            "requested": 1,
            "completed": 1,
            "failed": 1,
            "changed": 1,
            "cached": 0,
            "degraded": 0,
        }
        assert s.calls() == {"ok": 0, "failed": 1}
        assert s.cache("lint").rate is None


def test_backups_and_batches_projections() -> None:
    log = memory_log()
    created = [
        BackupCreated(
            backup_id=f"b{n}",
            file_name=f"f{n}",
            last_seq=n,
            event_count=n,
            size_bytes=10,
            sha256="s",
            verified=True,
        )
        for n in range(3)
    ]
    log.append(created[:2], ts_ns=T0)
    log.append(
        [
            created[2],
            BackupPruned(backup_id="b0", reason="rotation"),
            BackupFailed(reason="disk full"),
        ],
        ts_ns=T0 + SEC,
    )
    log.append(
        [
            BatchStarted(batch_id="x", file_name="a.txt", sha256="abc", count=3, format="txt"),
            BatchItemCompleted(batch_id="x", index=2, opt_id="o2"),
            BatchItemCompleted(batch_id="x", index=0, opt_id="o0"),
            BatchItemCompleted(batch_id="x", index=2, opt_id="o2"),
            BatchStarted(
                batch_id="y",
                file_name="b.txt",
                sha256="abc",
                count=1,
                format="txt",
                duplicate_of="x",
            ),
            BatchCompleted(batch_id="y", ok=1),
        ]
    )
    with log.view() as view:
        assert [b.backup_id for b in view.backups.list()] == ["b1", "b2"]
        assert [b.backup_id for b in view.backups.list(include_pruned=True)] == ["b0", "b1", "b2"]
        pruned = view.backups.get("b0")
        assert pruned is not None and pruned.pruned and pruned.prune_reason == "rotation"
        assert view.backups.last_at() == T0 + SEC
        assert view.backups.count() == 2
        assert view.backups.summary().last_failure == "disk full"
        x = view.batches.get("x")
        assert x is not None and (x.status, x.done, x.count) == ("running", 2, 3)
        assert view.batches.done_indexes("x") == {0, 2}
        assert [i for i, _ in view.batches.items("x")] == [0, 2]
        assert [b.batch_id for b in view.batches.by_sha256("abc")] == ["x", "y"]
        assert [b.batch_id for b in view.batches.running()] == ["x"]
        y = view.batches.get("y")
        assert y is not None and y.status == "completed" and y.duplicate_of == "x"


def test_hex_hashes_and_keys_stored_compact_are_found_exactly() -> None:
    """Hex digests are stored as their bytes: a hash that another starts with, an uppercase
    or odd-length one, and plain text each find only their own entries."""
    sha = "0123456789abcdef" * 4
    hashes = {"a1": "ab12", "b2": "ab12cd", "c3": sha, "d4": "AB12", "e5": "ab1", "f6": "ab12"}
    log = memory_log(cache_config=CacheConfig(max_entries=10))
    for n, (opt, h) in enumerate(hashes.items()):
        log.append(
            [
                OptimizationRequested(opt_id=opt, prompt="p", prompt_hash=h),
                _completed(opt, cache_key=h, prompt_hash=h),
            ],
            ts_ns=T0 + n * SEC,
        )
    with log.view() as view:
        assert [e.opt_id for e in view.history.by_prompt_hash("ab12")] == ["f6", "a1"]
        for opt, h in hashes.items():
            if h != "ab12":
                assert [e.opt_id for e in view.history.by_prompt_hash(h)] == [opt]
            hit = view.cache.get("optimization", h, T0 + 10 * SEC)
            assert hit is not None and hit.opt_id == ("f6" if h == "ab12" else opt)
        assert view.history.by_prompt_hash("ab") == []
        assert view.cache.get("optimization", "ab", T0) is None
        assert view.cache.entries("optimization") == 5
        assert view.cache.live_entries("optimization", T0) == 5


def test_evaluations_of_an_optimization_oldest_first() -> None:
    from promptd.daemon.events import EvaluationCompleted
    from promptd.daemon.projections import memory_log

    log = memory_log()
    log.append([EvaluationCompleted(eval_id="e1", opt_id="o1", wins=1)])
    log.append([EvaluationCompleted(eval_id="e2", opt_id="", wins=2)])  # two files: no opt
    log.append([EvaluationCompleted(eval_id="e3", opt_id="o1", wins=3)])
    with log.view() as view:
        assert [ev.eval_id for _, ev in view.evaluations.of("o1")] == ["e1", "e3"]
        assert view.evaluations.of("o2") == []
        got = view.evaluations.get("e2")
        assert got is not None and got.wins == 2

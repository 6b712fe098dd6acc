"""Hypothesis strategies: random event sequences over small id pools, so they interact."""

from __future__ import annotations

from hypothesis import strategies as st

from promptd.daemon import events as ev
from promptd.daemon.values import Finding, Scores

ids = st.sampled_from(["o1", "o2", "o3", "o4"])
keys = st.sampled_from(["k1", "k2", "k3", "k4", "k5", "ab12", "ab12cd"])  # hex: stored compact
res_ids = st.sampled_from(["r1", "r2", "r3"])
batch_ids = st.sampled_from(["b1", "b2"])
days = st.sampled_from(["", "2026-11-26", "2026-11-27"])
ticks = st.integers(min_value=0, max_value=10_000)
text = st.text(alphabet="ab \n", max_size=12)
scores = st.builds(
    Scores,
    clarity=st.just(1),
    specificity=st.just(2),
    structure=st.just(3),
    completeness=st.just(4),
    total=st.integers(0, 100),
)

events = st.one_of(
    st.builds(ev.DaemonStarted, pid=st.integers(1, 9), version=st.just("t")),
    st.builds(
        ev.OptimizationRequested,
        opt_id=ids,
        prompt=text,
        prompt_hash=keys,
        source=st.sampled_from(["cli", "lsp", "inbox"]),
    ),
    st.builds(ev.AgentStepCompleted, opt_id=ids, agent=st.sampled_from(["designer", "evaluator"])),
    st.builds(
        ev.OptimizationCompleted,
        opt_id=ids,
        prompt_hash=keys,
        original=text,
        optimized=text,
        prompt_type=st.sampled_from(["general", "code"]),
        engine=st.sampled_from(["offline", "llm"]),
        cache_key=st.one_of(st.just(""), keys),
        cached=st.booleans(),
        score_before=st.one_of(st.none(), scores),
        cost_ticks=ticks,
    ),
    st.builds(ev.OptimizationFailed, opt_id=ids, error=st.just("provider"), message=text),
    st.builds(ev.OptimizationKept, opt_id=ids, source=st.sampled_from(["cli", "lsp"])),
    st.builds(ev.OptimizationRejected, opt_id=ids, why=text),
    st.builds(ev.CacheHit, cache=st.sampled_from(["optimization", "response"]), key=keys),
    st.builds(ev.CacheMiss, cache=st.sampled_from(["optimization", "lint"]), key=keys),
    st.builds(
        ev.ProviderCallCompleted,
        call_id=keys,
        provider=st.just("xai"),
        model=st.sampled_from(["m1", "m2"]),
        opt_id=st.one_of(st.just(""), ids),
        ok=st.booleans(),
        cost_ticks=ticks,
        reservation_id=st.one_of(st.just(""), res_ids),
        request_key=st.one_of(st.just(""), keys),
        response=text,
        day=days,
        prompt_tokens=st.integers(0, 50),
    ),
    st.builds(ev.BudgetSet, daily_ticks=st.one_of(st.none(), ticks)),
    st.builds(
        ev.ProviderModeLearned,
        provider=st.sampled_from(["openai", "xai"]),
        base_url=st.sampled_from(["http://127.0.0.1:8080/v1", "https://api.x.ai/v1"]),
        model=st.sampled_from(["m1", "m2"]),
        reason=text,
    ),
    st.builds(ev.BudgetReserved, reservation_id=res_ids, ticks=ticks, day=days),
    st.builds(ev.BudgetReleased, reservation_id=res_ids),
    st.builds(
        ev.BudgetAlert,
        period=st.just("day"),
        period_key=days,
        spent_ticks=ticks,
        budget_ticks=ticks,
    ),
    st.builds(
        ev.BatchStarted,
        batch_id=batch_ids,
        file_name=text,
        sha256=keys,
        count=st.integers(0, 5),
        format=st.just("txt"),
    ),
    st.builds(ev.BatchItemCompleted, batch_id=batch_ids, index=st.integers(0, 4), cost_ticks=ticks),
    st.builds(ev.BatchCompleted, batch_id=batch_ids),
    st.builds(
        ev.BatchFailed, file_name=text, reason=text, batch_id=st.one_of(st.just(""), batch_ids)
    ),
    st.builds(ev.BatchCancelled, batch_id=batch_ids),
    st.builds(
        ev.BackupCreated,
        backup_id=keys,
        file_name=text,
        last_seq=ticks,
        event_count=ticks,
        size_bytes=ticks,
        sha256=keys,
    ),
    st.builds(ev.BackupPruned, backup_id=keys),
    st.builds(ev.BackupRestored, backup_id=keys),
    st.builds(ev.BackupFailed, reason=text),
    st.builds(
        ev.LintCompleted,
        key=keys,
        findings=st.lists(
            st.builds(Finding, code=st.just("PD001"), severity=st.just("info"), message=text),
            max_size=2,
        ),
    ),
    st.builds(
        ev.EvaluationCompleted,
        eval_id=st.sampled_from(["e1", "e2"]),
        opt_id=st.sampled_from(["", "o1", "o2"]),
        wins=st.integers(0, 3),
        cost_ticks=ticks,
    ),
)

# a log written in batches: each inner list is one append
batches = st.lists(st.lists(events, min_size=0, max_size=6), min_size=1, max_size=12)

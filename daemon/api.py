"""The control API's contract: JSON-RPC 2.0 methods, their params and results.

One JSON object a line over the Unix socket in ``run/``. Params are decoded with
``forbid_unknown_fields`` (they come from people and editors); results are plain Structs.
Long work (``optimize``, ``batch.submit``, ``backup.now``) sends ``progress`` notifications
whose ``token`` is the request's ``progress_token`` when it gave one.

The envelope, the framing and the error codes are :mod:`promptd.daemon.wire`'s (the codes
are re-exported here).
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec

from .events import OptimizationCompleted
from .values import Change, Finding, Grounding, Related, Scores, ticks_to_usd

# The JSON-RPC error codes are the wire protocol's (promptd.daemon.wire); they are here too
# because a client reads them with the rest of the contract.
from .wire import (
    BACKUP_ERROR as BACKUP_ERROR,
)
from .wire import (
    BATCH_ERROR as BATCH_ERROR,
)
from .wire import (
    BUDGET_ERROR as BUDGET_ERROR,
)
from .wire import (
    INPUT_ERROR as INPUT_ERROR,
)
from .wire import (
    INTERNAL_ERROR as INTERNAL_ERROR,
)
from .wire import (
    INVALID_PARAMS as INVALID_PARAMS,
)
from .wire import (
    INVALID_REQUEST as INVALID_REQUEST,
)
from .wire import (
    MESSAGE_TOO_LARGE as MESSAGE_TOO_LARGE,
)
from .wire import (
    METHOD_NOT_FOUND as METHOD_NOT_FOUND,
)
from .wire import (
    NOT_FOUND as NOT_FOUND,
)
from .wire import (
    PARSE_ERROR as PARSE_ERROR,
)
from .wire import (
    PROVIDER_ERROR as PROVIDER_ERROR,
)
from .wire import (
    SHUTTING_DOWN as SHUTTING_DOWN,
)

MAX_BUDGET_USD: Final = 1_000_000.0
"""The largest daily or monthly budget (USD) the daemon accepts; larger is surely a typo."""

# A budget in USD: a finite amount from 0 to MAX_BUDGET_USD (inf and 1e400 fail the bound)
BudgetUsd = Annotated[float, msgspec.Meta(ge=0, le=MAX_BUDGET_USD)]
# An id a person types: a batch id (``b_...``) or a unique prefix of one; ASCII, so it is
# always a valid key in the event log's index
# the model families ``optimize`` can write for (``--for``); the engine's table of their
# conventions is promptd.daemon.engine.targets.CONVENTIONS
TARGETS: Final = ("grok", "gpt", "claude", "llama", "generic")
MAX_INSTRUCT_CHARS: Final = 2000

BatchId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class Params(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every method's params."""


class Empty(Params):
    pass


# --- optimize / lint ---------------------------------------------------------------------


class OptimizeParams(Params):
    text: str
    prompt_type: str = "auto"  # auto | general | creative | technical | analytical | code
    engine: str | None = None  # offline | llm (None: the configured engine)
    model: str | None = None
    no_cache: bool = False
    estimate: bool = False  # only estimate the cost; make no call
    source: str = "api"  # cli | lsp | inbox | batch | api
    progress_token: str | None = None
    # rewrite with an instruction ("more formal, under 100 words"); None: a plain rewrite
    instruct: str | None = None
    # the model family to write for: grok | gpt | claude | llama | generic (None: the
    # configured ``[engine] target``)
    target: str | None = None

    def __post_init__(self) -> None:
        if self.instruct is not None:
            if len(self.instruct) > MAX_INSTRUCT_CHARS:
                raise ValueError(
                    f"instruct is {len(self.instruct)} characters; keep the instruction under "
                    f"{MAX_INSTRUCT_CHARS}"
                )
            self.instruct = self.instruct.strip() or None
        if self.target is not None:
            value = self.target.strip().lower()
            if value not in TARGETS:
                raise ValueError(f"unknown target {self.target!r}; use one of {', '.join(TARGETS)}")
            self.target = value


class OptimizeResult(msgspec.Struct, kw_only=True):
    """What ``optimize --json`` prints (DESIGN.md names the fields)."""

    id: str
    original: str
    optimized: str
    prompt_type: str
    engine: str
    model: str
    score_before: int
    score_after: int
    findings: list[Finding]
    changes: list[Change]
    placeholders: list[str]
    cost_usd: float
    cached: bool
    degraded: bool
    duration_ms: int
    changed: bool = True
    unchanged_reason: str = ""
    degraded_reason: str = ""
    detected_type: bool = False
    route: str = "fast"
    model_reason: str = ""
    scores_before: Scores | None = None
    scores_after: Scores | None = None
    # what the lint of ``optimized`` still finds: the findings left for the author
    left: list[Finding] = msgspec.field(default_factory=list)
    related: list[Related] = msgspec.field(default_factory=list)  # similar prompts found
    # what the LLM Designer was given from the library (examples, passages), and why not
    grounding: list[Grounding] = msgspec.field(default_factory=list)
    grounding_note: str = ""
    alerts: list[str] = msgspec.field(default_factory=list)  # budget alerts this run crossed
    instruct: str = ""  # the instruction the rewrite followed
    target: str = ""  # the model family it was written for
    # the parts of the instruction (and target conventions) the engine could not honour,
    # each with a short reason
    instruct_unmet: list[str] = msgspec.field(default_factory=list)


def result_from_event(done: OptimizationCompleted) -> OptimizeResult:
    """A stored ``OptimizationCompleted`` as the API (and ``optimize --json``) shows it."""
    before, after = done.score_before, done.score_after
    return OptimizeResult(
        id=done.opt_id,
        original=done.original,
        optimized=done.optimized,
        prompt_type=done.prompt_type,
        engine=done.engine,
        model=done.model,
        score_before=before.total if before else 0,
        score_after=after.total if after else 0,
        findings=list(done.findings),
        changes=list(done.changes),
        placeholders=list(done.placeholders),
        cost_usd=ticks_to_usd(done.cost_ticks),
        cached=done.cached,
        degraded=done.degraded,
        duration_ms=done.duration_ms,
        changed=done.changed,
        unchanged_reason=done.unchanged_reason,
        degraded_reason=done.degraded_reason,
        detected_type=done.detected,
        route=done.route,
        model_reason=done.model_reason,
        scores_before=before,
        scores_after=after,
        left=list(done.left)
        if done.left is not None
        else ([] if done.changed else list(done.findings)),
        related=list(done.related),
        instruct=done.instruct,
        target=done.target,
        instruct_unmet=list(done.instruct_unmet),
        grounding=list(done.grounding),
        grounding_note=done.grounding_note,
    )


class EstimateResult(msgspec.Struct, kw_only=True):
    engine: str
    model: str
    calls: int
    input_tokens: int
    max_output_tokens: int
    estimated_usd: float
    worst_case_usd: float


class LintParams(Params):
    text: str
    prompt_type: str = "auto"
    engine: str | None = None  # None/offline: the rules; llm: the model, lint-cached (2 h)


class LintResult(msgspec.Struct, kw_only=True):
    prompt_type: str
    findings: list[Finding]
    score: int
    cached: bool = False


WARM_MAX_PROMPTS = 64  # prompts in one ``analysis.warm`` call


class WarmParams(Params):
    """``analysis.warm``: prompts to analyse in the background (see the method's docstring)."""

    prompts: list[str]
    source: str = "lsp"  # lsp | library | cli | ...: who offered them (for the log)


class WarmResult(msgspec.Struct, kw_only=True):
    queued: int  # taken into the warm queue (or already waiting in it)
    dropped: int  # not taken: the queue was full
    skipped: int = 0  # not taken: nothing to warm (the offline engine caches no analysis)
    reason: str = ""  # why prompts were skipped


class WarmStatus(msgspec.Struct, kw_only=True):
    """``status --json`` ``warming``: the background analysis since the daemon started."""

    queued: int = 0  # waiting now
    done: int = 0  # analysed (a call made, or already in the lint cache)
    dropped: int = 0  # the queue was full
    skipped: int = 0  # no provider, breaker open, budget low
    failed: int = 0
    warmed: int = 0  # of done: the analyses that needed a call
    lint_hits: int = 0  # the lint tier's hits and hit rate (what warming is for)
    lint_hit_rate: float = 0.0
    last_error: str = ""


# --- history -----------------------------------------------------------------------------


class HistoryParams(Params):
    limit: int = 20
    prompt_hash: str | None = None  # only optimizations of this (normalized) prompt
    text: str | None = None  # convenience: hash this text and filter by it


class HistoryItem(msgspec.Struct, kw_only=True):
    id: str
    at: str  # ISO 8601, UTC
    prompt_type: str
    engine: str
    model: str
    score_before: int
    score_after: int
    cost_usd: float
    cached: bool
    degraded: bool
    source: str
    preview: str  # first line of the original, shortened


class HistoryResult(msgspec.Struct, kw_only=True):
    items: list[HistoryItem]


class ShowParams(Params):
    id: str  # an optimization id, or a unique prefix of one


class StepInfo(msgspec.Struct, kw_only=True):
    agent: str
    attempt: int
    duration_ms: float
    summary: str
    model: str = ""


class CallInfo(msgspec.Struct, kw_only=True):
    agent: str
    model: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    reasoning_tokens: int
    latency_ms: int
    cost_usd: float
    ok: bool


class EvalSummary(msgspec.Struct, kw_only=True):
    """One ``promptd eval`` of an optimization, as ``show`` lists it (the candidate's counts;
    ``score`` = (wins + ties/2) / compared, ``low``-``high`` its 95% Wilson interval)."""

    eval_id: str
    at: str
    status: str  # completed | stopped
    target_model: str
    judge_model: str
    drafted: bool
    wins: int
    ties: int
    losses: int
    score: float
    low: float
    high: float
    cost_usd: float
    stopped_reason: str = ""
    reasons: list[str] = msgspec.field(default_factory=list)  # per sample: "1 win: ..."


class ShowResult(msgspec.Struct, kw_only=True):
    optimization: OptimizeResult
    at: str
    source: str
    steps: list[StepInfo]
    calls: list[CallInfo]
    evaluations: list[EvalSummary] = msgspec.field(default_factory=list)  # promptd eval ID


# --- costs / budget ----------------------------------------------------------------------


class CostRow(msgspec.Struct, kw_only=True):
    key: str  # a day, a model or a source
    cost_usd: float
    calls: int


class CostsResult(msgspec.Struct, kw_only=True):
    today_usd: float
    month_usd: float
    total_usd: float
    forecast_30d_usd: float
    by_day: list[CostRow]
    by_model: list[CostRow]
    by_source: list[CostRow]
    tokens: dict[str, int] = msgspec.field(default_factory=dict)  # prompt, cached, completion...


class BudgetInfo(msgspec.Struct, kw_only=True):
    daily_budget_usd: float | None
    monthly_budget_usd: float | None
    alert_pct: int
    today_usd: float
    month_usd: float
    reserved_usd: float


class BudgetSetParams(Params):
    daily_usd: BudgetUsd | None = None
    monthly_usd: BudgetUsd | None = None
    clear_daily: bool = False
    clear_monthly: bool = False
    alert_pct: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None


# --- backups / batches -------------------------------------------------------------------


class BackupNowParams(Params):
    progress_token: str | None = None


class BackupInfo(msgspec.Struct, kw_only=True):
    id: str
    at: str
    size_bytes: int
    events: int
    last_seq: int
    verified: bool
    path: str


class BackupListResult(msgspec.Struct, kw_only=True):
    backups: list[BackupInfo]


class BatchSubmitParams(Params):
    path: str  # absolute path of the file to run
    output: str | None = None
    prompt_type: str = "auto"
    engine: str | None = None
    progress_token: str | None = None


class BatchInfo(msgspec.Struct, kw_only=True):
    id: str
    file_name: str
    done: int
    total: int
    rate_per_s: float
    eta_s: float | None
    cost_usd: float
    state: str  # running | completed | failed | cancelled
    output_path: str = ""
    reason: str = ""
    degraded: int = 0  # rows answered by a stand-in (offline engine or cache) in this run
    degraded_reason: str = ""  # why, for the first of them


class BatchIdParams(Params):
    id: BatchId


# --- progress notification -----------------------------------------------------------------


class Progress(msgspec.Struct, kw_only=True):
    """``progress`` notification: one agent step, one batch item, one backup phase."""

    token: str
    kind: str  # optimize | batch | backup
    message: str
    done: int = 0
    total: int = 0
    opt_id: str = ""
    agent: str = ""
    batch_id: str = ""
    cost_usd: float = 0.0


# --- status / subscriptions (added by the daemon issue) ------------------------------------


class ProviderSettings(msgspec.Struct, kw_only=True):
    """``status --json`` ``provider.settings``: what decides which provider answers, without
    a secret (:mod:`promptd.daemon.providers.settings`); the CLI compares its own."""

    kind: str  # offline | xai | openai
    base_url: str = ""  # redacted; "" = the provider's default
    model: str = ""  # "" = the provider's default
    key_env: str = ""  # the variable the key is read from
    key: str = ""  # "" = not set, else a 12-hex salted digest (never the key)
    config: str = ""  # 12-hex digest of the rest of [provider] (timeouts, models, ...)
    fingerprint: str = ""  # 16-hex digest of all of the above


class ProviderStatus(msgspec.Struct, kw_only=True):
    name: str  # offline | xai | openai
    model: str
    circuit: str  # closed | open | half_open (offline: closed)
    json_mode: str = ""  # json_schema | json_object: what the default model is asked with
    json_modes: dict[str, str] = msgspec.field(default_factory=dict)  # models that refused
    calls_in_flight: int = 0  # LLM calls out right now
    settings: ProviderSettings | None = None  # the daemon's (None: no daemon answered)


class EventsStatus(msgspec.Struct, kw_only=True):
    count: int
    last_seq: int
    bytes: int  # size of the LMDB environment on disk


class CacheTier(msgspec.Struct, kw_only=True):
    """One cache tier: response (1 h), optimization (24 h), lint (2 h, the analysis)."""

    hits: int
    misses: int
    hit_rate: float  # 0..1 (0 before the first lookup)
    ttl_s: int


class CacheStatus(msgspec.Struct, kw_only=True):
    entries: int
    hit_rate: float  # 0..1 over every cache tier's lookups
    tiers: dict[str, CacheTier] = msgspec.field(default_factory=dict)


class AlertInfo(msgspec.Struct, kw_only=True):
    """One budget alert of the current day or month, with an id a client can show once.

    ``id`` is ``budget:<period>:<period_key>:<threshold_pct>`` (``budget:day:2026-12-03:80``):
    the daemon records one ``BudgetAlert`` per period and threshold, so the same id never
    means two alerts; a client that remembers the ids it has shown shows each alert once,
    across reconnects and daemon restarts.
    """

    id: str
    period: str  # day | month
    period_key: str  # 2026-12-03 | 2026-12
    threshold_pct: int
    spent_usd: float
    budget_usd: float
    reset_at: str  # ISO 8601, local time the period ends
    text: str  # the line a person reads (as in ``alerts``)


def alert_id(period: str, period_key: str, threshold_pct: int) -> str:
    """The stable id of a budget alert (see :class:`AlertInfo`)."""
    return f"budget:{period}:{period_key}:{threshold_pct}"


class SpendStatus(msgspec.Struct, kw_only=True):
    today_usd: float
    month_usd: float
    daily_budget_usd: float | None
    monthly_budget_usd: float | None
    forecast_30d_usd: float
    reserved_usd: float = 0.0  # held by LLM calls in flight
    alerts: list[str] = msgspec.field(default_factory=list)  # this period's budget alerts
    alert_items: list[AlertInfo] = msgspec.field(default_factory=list)  # the same, with ids


class BackupsStatus(msgspec.Struct, kw_only=True):
    count: int
    last_at: str | None  # ISO 8601, UTC
    next_at: str | None
    last_error: str = ""


class InboxStatus(msgspec.Struct, kw_only=True):
    path: str
    pending: int  # files waiting in the inbox folder
    batches: list[BatchInfo]
    failed: int = 0  # files waiting in inbox/failed/ beside their NAME.error.txt
    errors: list[str] = msgspec.field(default_factory=list)  # newest .error.txt first lines
    problems: list[str] = msgspec.field(default_factory=list)  # the watch's, stalled batches


class StatusResult(msgspec.Struct, kw_only=True):
    """What ``status --json`` prints (DESIGN.md names the fields)."""

    running: bool
    pid: int | None
    version: str
    home: str
    engine: str
    provider: ProviderStatus
    events: EventsStatus
    cache: CacheStatus
    spend: SpendStatus
    backups: BackupsStatus
    inbox: InboxStatus
    uptime_s: float | None = None
    socket: str = ""
    log_file: str = ""
    optimizations: int = 0
    in_flight: int = 0
    dashboard_url: str = ""  # the web dashboard (with this start's token); "" when off
    library: LibrarySummary | None = None
    warming: WarmStatus = msgspec.field(default_factory=WarmStatus)


class LibrarySummary(msgspec.Struct, kw_only=True):
    """The library's line in ``status``: what is indexed and how often rewrites are kept."""

    documents: int
    kept: int
    rejected: int
    acceptance_rate: float | None


class SubscribeParams(Params):
    topics: list[str] = msgspec.field(default_factory=lambda: ["status"])


class StatusNotice(msgspec.Struct, kw_only=True):
    """``status`` notification pushed to subscribers: the language server's status bar, and
    ``message`` for a budget alert or a breaker opening (shown to the person)."""

    engine: str
    provider: str
    model: str
    circuit: str
    today_usd: float
    month_usd: float
    daily_budget_usd: float | None
    monthly_budget_usd: float | None
    message: str = ""  # "" = a plain state update
    level: str = "info"  # info | warning | error
    event: str = ""  # the event type that caused it (budget.alert, circuit.changed, ...)
    alert_id: str = ""  # a budget alert's stable id (:class:`AlertInfo`): show each once

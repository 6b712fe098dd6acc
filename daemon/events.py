"""The event schema: every fact promptd records is one of these; the glossary of the domain.

Each event's docstring says what happened, who emits it, and in what units (money: USD
ticks). The projections that read them are in :mod:`promptd.daemon.projections`.

Rules (see DESIGN.md "Events"):

* Structs are ``frozen=True, kw_only=True`` and tagged with a stable string in ``type``.
* New fields get defaults; a field never changes type; old code skips unknown fields
  (no ``forbid_unknown_fields`` here); an event type that is no longer produced stays
  decodable forever.
* Money is an integer count of USD ticks (1 USD = 10**10 ticks), never a float.

Stored form: the value under an 8-byte big-endian sequence key is a MessagePack
:class:`Envelope` whose ``event`` is the MessagePack of the event itself, kept raw so that a
log written by a newer schema (unknown tags, unknown fields) still opens: such events decode
to :class:`UnknownEvent` and projections skip them.
"""

from __future__ import annotations

import struct
import typing
from typing import Final

import msgspec

from .values import Change, Finding, Grounding, Related, Scores

SCHEMA_VERSION: Final = 1


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of every event; subclasses set a stable ``tag``."""


# --- daemon lifecycle --------------------------------------------------------------------


class DaemonStarted(_Event, frozen=True, kw_only=True, tag="daemon.started"):
    """The daemon came up and owns the store: its pid, promptd version, and the engine,
    provider and model it will use. Emitted by the core service at start (``promptd start``)."""

    pid: int
    version: str
    engine: str = "offline"
    provider: str = "offline"
    model: str = ""


class DaemonStopped(_Event, frozen=True, kw_only=True, tag="daemon.stopped"):
    """The daemon shut down (``reason``: ``shutdown`` asked for, a ``signal``, or an ``error``);
    ``interrupted`` counts the optimizations cut off when the bounded wait for them ran
    out. Emitted by the core service as its last event."""

    pid: int
    reason: str = "shutdown"  # shutdown | signal | error
    interrupted: int = 0  # optimizations cut off by the bounded wait


class ConfigReloaded(_Event, frozen=True, kw_only=True, tag="config.reloaded"):
    """``config.toml`` was read again (SIGHUP): the engine, provider and model now in use.
    Emitted by the core service."""

    engine: str = ""
    provider: str = ""
    model: str = ""


# --- optimizations -----------------------------------------------------------------------


class OptimizationRequested(_Event, frozen=True, kw_only=True, tag="optimization.requested"):
    """Someone asked for a prompt to be optimized: the first event of an optimization
    ``opt_id``, with the prompt as given, its ``prompt_hash`` and where it came from
    (``source``: the CLI, the language server, an inbox batch...). Emitted by the daemon's
    optimizer before any work; the history and budget projections key on ``opt_id``."""

    opt_id: str
    prompt: str
    prompt_hash: str  # sha256 hex of the normalized prompt
    prompt_type: str = "auto"  # as asked: auto | general | creative | ...
    engine: str = "offline"
    model: str = ""
    source: str = "cli"  # cli | lsp | inbox | batch | api | import
    batch_id: str = ""
    no_cache: bool = False
    instruct: str = ""  # the author's instruction for the rewrite (--instruct)
    target: str = ""  # the model family it is written for (--for): grok | gpt | claude | llama


class AgentStepCompleted(_Event, frozen=True, kw_only=True, tag="agent.step_completed"):
    """One of the four agents (Deconstructor, Diagnoser, Designer, Evaluator) finished its
    step of optimization ``opt_id``: which engine and model ran it, how long it took (µs), a
    one-line summary for ``promptd show``, and its typed output for replay. Emitted by the
    engine's pipeline."""

    opt_id: str
    agent: str  # deconstructor | diagnoser | designer | evaluator
    attempt: int = 1
    engine: str = "offline"
    model: str = ""
    duration_us: int = 0
    summary: str = ""  # one line for `promptd show`
    output: bytes = b""  # the agent's typed output, JSON-encoded, for replay


class OptimizationCompleted(_Event, frozen=True, kw_only=True, tag="optimization.completed"):
    """An optimization finished with a result: the original and optimized prompt, the type
    used, the scores before and after, the findings and the changes (each naming the finding
    it answers), the placeholders kept, and what it cost (``cost_ticks``, USD ticks: the sum
    of its provider calls). ``instruct``/``target``: the author's instruction and target model
    family, ``instruct_unmet`` what of them the engine could not honour, with the reasons.
    ``cached``: answered from the optimization cache; ``degraded``:
    the provider failed and the offline engine answered. A non-empty ``cache_key`` fills the
    optimization cache. Emitted by the engine's pipeline; what ``optimize --json`` shows."""

    opt_id: str
    prompt_hash: str
    original: str
    optimized: str
    prompt_type: str  # the type used (detected when `auto` was asked)
    detected: bool = False  # True when prompt_type came from `auto`
    engine: str = "offline"
    model: str = ""
    model_reason: str = ""  # why this model (router decision)
    route: str = "fast"  # fast | full
    changed: bool = True
    unchanged_reason: str = ""
    score_before: Scores | None = None
    score_after: Scores | None = None
    findings: list[Finding] = msgspec.field(default_factory=list)
    changes: list[Change] = msgspec.field(default_factory=list)
    placeholders: list[str] = msgspec.field(default_factory=list)
    cost_ticks: int = 0
    cached: bool = False
    degraded: bool = False
    degraded_reason: str = ""
    duration_ms: int = 0
    cache_key: str = ""  # optimization-cache key (empty: not cacheable)
    source: str = "cli"
    batch_id: str = ""
    # the lint of the optimized prompt: what is left for the author (None: not recorded,
    # events written before it existed)
    left: list[Finding] | None = None
    related: list[Related] = msgspec.field(default_factory=list)  # what the library found
    instruct: str = ""  # the author's instruction (--instruct); part of the cache key
    target: str = ""  # the model family written for (--for); part of the cache key
    # the parts of the instruction (and target conventions) not honoured, each with a reason
    instruct_unmet: list[str] = msgspec.field(default_factory=list)
    # what the LLM Designer was given from the library, and why there is none or less
    grounding: list[Grounding] = msgspec.field(default_factory=list)
    grounding_note: str = ""


class OptimizationKept(_Event, frozen=True, kw_only=True, tag="optimization.kept"):
    """The author kept a rewrite: ``promptd keep ID``, or the editor saw the applied edit stay.
    Kept rewrites rank first as examples for similar prompts."""

    opt_id: str
    source: str = "cli"  # cli | lsp | api


class OptimizationRejected(_Event, frozen=True, kw_only=True, tag="optimization.rejected"):
    """The author rejected a rewrite: ``promptd reject ID [--why TEXT]``, or undid it in the
    editor. A rejected rewrite is never offered as an example again."""

    opt_id: str
    why: str = ""
    source: str = "cli"


class LibrarySearched(_Event, frozen=True, kw_only=True, tag="library.searched"):
    """The LLM Designer looked something up with its ``search_library`` tool (at most two
    lookups a run): the run, the query, what was found (each hit as it was given to the
    Designer) and how long it took. ``call_id`` is the ``ProviderCallCompleted`` of the round
    trip that asked for it (the one a run without the lookup would not have made) and
    ``cost_ticks`` what that round trip cost, counted in the run's cost and the budget.
    ``note``: why there is less (the index not ready, Collections down)."""

    opt_id: str
    query: str
    hits: list[Grounding] = msgspec.field(default_factory=list)
    duration_ms: int = 0
    call_id: str = ""
    cost_ticks: int = 0
    note: str = ""


class OptimizationFailed(_Event, frozen=True, kw_only=True, tag="optimization.failed"):
    """An optimization ended without a result: a stable ``error`` code (``input_too_large``,
    ``guard``, ``provider``, ``budget``, ``interrupted``, ``internal``) and a message for
    people. Emitted by the engine's pipeline (``interrupted=True``: cut off by a shutdown)."""

    opt_id: str
    error: str  # stable code: input_too_large | guard | provider | budget | interrupted | internal
    message: str
    interrupted: bool = False


class CacheHit(_Event, frozen=True, kw_only=True, tag="cache.hit"):
    """A lookup in one of the caches (``optimization``, ``response``, ``lint``) found a live
    entry: the work was not done again. ``source_opt_id`` is the optimization whose result
    was reused, ``saved_ticks`` what it would have cost (USD ticks). Emitted by the
    optimizer and by the metered provider call; counted in the stats (hit rate)."""

    cache: str  # optimization | response | lint
    key: str
    opt_id: str = ""
    source_opt_id: str = ""  # the optimization whose result was reused
    saved_ticks: int = 0


class CacheMiss(_Event, frozen=True, kw_only=True, tag="cache.miss"):
    """A lookup in one of the caches found nothing live, so the work is done. Emitted by the
    optimizer, the metered provider call and the LLM lint; counted in the stats."""

    cache: str
    key: str
    opt_id: str = ""


# --- providers ---------------------------------------------------------------------------


class ProviderCallStarted(_Event, frozen=True, kw_only=True, tag="provider.call_started"):
    """A provider call about to go out, durable before its request leaves.

    Recorded in the transaction that reserves its budget. A started call with no
    ``ProviderCallCompleted`` naming its ``call_id`` was cut off by a crash: the next daemon
    start books it as spent at its reservation (a provider may have served and billed it).
    """

    call_id: str
    provider: str  # xai | openai
    model: str
    opt_id: str = ""
    agent: str = ""
    reservation_id: str = ""  # the budget reservation its completion settles
    reserved_ticks: int = 0  # the most it can cost: estimated input + its max_tokens
    max_tokens: int = 0
    day: str = ""  # local day (YYYY-MM-DD) the spend is booked on
    month: str = ""


class ProviderCallCompleted(_Event, frozen=True, kw_only=True, tag="provider.call_completed"):
    """One HTTP call to an LLM provider ended, well or not (``ok``, the HTTP ``status``,
    ``error``): model, tokens by kind, latency, retries, and its cost in USD ticks
    (``cost_reported``: the provider said so itself, else computed from the price table). It
    settles the budget reservation it names, is booked on the local ``day``/``month`` it
    carries, and with a ``request_key`` fills the response cache. Emitted by the metered
    call in ``providers``; never holds the API key."""

    call_id: str
    provider: str  # xai | openai
    model: str
    opt_id: str = ""
    agent: str = ""
    ok: bool = True
    status: int = 200  # HTTP status (0 when no response: timeout, connect error)
    error: str = ""
    prompt_tokens: int = 0  # includes cached_tokens
    cached_tokens: int = 0
    completion_tokens: int = 0  # excludes reasoning_tokens (xAI reports them apart)
    reasoning_tokens: int = 0
    latency_ms: int = 0
    cost_ticks: int = 0
    cost_reported: bool = False  # True when the response carried cost_in_usd_ticks
    attempts: int = 1
    reservation_id: str = ""  # the budget reservation this call settles
    request_key: str = ""  # response-cache key (sha256 of the canonical request)
    response: str = ""  # the message content, for the response cache
    day: str = ""  # local day (YYYY-MM-DD) the spend is booked on
    month: str = ""  # local month (YYYY-MM)
    recovered: bool = False  # booked at daemon start for a call a crash cut off


class CircuitChanged(_Event, frozen=True, kw_only=True, tag="circuit.changed"):
    """A provider's circuit breaker changed state (``closed``, ``open``, ``half_open``) after
    ``failures`` failures in a row, or a successful probe. While it is open the daemon
    answers from cache or the offline engine, ``degraded``. Emitted by the breaker."""

    provider: str
    old: str  # closed | open | half_open
    new: str
    failures: int = 0
    reason: str = ""


class ProviderModeLearned(_Event, frozen=True, kw_only=True, tag="provider.mode_learned"):
    """An endpoint and model refused a way of asking (``feature``, e.g. ``response_format``
    ``json_schema``), so ``mode`` is what the daemon uses with them from now on, across
    restarts (``json_object``). ``base_url`` is redacted (no credentials). Emitted by the LLM
    engine on the first refusal; folded into the ``provider_modes`` projection, which the
    provider reads at start. Another base URL or model learns again."""

    provider: str  # xai | openai
    base_url: str  # redacted: scheme, host, port, path
    model: str
    feature: str = "response_format"  # response_format | tools (a hook for tool calls)
    mode: str = "json_object"  # what works: json_object (response_format), none (tools)
    refused: str = "json_schema"  # what the endpoint refused
    reason: str = ""  # the endpoint's error, shortened


# --- budgets -----------------------------------------------------------------------------


class BudgetSet(_Event, frozen=True, kw_only=True, tag="budget.set"):
    """The spending limits now in force, in USD ticks per local day and month (``None``: no
    limit), and the percentage of a limit at which an alert is sent. Emitted by
    ``promptd budget`` (through the daemon); until there is one, ``config.toml``'s
    ``[budget]`` limits apply."""

    daily_ticks: int | None = None  # None: no daily limit
    monthly_ticks: int | None = None
    alert_pct: int = 80


class BudgetReserved(_Event, frozen=True, kw_only=True, tag="budget.reserved"):
    """Worst-case cost held against the budget before a provider call (or an optimization's
    run of calls), so concurrent calls cannot overshoot a limit: USD ticks, on the local day
    and month of the call. Emitted by the budget guard inside the write transaction that
    checked the limit; closed by the ``ProviderCallCompleted`` naming it or a
    ``BudgetReleased``."""

    reservation_id: str
    ticks: int  # worst-case cost held against the budget until settled or released
    opt_id: str = ""
    day: str = ""
    month: str = ""


class BudgetReleased(_Event, frozen=True, kw_only=True, tag="budget.released"):
    """A reservation is closed without a call settling it (the call never happened, was
    answered from cache, was cancelled, the run's hold was used up, or the daemon restarted
    and found it left open): its ticks stop counting. Emitted by the metered call and the
    budget guard."""

    reservation_id: str
    reason: str = ""  # the call never happened, was answered from cache, ...


class BudgetAlert(_Event, frozen=True, kw_only=True, tag="budget.alert"):
    """Spend on a local day or month crossed ``threshold_pct`` of its limit: what was spent
    and the limit, in USD ticks. Sent once per period and threshold. Emitted by the budget
    guard."""

    period: str  # day | month
    period_key: str  # 2026-11-27 | 2026-11
    spent_ticks: int
    budget_ticks: int
    threshold_pct: int = 80
    reserved_ticks: int = 0  # held by calls in flight when it was crossed
    reset_at: str = ""  # local time the period ends, ISO 8601 (e.g. 2026-11-28T00:00:00+01:00)


class BudgetRefused(_Event, frozen=True, kw_only=True, tag="budget.refused"):
    """A provider call was not made because it could cost more than remains of the daily or
    monthly limit: what it needed, what remained and the limit, in USD ticks. Emitted by the
    budget guard; the optimization then answers offline or fails with ``budget``."""

    period: str  # day | month
    period_key: str
    needed_ticks: int
    remaining_ticks: int
    budget_ticks: int
    opt_id: str = ""
    reserved_ticks: int = 0  # held by calls in flight (what may come back when they settle)


# --- batches -----------------------------------------------------------------------------


class BatchStarted(_Event, frozen=True, kw_only=True, tag="batch.started"):
    """A file of prompts (from ``inbox/`` or ``promptd batch``) became batch ``batch_id``: its
    name, sha256, format and number of items, and where the results go. ``duplicate_of``: an
    earlier batch of the same content, whose results are reused. Emitted by the inbox."""

    batch_id: str
    file_name: str
    sha256: str
    count: int
    format: str  # txt | md | prompt | json | jsonl | csv
    source: str = "inbox"  # inbox | cli
    prompt_type: str = "auto"
    engine: str = ""
    output_path: str = ""
    duplicate_of: str = ""  # an earlier batch with the same sha256, answered from its events


class BatchItemCompleted(_Event, frozen=True, kw_only=True, tag="batch.item_completed"):
    """One item of a batch is done (``status``: ``ok``, ``error``, ``budget``, ``cached``),
    with its optimization, scores, findings count and cost in USD ticks. A resumed batch
    skips the indexes already done. Emitted by the inbox."""

    batch_id: str
    index: int
    item_id: str = ""
    opt_id: str = ""
    status: str = "ok"  # ok | error | budget | cached
    error: str = ""
    optimized: str = ""
    score_before: int = 0
    score_after: int = 0
    findings: int = 0
    cost_ticks: int = 0
    cached: bool = False
    degraded: bool = False


class BatchCompleted(_Event, frozen=True, kw_only=True, tag="batch.completed"):
    """A batch finished: how many items went ok, failed, or were stopped by the budget, what it
    cost (USD ticks), and the output and report written. Emitted by the inbox."""

    batch_id: str
    ok: int = 0
    failed: int = 0
    budget: int = 0
    cost_ticks: int = 0
    output_path: str = ""
    report_path: str = ""


class BatchFailed(_Event, frozen=True, kw_only=True, tag="batch.failed"):
    """A dropped file could not be run as a batch (unreadable, malformed...; ``reason`` says
    why): it moves to ``inbox/failed/`` with an error file. ``batch_id`` is empty when it
    never became a batch. Emitted by the inbox."""

    file_name: str
    reason: str
    batch_id: str = ""
    sha256: str = ""


class BatchCancelled(_Event, frozen=True, kw_only=True, tag="batch.cancelled"):
    """A running batch was stopped before its end (``reason``); the items done stay done.
    Emitted by the inbox."""

    batch_id: str
    reason: str = ""


# --- backups -----------------------------------------------------------------------------


class BackupCreated(_Event, frozen=True, kw_only=True, tag="backup.created"):
    """A hot backup of the event log was written to ``backups/``: its id and file, the last
    sequence and number of events it holds, its size and sha256, whether it was verified
    after writing, and whether the schedule (rather than ``promptd backup now``) made it.
    Emitted by the backup service."""

    backup_id: str
    file_name: str
    last_seq: int
    event_count: int
    size_bytes: int
    sha256: str
    duration_ms: int = 0
    verified: bool = False
    scheduled: bool = False


class BackupFailed(_Event, frozen=True, kw_only=True, tag="backup.failed"):
    """A backup could not be made (``reason``: disk full, a folder not writable...); nothing
    half-written is kept. Emitted by the backup service; ``promptd status`` shows it."""

    reason: str
    scheduled: bool = False


class BackupPruned(_Event, frozen=True, kw_only=True, tag="backup.pruned"):
    """A backup was deleted by the rotation (``reason``: which retention rule let it go).
    Emitted by the backup service."""

    backup_id: str
    reason: str = ""


class BackupRestored(_Event, frozen=True, kw_only=True, tag="backup.restored"):
    """The event log was replaced by backup ``backup_id``: the log's last sequence before,
    and the safety copy of the replaced log. Emitted by ``promptd backup restore`` into the
    restored log."""

    backup_id: str
    previous_last_seq: int = 0
    safety_copy: str = ""


class EventsImported(_Event, frozen=True, kw_only=True, tag="events.imported"):
    """``promptd import`` merged a file of exported events into this log: how many records
    came in and how many were skipped (already here: each imported record keeps its
    origin). Emitted by the import (through the daemon, or directly when none runs)."""

    file_name: str
    imported: int
    skipped: int = 0


# --- evaluations -------------------------------------------------------------------------


class EvalVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """One sample of an evaluation: both versions' outputs (cut to a bounded length), the
    judge's pick in each order (``first``: original shown as A; ``second``: candidate shown
    as A; each ``original`` | ``candidate`` | ``same`` | ``invalid``) and the verdict for the
    candidate (``win`` | ``tie`` | ``loss``: a tie unless both orders agree)."""

    index: int  # the sample's position (0-based; its line in the inputs file is index + 1)
    run: int = 0  # 0-based repeat of the sample (``--runs``)
    verdict: str  # win | tie | loss (for the candidate)
    first: str = ""
    second: str = ""
    reasons: list[str] = msgspec.field(default_factory=list)
    inputs: dict[str, str] = msgspec.field(default_factory=dict)  # values cut to a bound
    original_output: str = ""  # cut to a bound
    candidate_output: str = ""


class EvaluationCompleted(_Event, frozen=True, kw_only=True, tag="evaluation.completed"):
    """``promptd eval`` compared an original prompt with a candidate (a rewrite) on sample
    inputs: both ran on ``target_model``, ``judge_model`` compared the outputs pairwise in
    both orders. ``opt_id`` is the optimization evaluated ("" for two files). Counts are for
    the candidate; ``score`` = (wins + ties/2) / comparisons, ``low``/``high`` its 95% Wilson
    interval. ``cost_ticks`` (USD ticks) sums the provider calls of the evaluation, which are
    recorded as usual (agent ``eval.*``). ``status``: ``completed``, or ``stopped`` with
    ``stopped_reason`` (a refused budget, a failing provider, a shutdown): the counts then
    cover the samples done. ``drafted``: the inputs were drafted by the model. Emitted by
    the daemon's eval service."""

    eval_id: str
    opt_id: str = ""
    original_hash: str = ""
    candidate_hash: str = ""
    original_preview: str = ""
    candidate_preview: str = ""
    target_model: str = ""
    judge_model: str = ""
    runs: int = 1
    drafted: bool = False
    planned: int = 0  # comparisons planned (samples x runs)
    wins: int = 0
    ties: int = 0
    losses: int = 0
    score: float = 0.0
    low: float = 0.0
    high: float = 0.0
    cost_ticks: int = 0
    calls: int = 0
    cached_calls: int = 0
    status: str = "completed"  # completed | stopped
    stopped_reason: str = ""
    source: str = "cli"
    duration_ms: int = 0
    verdicts: list[EvalVerdict] = msgspec.field(default_factory=list)


# --- lint cache --------------------------------------------------------------------------


class LintCompleted(_Event, frozen=True, kw_only=True, tag="lint.completed"):
    """A Diagnoser result worth caching (an LLM lint): folded into the ``lint`` cache."""

    key: str  # lint-cache key (sha256 of the canonical lint request)
    prompt_hash: str = ""
    findings: list[Finding] = msgspec.field(default_factory=list)
    score: int = 0
    engine: str = "offline"
    model: str = ""
    analysis: bytes = b""  # the LLM's whole analysis (JSON), reused by an optimization


Event = (
    DaemonStarted
    | DaemonStopped
    | ConfigReloaded
    | OptimizationRequested
    | AgentStepCompleted
    | OptimizationCompleted
    | OptimizationFailed
    | OptimizationKept
    | OptimizationRejected
    | LibrarySearched
    | CacheHit
    | CacheMiss
    | ProviderCallStarted
    | ProviderCallCompleted
    | CircuitChanged
    | ProviderModeLearned
    | BudgetSet
    | BudgetReserved
    | BudgetReleased
    | BudgetAlert
    | BudgetRefused
    | BatchStarted
    | BatchItemCompleted
    | BatchCompleted
    | BatchFailed
    | BatchCancelled
    | BackupCreated
    | BackupFailed
    | BackupPruned
    | BackupRestored
    | EventsImported
    | LintCompleted
    | EvaluationCompleted
)

EVENT_TYPES: Final[tuple[type[_Event], ...]] = typing.get_args(Event)
TAGS: Final[frozenset[str]] = frozenset(str(t.__struct_config__.tag) for t in EVENT_TYPES)


class UnknownEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event this code does not know (written by a newer promptd): kept, never folded."""

    type: str
    raw: bytes


class Envelope(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """The stored record: sequence, UTC time (ns), schema version, the raw event.

    ``origin`` is empty for events recorded here, and ``"<store_id>/<seq>"`` for events
    merged in by ``promptd import`` (so a second import of the same file adds nothing).
    """

    seq: int
    ts_ns: int
    schema: int
    event: bytes  # the MessagePack of the event, decoded lazily
    origin: str = ""


class Record(msgspec.Struct, frozen=True):
    """A decoded envelope: what readers of the log get. (Positional fields, in this order,
    so that the append path can build a batch of them in one ``map``.)"""

    seq: int
    ts_ns: int
    schema: int
    event: Event | UnknownEvent
    origin: str = ""


_event_encoder: Final = msgspec.msgpack.Encoder()
_event_decoder: Final[msgspec.msgpack.Decoder[Event]] = msgspec.msgpack.Decoder(Event)
_tag_decoder: Final = msgspec.msgpack.Decoder(dict[str, object])
_envelope_encoder: Final = msgspec.msgpack.Encoder()
_envelope_decoder: Final = msgspec.msgpack.Decoder(Envelope)
_key: Final = struct.Struct(">Q")


def seq_key(seq: int) -> bytes:
    """The 8-byte big-endian LMDB key of a sequence number."""
    return _key.pack(seq)


def key_seq(key: bytes) -> int:
    """The sequence number of an 8-byte big-endian LMDB key."""
    return int(_key.unpack(key)[0])


def encode_event(event: Event) -> bytes:
    return _event_encoder.encode(event)


def decode_event(data: bytes) -> Event | UnknownEvent:
    """Decode one event; an unknown tag gives :class:`UnknownEvent` instead of an error."""
    try:
        return _event_decoder.decode(data)
    except msgspec.ValidationError:
        fields = _tag_decoder.decode(data)
        tag = fields.get("type")
        if isinstance(tag, str) and tag not in TAGS:
            return UnknownEvent(type=tag, raw=data)
        raise


def encode_record(seq: int, ts_ns: int, event: Event, origin: str = "") -> bytes:
    """The bytes stored under ``seq_key(seq)``."""
    return _envelope_encoder.encode(
        Envelope(
            seq=seq, ts_ns=ts_ns, schema=SCHEMA_VERSION, event=encode_event(event), origin=origin
        )
    )


def encode_raw_record(seq: int, ts_ns: int, schema: int, event: bytes, origin: str = "") -> bytes:
    """Like :func:`encode_record` for an event that is already encoded (import, unknown)."""
    return _envelope_encoder.encode(
        Envelope(seq=seq, ts_ns=ts_ns, schema=schema, event=event, origin=origin)
    )


def decode_envelope(data: bytes) -> Envelope:
    return _envelope_decoder.decode(data)


def decode_record(data: bytes) -> Record:
    env = _envelope_decoder.decode(data)
    return Record(
        seq=env.seq,
        ts_ns=env.ts_ns,
        schema=env.schema,
        event=decode_event(env.event),
        origin=env.origin,
    )


def event_tag(event: Event | UnknownEvent) -> str:
    if isinstance(event, UnknownEvent):
        return event.type
    return str(type(event).__struct_config__.tag)

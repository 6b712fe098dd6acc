"""The core service: the event log, the engines, and the control API's main methods.

``status``, ``optimize``, ``lint``, ``analysis.warm``, ``history``, ``show``, ``costs``,
``budget.get``, ``budget.set``. It opens the event log first and closes it last, records
``DaemonStarted`` and ``DaemonStopped``, runs the cache-warming worker, and pushes a
``status`` notification to subscribers when the spend moves, a budget alert fires or the
provider's breaker changes (for the editors' status bar).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from .. import __version__, api, wire
from ..config import Config
from ..engine.lint import lint as lint_text
from ..engine.text import prompt_hash
from ..events import (
    BudgetAlert,
    BudgetRefused,
    BudgetSet,
    CircuitChanged,
    ConfigReloaded,
    DaemonStarted,
    DaemonStopped,
    OptimizationCompleted,
    ProviderCallCompleted,
)
from ..projections import StoreView, open_async_log
from ..projections.standard import Projections
from ..providers.warm import WarmQueue
from ..store.writer import AsyncEventLog
from ..values import Related, usd_to_ticks
from . import logs, queries
from .optimizer import Optimizer

if TYPE_CHECKING:
    from ..library.grounding import Lookup, Retrieval
    from .app import Daemon

log = logs.get("core")

_PUSH_EVENTS = (
    OptimizationCompleted,
    ProviderCallCompleted,
    BudgetAlert,
    BudgetRefused,
    CircuitChanged,
    BudgetSet,
    ConfigReloaded,
)
_SPEND_COALESCE_S = 0.25


class CoreService:
    """The daemon's first service (started first, stopped last)."""

    name = "core"

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.store: AsyncEventLog[StoreView] | None = None
        self.optimizer: Optimizer | None = None
        # set by the library service: similar prompts for a prompt (never raises)
        self.retriever: Callable[[str], Awaitable[list[Related]]] | None = None
        self.warm_queue = WarmQueue(self._warm_one, busy=self._busy)
        # set by the library service: the above, plus the LLM Designer's grounding (never raises)
        self.grounder: Callable[[str, bool], Awaitable[Retrieval]] | None = None
        # set by the library service: the LLM Designer's search_library tool (never raises)
        self.library_lookup: Callable[[str], Awaitable[Lookup]] | None = None
        daemon.core = self
        daemon.reload_hooks.append(self._reloaded)

    @property
    def config(self) -> Config:
        return self.daemon.config

    def _store(self) -> AsyncEventLog[StoreView]:
        if self.store is None:
            raise RuntimeError("the core service has not started")
        return self.store

    def _optimizer(self) -> Optimizer:
        if self.optimizer is None:
            raise RuntimeError("the core service has not started")
        return self.optimizer

    def methods(self) -> Mapping[str, wire.Method]:
        return {
            "status": wire.Method(api.Empty, self.status),
            "optimize": wire.Method(api.OptimizeParams, self.optimize, work=True),
            "lint": wire.Method(api.LintParams, self.lint),
            "analysis.warm": wire.Method(api.WarmParams, self.analysis_warm),
            "history": wire.Method(api.HistoryParams, self.history),
            "show": wire.Method(api.ShowParams, self.show),
            "costs": wire.Method(api.Empty, self.costs),
            "budget.get": wire.Method(api.Empty, self.budget_get),
            "budget.set": wire.Method(api.BudgetSetParams, self.budget_set),
        }

    # --- life ----------------------------------------------------------------------------

    async def start(self) -> None:
        paths, config = self.daemon.paths, self.config
        self.store = await open_async_log(paths.events, config.cache)
        await _recover_calls(self.store)
        self.optimizer = Optimizer(config, self.store)
        provider = self.optimizer.provider_status()
        await self.store.append(
            DaemonStarted(
                pid=self.daemon.pid,
                version=__version__,
                engine=config.engine_name(),
                provider=provider.name,
                model=provider.model,
            )
        )
        self.daemon.spawn(self._follow(self.store.last_seq() + 1), "status-push")
        self.daemon.spawn(self.warm_queue.run(), "cache-warming")

    async def stop(self) -> None:
        store = self._store()
        if self.optimizer is not None:
            with contextlib.suppress(Exception):
                await self.optimizer.aclose()
        try:
            await store.append(
                DaemonStopped(
                    pid=self.daemon.pid,
                    reason="signal" if self.daemon.stop_reason == "signal" else "shutdown",
                    interrupted=self.daemon.interrupted,
                )
            )
        finally:
            await store.close()
            self.store = None

    def _reloaded(self, config: Config) -> None:
        folds = self._store().log.folds
        if isinstance(folds, Projections):
            folds.cache_config = config.cache  # new TTLs apply from the next lookup on
        old = self.optimizer
        self.optimizer = Optimizer(config, self._store())
        new_llm, old_llm = self.optimizer.llm, old.llm if old is not None else None
        if (
            new_llm is not None
            and old_llm is not None
            and new_llm.provider.base_url == old_llm.provider.base_url
        ):
            new_llm.mode.refused |= old_llm.mode.refused  # what the endpoint refuses stays
        if old is not None:  # calls in flight keep the old engine; close it after them
            self.daemon.spawn(self._close_later(old), "close-old-engine")
        provider = self.optimizer.provider_status()
        self.daemon.spawn(
            self._store().append(
                ConfigReloaded(
                    engine=config.engine_name(), provider=provider.name, model=provider.model
                )
            ),
            "config-reloaded",
        )

    async def _close_later(self, old: Optimizer) -> None:
        await asyncio.sleep(self.config.daemon.shutdown_grace_s + self.config.provider.timeout_s)
        await old.aclose()

    # --- methods -------------------------------------------------------------------------

    async def status(self, params: api.Empty, call: wire.Call) -> api.StatusResult:
        store = self._store()
        next_at = None
        inbox: api.InboxStatus | None = None
        dashboard_url = ""
        library: api.LibrarySummary | None = None
        for service in self.daemon.services:
            hook = getattr(service, "next_backup_at", None)
            if callable(hook):
                next_at = hook()
            url = getattr(service, "dashboard_url", None)
            if callable(url):
                dashboard_url = url()
            part = getattr(service, "status", None)
            if service is not self and callable(part):
                value = part()
                if isinstance(value, api.InboxStatus):
                    inbox = value
            summary = getattr(service, "summary", None)
            if callable(summary) and isinstance(found := summary(), api.LibrarySummary):
                library = found
        with store.view() as view:
            result = queries.status(
                view,
                self.config,
                self.daemon.paths,
                running=True,
                pid=self.daemon.pid,
                events_bytes=store.size_bytes(),
                provider=self._optimizer().provider_status(),
                uptime_s=round(time.time() - self.daemon.started_at, 1),
                next_backup_at=next_at,
                # a batch is one request but many optimizations: count those too
                in_flight=max(len(self.daemon.dispatcher.in_flight()), self._optimizer().running),
            )
        if inbox is not None:
            result = msgspec.structs.replace(result, inbox=inbox)
        if dashboard_url:
            result = msgspec.structs.replace(result, dashboard_url=dashboard_url)
        if library is not None:
            result = msgspec.structs.replace(result, library=library)
        from ..providers.settings import provider_settings

        provider = msgspec.structs.replace(result.provider, settings=provider_settings(self.config))
        return msgspec.structs.replace(
            result, provider=provider, warming=self._warm_status(result.cache)
        )

    async def optimize(
        self, params: api.OptimizeParams, call: wire.Call, *, batch_id: str = ""
    ) -> Any:
        """The one "optimize one prompt" call (the inbox's batches use it too)."""
        optimizer = self._optimizer()
        if params.estimate:
            return optimizer.estimate(params)
        if self.grounder is not None:
            llm = (params.engine or optimizer.config.engine_name()) == "llm"
            found = await self.grounder(params.text, llm)
            return await optimizer.optimize(
                params,
                call.progress,
                batch_id=batch_id,
                related=found.related,
                retrieval=found,
                lookup=self.library_lookup,
            )
        related = await self.retriever(params.text) if self.retriever is not None else []
        return await optimizer.optimize(params, call.progress, batch_id=batch_id, related=related)

    async def lint(self, params: api.LintParams, call: wire.Call) -> api.LintResult:
        if params.engine == "llm":  # the model's analysis, through the lint cache
            done, cached = await self._optimizer().llm_lint(params.text, params.prompt_type)
            return api.LintResult(
                prompt_type=_lint_type(params.text, params.prompt_type),
                findings=list(done.findings),
                score=done.score,
                cached=cached,
            )
        report = lint_text(params.text, params.prompt_type, self.config.engine)
        return api.LintResult(
            prompt_type=report.prompt_type, findings=list(report.findings), score=report.score
        )

    async def analysis_warm(self, params: api.WarmParams, call: wire.Call) -> api.WarmResult:
        """Analyse ``prompts`` in the background, so that asking about them later is a hit.

        Params ``{"prompts": [str, ...], "source": "lsp" | "library" | ...}``; result
        ``{"queued": int, "dropped": int, "skipped": int, "reason": str}``. It answers at
        once: the prompts go into one bounded queue (256) that one worker empties while the
        daemon has nothing else to do, so no request ever waits behind warming. What it
        computes is the model's analysis (Deconstructor + Diagnoser), kept in the lint cache
        (``cache.lint_ttl_s``), which ``lint --engine llm`` and the optimization of the same
        prompt then answer from (a ``lint`` tier hit in ``status``). ``dropped``: the queue
        was full (send them again later); ``skipped`` with a ``reason``: the engine is
        offline (its lint needs no warming) or ``cache.warm`` is false. A warm call costs
        what a lint costs and is metered and budgeted like one; warming pauses while less
        than half of a budget is left or the provider's breaker is open. Errors: more than
        64 prompts, an empty prompt, or one longer than ``engine.max_input_chars``.
        """
        from ..errors import InputError

        prompts = params.prompts
        if len(prompts) > api.WARM_MAX_PROMPTS:
            raise InputError(
                f"analysis.warm takes at most {api.WARM_MAX_PROMPTS} prompts a call, not "
                f"{len(prompts)}: send them in several calls"
            )
        if not params.source or len(params.source) > 32:
            raise InputError("analysis.warm: source must name the sender in 1-32 characters")
        limit = self.config.engine.max_input_chars
        for n, text in enumerate(prompts, 1):
            if not text.strip():
                raise InputError(f"analysis.warm: prompt {n} is empty; send only prompts")
            if len(text) > limit:
                raise InputError(
                    f"analysis.warm: prompt {n} has {len(text):,} characters, more than "
                    f"engine.max_input_chars ({limit:,}); leave it out or raise the limit"
                )
        return self.warm_prompts(prompts, params.source)

    def warm_prompts(self, prompts: list[str], source: str) -> api.WarmResult:
        """Queue prompts for warming (the library calls this for its prompt files)."""
        if not prompts:
            return api.WarmResult(queued=0, dropped=0)
        why = ""
        if self._optimizer().llm is None:
            why = "the offline engine computes its lint on demand: nothing to warm"
        elif not self.config.cache.warm:
            why = "cache warming is off (cache.warm = false in config.toml)"
        if why:
            self.warm_queue.skip(len(prompts))
            return api.WarmResult(queued=0, dropped=0, skipped=len(prompts), reason=why)
        limit = self.config.engine.max_input_chars
        usable = [p for p in prompts if p.strip() and len(p) <= limit]
        queued, dropped = self.warm_queue.offer(usable)
        if dropped:
            log.info("cache warming: queue full, %d prompt(s) from %s dropped", dropped, source)
        skipped = len(prompts) - len(usable)
        return api.WarmResult(
            queued=queued,
            dropped=dropped,
            skipped=skipped,
            reason="empty or longer than engine.max_input_chars" if skipped else "",
        )

    async def _warm_one(self, text: str) -> str:
        from ..providers.warm import WarmSkipped, warm_analysis

        llm = self._optimizer().llm
        if llm is None:
            raise WarmSkipped("the offline engine needs no warming")
        return await warm_analysis(llm, text)

    def _busy(self) -> bool:
        """Anything a person waits for: a request, an optimization, an LLM call."""
        optimizer = self.optimizer
        if optimizer is None or self.daemon.dispatcher.in_flight(work_only=False):
            return True
        llm = optimizer.llm
        return optimizer.running > 0 or (llm is not None and llm.meter.in_flight > 0)

    def _warm_status(self, cache: api.CacheStatus) -> api.WarmStatus:
        f = self.warm_queue.figures
        lint = cache.tiers.get("lint")
        return api.WarmStatus(
            queued=f.queued,
            done=f.done,
            dropped=f.dropped,
            skipped=f.skipped,
            failed=f.failed,
            warmed=f.warmed,
            lint_hits=lint.hits if lint is not None else 0,
            lint_hit_rate=lint.hit_rate if lint is not None else 0.0,
            last_error=f.last_error,
        )

    async def history(self, params: api.HistoryParams, call: wire.Call) -> api.HistoryResult:
        wanted = prompt_hash(params.text) if params.text is not None else None
        with self._store().view() as view:
            return queries.history(view, params, wanted)

    async def show(self, params: api.ShowParams, call: wire.Call) -> api.ShowResult:
        with self._store().view() as view:
            return queries.show(view, params)

    async def costs(self, params: api.Empty, call: wire.Call) -> api.CostsResult:
        with self._store().view() as view:
            return queries.costs(view)

    async def budget_get(self, params: api.Empty, call: wire.Call) -> api.BudgetInfo:
        with self._store().view() as view:
            return queries.budget_info(view, self.config)

    async def budget_set(self, params: api.BudgetSetParams, call: wire.Call) -> api.BudgetInfo:
        from ..errors import InputError

        for name, value in (("daily_usd", params.daily_usd), ("monthly_usd", params.monthly_usd)):
            if value is not None and value < 0:
                raise InputError(f"{name} cannot be negative; give an amount in USD")
        if params.alert_pct is not None and not 1 <= params.alert_pct <= 100:
            raise InputError("alert_pct must be between 1 and 100")
        store = self._store()
        with store.view() as view:
            now = queries.budget_info(view, self.config)

        def limit(new: float | None, clear: bool, current: float | None) -> int | None:
            if clear:
                return None
            value = new if new is not None else current
            return None if value is None else usd_to_ticks(value)

        await store.append(
            BudgetSet(
                daily_ticks=limit(params.daily_usd, params.clear_daily, now.daily_budget_usd),
                monthly_ticks=limit(
                    params.monthly_usd, params.clear_monthly, now.monthly_budget_usd
                ),
                alert_pct=params.alert_pct if params.alert_pct is not None else now.alert_pct,
            )
        )
        with store.view() as view:
            return queries.budget_info(view, self.config)

    # --- pushed state --------------------------------------------------------------------

    def notice(
        self, message: str = "", level: str = "info", event: str = "", alert_id: str = ""
    ) -> api.StatusNotice:
        with self._store().view() as view:
            info = queries.budget_info(view, self.config)
        provider = self._optimizer().provider_status()
        return api.StatusNotice(
            engine=self.config.engine_name(),
            provider=provider.name,
            model=provider.model,
            circuit=provider.circuit,
            today_usd=info.today_usd,
            month_usd=info.month_usd,
            daily_budget_usd=info.daily_budget_usd,
            monthly_budget_usd=info.monthly_budget_usd,
            message=message,
            level=level,
            event=event,
            alert_id=alert_id,
        )

    async def _follow(self, from_seq: int) -> None:
        """Turn new events into ``status`` notifications for subscribers."""
        store = self._store()
        pending_update = False
        last_push = 0.0
        async for record in store.subscribe(from_seq):
            ev = record.event
            if not isinstance(ev, _PUSH_EVENTS) or not self.daemon.dispatcher.subscribers:
                continue
            message, level = _message_for(ev)
            if message:
                aid = (
                    api.alert_id(ev.period, ev.period_key, ev.threshold_pct)
                    if isinstance(ev, BudgetAlert)
                    else ""
                )
                notice = self.notice(message, level, _tag(ev), aid)
                self.daemon.publish("status", "status", notice)
                continue
            # spend / state changes: coalesce bursts into one push
            now = time.monotonic()
            if now - last_push >= _SPEND_COALESCE_S:
                last_push = now
                self.daemon.publish("status", "status", self.notice(event=_tag(ev)))
            elif not pending_update:
                pending_update = True

                async def later(tag: str = _tag(ev)) -> None:
                    nonlocal pending_update, last_push
                    await asyncio.sleep(_SPEND_COALESCE_S)
                    pending_update = False
                    last_push = time.monotonic()
                    self.daemon.publish("status", "status", self.notice(event=tag))

                self.daemon.spawn(later(), "status-push-later")


def _tag(ev: Any) -> str:
    return str(type(ev).__struct_config__.tag)


def _message_for(ev: Any) -> tuple[str, str]:
    """A sentence for the person, for events worth interrupting them with."""
    if isinstance(ev, BudgetAlert):  # one per period and threshold: the editor shows it once
        from ..providers.budget_rules import alert_text

        return "promptd: " + alert_text(ev), "warning"
    if isinstance(ev, BudgetRefused):
        from ..providers.budget_rules import reset_at

        when = reset_at(ev.period, ev.period_key)
        return (
            f"promptd: the {'daily' if ev.period == 'day' else 'monthly'} budget is used up"
            + (f" until {when}" if when else "")
            + "; answering with the offline engine (promptd budget raises it)",
            "warning",
        )
    if isinstance(ev, CircuitChanged) and ev.new == "open":
        return (
            f"promptd: {ev.provider} is failing ({ev.reason or 'repeated errors'}); "
            "answering offline until it recovers",
            "error",
        )
    if isinstance(ev, CircuitChanged) and ev.new == "closed" and ev.old != "closed":
        return f"promptd: {ev.provider} is answering again", "info"
    return "", "info"


async def _recover_calls(store: AsyncEventLog[StoreView]) -> None:
    """Book the provider calls a killed daemon left in flight; give back its budget holds."""
    from ..providers.budget_rules import recover_calls

    booked, released = await recover_calls(store)
    if booked or released:
        logs.get("budget").warning(
            "the last daemon stopped with %d provider call(s) in flight, booked as spent at "
            "their reservation; %d budget hold(s) released",
            booked,
            released,
        )


def _lint_type(text: str, prompt_type: str) -> str:
    from ..engine.lint import resolve_type

    return resolve_type(prompt_type, text)[0]

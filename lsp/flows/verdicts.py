"""Tell the daemon whether an optimization applied in the editor was kept or undone.

The optimize flow calls :meth:`VerdictsFlow.expect` with the edit it hands out; the
documents flow feeds every edit (:meth:`edited`), save (:meth:`saved`) and close
(:meth:`closed`). The decisions are :mod:`promptd.lsp.features.verdicts`; this module sends
``optimization.keep`` / ``optimization.reject`` (each at most once per optimization), in the
background. A verdict the daemon cannot take now (not running) waits and is sent when the
link connects again, so none is lost while the server runs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Final

from promptd.daemon.errors import PromptdError, RPCError
from promptd.daemon.library.types import VerdictParams
from promptd.daemon.wire import METHOD_NOT_FOUND

from ..features import verdicts
from ..features.verdicts import Track

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger(__name__)

MAX_TRACKS: Final = 64  # per document: the oldest is dropped past it
KEEP_WHY: Final = "kept in the editor"


class VerdictsFlow:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.tracks: dict[str, list[Track]] = {}
        self.sent: set[str] = set()  # optimization ids with a verdict (at most one each)
        self.waiting: list[tuple[str, str, str]] = []  # (method, id, why) not delivered yet
        self._tasks: set[asyncio.Task[None]] = set()

    def expect(
        self, uri: str, start: int, end: int, original: str, optimized: str, opt_id: str
    ) -> None:
        """Follow the edit the server hands out: ``original`` at [start, end) becomes
        ``optimized`` when the editor applies it."""
        if not opt_id or opt_id in self.sent or original == optimized:
            return
        kept = [
            t for t in self.tracks.get(uri, []) if t.end <= start or t.start >= end
        ]  # a new optimization of the same range supersedes the old one's tracking
        kept.append(Track(opt_id, start, end, original, optimized))
        self.tracks[uri] = kept[-MAX_TRACKS:]

    def edited(self, uri: str, before: str, start: int, end: int, inserted: str) -> None:
        """One edit of ``uri`` (offsets in ``before``, the text before it)."""
        tracks = self.tracks.get(uri)
        if not tracks:
            return
        going: list[Track] = []
        for track in tracks:
            outcome = verdicts.step(track, before, start, end, inserted)
            if outcome.verdict == "rejected":
                self._send("optimization.reject", track.opt_id, verdicts.UNDONE_WHY)
            elif outcome.track is not None:
                going.append(outcome.track)
        self.tracks[uri] = going

    def saved(self, uri: str, text: str) -> None:
        """didSave: the optimizations still in place are kept."""
        self._keep_all(uri, text)

    def closed(self, uri: str, text: str) -> None:
        """didClose: the optimizations still in place are kept; the rest are forgotten."""
        self._keep_all(uri, text)
        self.tracks.pop(uri, None)

    def _keep_all(self, uri: str, text: str) -> None:
        going: list[Track] = []
        for track in self.tracks.get(uri, []):
            if verdicts.kept_on_save(track, text):
                self._send("optimization.keep", track.opt_id, KEEP_WHY)
            elif track.state == "expected":
                going.append(track)  # not applied yet: the editor may still apply it
        if uri in self.tracks:
            self.tracks[uri] = going

    # --- delivery ----------------------------------------------------------------------------

    def _send(self, method: str, opt_id: str, why: str) -> None:
        if opt_id in self.sent:
            return
        self.sent.add(opt_id)
        self._spawn(self._deliver(method, opt_id, why))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, method: str, opt_id: str, why: str) -> None:
        params = VerdictParams(id=opt_id, why=why, source="lsp")
        try:
            await self.session.link.call(method, params, timeout=10.0, autostart=False)
        except (TimeoutError, PromptdError) as exc:
            if isinstance(exc, RPCError) and exc.code == METHOD_NOT_FOUND:
                log.warning("the daemon has no %s: verdict for %s dropped", method, opt_id)
                return
            log.info("%s %s waits for the daemon: %s", method, opt_id, exc)
            self.waiting.append((method, opt_id, why))

    def flush(self) -> None:
        """The link connected: deliver the verdicts that waited."""
        waiting, self.waiting = self.waiting, []
        for method, opt_id, why in waiting:
            self._spawn(self._deliver(method, opt_id, why))

    async def drain(self) -> None:
        """Wait for the verdicts being sent (tests, shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

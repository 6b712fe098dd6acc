"""Dispatch: every request line becomes a task that runs its method and answers.

Requests on one connection run concurrently (an editor multiplexes), each answered when it
is done. The dispatcher also knows the work in flight, for a graceful stop: it stops taking
new requests, waits (bounded) for the work to finish, and cancels what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import msgspec

from .. import wire
from . import logs
from .listener import Connection

log = logs.get("rpc")


class Dispatcher:
    """The listener's :class:`~.listener.LineHandler`: parses, routes, answers."""

    def __init__(self, unavailable: Mapping[str, str] | None = None) -> None:
        self.methods: dict[str, wire.Method] = {}
        # method -> why it is missing ("backups are not available: ..."), until a service adds it
        self.unavailable: dict[str, str] = dict(unavailable or {})
        self.accepting = True
        self.subscribers: dict[Connection, set[str]] = {}
        self._tasks: dict[asyncio.Task[None], wire.Method] = {}

    def add(self, name: str, method: wire.Method) -> None:
        if name in self.methods:
            raise ValueError(f"method {name!r} is registered twice")
        self.methods[name] = method

    # --- LineHandler ---------------------------------------------------------------------

    def on_line(self, conn: Connection, line: bytes) -> None:
        try:
            request = wire.parse_request(line)
        except wire.RequestError as exc:
            conn.send(wire.encode_error(exc.id, exc.code, str(exc)))
            return
        method = self.methods.get(request.method)
        if method is None:
            self._answer_error(conn, request, wire.METHOD_NOT_FOUND, self._missing(request.method))
            return
        if not self.accepting:
            self._answer_error(
                conn,
                request,
                wire.SHUTTING_DOWN,
                "the daemon is stopping; try again once it has restarted (promptd start)",
            )
            return
        task = asyncio.get_running_loop().create_task(self._serve(conn, request, method))
        self._tasks[task] = method
        task.add_done_callback(self._tasks.pop)

    def on_close(self, conn: Connection) -> None:
        # Work a client started goes on when it leaves: the result is recorded and cached.
        self.subscribers.pop(conn, None)

    # --- serving -------------------------------------------------------------------------

    def _missing(self, name: str) -> str:
        if name in self.unavailable:
            return self.unavailable[name]
        known = ", ".join(sorted(self.methods))
        return f"unknown method {name!r}; the daemon knows: {known}"

    @staticmethod
    def _answer_error(conn: Connection, request: wire.Request, code: int, message: str) -> None:
        if not request.is_notification:
            conn.send(wire.encode_error(request.id, code, message))  # type: ignore[arg-type]

    async def _serve(self, conn: Connection, request: wire.Request, method: wire.Method) -> None:
        rid: wire.Id = None if request.id is msgspec.UNSET else request.id
        try:
            params = wire.decode_params(request.params, method.params)
            call = wire.Call(conn, rid, request.method, getattr(params, "progress_token", None))
            result = await method.handler(params, call)
        except asyncio.CancelledError:
            self._answer_error(
                conn,
                request,
                wire.SHUTTING_DOWN,
                "interrupted: the daemon stopped before this finished; run it again",
            )
            raise
        except Exception as exc:
            code, message, data = wire.error_for(exc)
            if code == wire.INTERNAL_ERROR and not isinstance(exc, wire.RequestError):
                log.exception("method failed", extra=logs.fields(method=request.method))
            else:
                log.info("request refused", extra=logs.fields(method=request.method, code=code))
            if not request.is_notification:
                conn.send(wire.encode_error(rid, code, message, data))
            return
        if not request.is_notification:
            try:
                answer = wire.encode_result(rid, result)
            except Exception as exc:  # a result JSON cannot hold: say so, do not go silent
                log.exception("cannot encode a result", extra=logs.fields(method=request.method))
                answer = wire.encode_error(rid, *wire.error_for(exc))
            conn.send(answer)

    # --- subscriptions -------------------------------------------------------------------

    def subscribe(self, conn: Connection, topics: set[str]) -> None:
        if not conn.closed:
            self.subscribers.setdefault(conn, set()).update(topics)

    def publish(self, topic: str, method: str, params: Any) -> int:
        """Send a notification to every connection subscribed to ``topic``; how many got it."""
        targets = [c for c, topics in self.subscribers.items() if topic in topics]
        if targets:
            data = wire.encode_notification(method, params)
            for conn in targets:
                conn.send(data)
        return len(targets)

    # --- stopping ------------------------------------------------------------------------

    def in_flight(self, *, work_only: bool = True) -> list[asyncio.Task[None]]:
        return [t for t, m in self._tasks.items() if m.work or not work_only]

    async def drain(self, grace_s: float) -> int:
        """Stop taking requests, wait up to ``grace_s`` for work in flight, cancel the rest.

        Returns how many pieces of work were cut off."""
        self.accepting = False
        pending = self.in_flight()
        if pending:
            log.info("waiting for work in flight", extra=logs.fields(count=len(pending)))
            _done, still = await asyncio.wait(pending, timeout=grace_s)
        else:
            still = set()
        for task in still:
            task.cancel()
        everything = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in everything:
            task.cancel()
        for task in everything:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        return len(still)

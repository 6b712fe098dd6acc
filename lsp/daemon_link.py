"""The language server's connection to the daemon: connect, start, watch, reconnect.

One :class:`DaemonLink` per server. ``client()`` hands out a connected
:class:`~promptd.daemon.client.DaemonClient`, starting the daemon first when asked (as the CLI
does). When the connection drops, the link notices, reports it (``on_state``) and a
background task reconnects with backoff, without starting a daemon itself, so a daemon a
person stopped stays stopped until a feature needs it. State the daemon pushes (budget
alerts, a breaker opening) arrives through ``on_notice``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import msgspec

from promptd.daemon import api
from promptd.daemon.client import DaemonClient, ensure_daemon
from promptd.daemon.errors import DaemonError
from promptd.daemon.paths import Paths

log = logging.getLogger(__name__)

NoticeCallback = Callable[[api.StatusNotice], None]
StateCallback = Callable[[bool, str], None]

_notice_decoder = msgspec.json.Decoder(api.StatusNotice)


class DaemonLink:
    def __init__(
        self,
        paths: Paths,
        *,
        on_notice: NoticeCallback | None = None,
        on_state: StateCallback | None = None,
        connect_timeout: float = 10.0,
        retry_max_s: float = 5.0,
    ) -> None:
        self.paths = paths
        self.on_notice = on_notice
        self.on_state = on_state
        self.connect_timeout = connect_timeout
        self.retry_max_s = retry_max_s
        self._client: DaemonClient | None = None
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._closing = False
        self.last_error = ""

    @property
    def connected(self) -> bool:
        return self._client is not None and not self._client.closed.is_set()

    async def client(self, *, autostart: bool = True) -> DaemonClient:
        """A connected client; starts the daemon when ``autostart`` and none answers.

        Raises :class:`DaemonError` with a message that says what to do.
        """
        current = self._client
        if current is not None and not current.closed.is_set():
            return current
        if self._closing:
            raise DaemonError("the language server is shutting down")
        async with self._lock:
            current = self._client
            if current is not None and not current.closed.is_set():
                return current
            try:
                if autostart:
                    await asyncio.to_thread(ensure_daemon, self.paths, timeout=self.connect_timeout)
                client = await DaemonClient.connect(self.paths, timeout=self.connect_timeout)
            except DaemonError as exc:
                self.last_error = str(exc)
                raise
            except OSError as exc:
                self.last_error = f"cannot reach the daemon: {exc}"
                raise DaemonError(f"{self.last_error}; run: promptd start") from exc
            if self._closing:  # the server shut down while we connected: nobody would close it
                await client.close()
                raise DaemonError("the language server is shutting down")
            client.on_notification = self._notification
            self._client = client
            self.last_error = ""
            try:
                await client.call("subscribe", {"topics": ["status"]}, timeout=5.0)
            except DaemonError as exc:  # an older daemon: no pushed state, the rest works
                log.warning("daemon subscription failed: %s", exc)
            self._watch(client)
        self._state(True, "connected")
        return client

    def _watch(self, client: DaemonClient) -> None:
        async def watch() -> None:
            await client.closed.wait()
            await client.close()  # the daemon went away: release our end of the socket too
            if self._closing:
                return
            if self._client is client:
                self._client = None
            self._state(False, "the daemon connection was lost; reconnecting")
            await self._reconnect()

        self._watcher = asyncio.get_running_loop().create_task(watch())

    async def _reconnect(self) -> None:
        delay = 0.1
        while not self._closing and not self.connected:
            try:
                await self.client(autostart=False)
                return
            except DaemonError:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)

    def start_background(self, *, autostart: bool) -> asyncio.Task[None]:
        """Connect in the background (at startup), then keep reconnecting when it drops."""

        async def connect() -> None:
            try:
                await self.client(autostart=autostart)
            except DaemonError as exc:
                log.warning("daemon not available: %s", exc)
                self._state(False, str(exc))
                await self._reconnect()

        return asyncio.get_running_loop().create_task(connect())

    def _state(self, connected: bool, message: str) -> None:
        if self.on_state is not None:
            try:
                self.on_state(connected, message)
            except Exception:
                log.exception("daemon state callback failed")

    def _notification(self, method: str, params: bytes) -> None:
        if method != "status" or self.on_notice is None:
            return
        try:
            notice = _notice_decoder.decode(params)
        except msgspec.DecodeError:
            log.warning("undecodable status notification from the daemon")
            return
        try:
            self.on_notice(notice)
        except Exception:
            log.exception("status notification handler failed")

    async def call(self, method: str, params: Any = None, **kwargs: Any) -> Any:
        client = await self.client(autostart=kwargs.pop("autostart", True))
        return await client.call(method, params, **kwargs)

    async def stop_daemon(self) -> None:
        client = await self.client(autostart=False)
        with contextlib.suppress(DaemonError):
            await client.call("shutdown", {}, timeout=10.0)
        await asyncio.wait_for(client.closed.wait(), timeout=15.0)

    async def close(self) -> None:
        self._closing = True
        if self._watcher is not None:
            self._watcher.cancel()
        if self._client is not None:
            await self._client.close()
            self._client = None

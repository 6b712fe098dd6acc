"""Talk to the daemon: the JSON-RPC client the CLI and the language server share.

* :class:`DaemonClient` (asyncio): many calls at once on one connection, ``progress``
  callbacks per call, an ``on_notification`` hook for pushed state (``subscribe``).
* :class:`Client`: the same calls over a blocking socket, for the CLI (no asyncio import:
  ``promptd status`` stays fast).
* :func:`ensure_daemon`: start the daemon in the background when none answers (like
  ``gopls -remote=auto``) and wait for its socket with a deadline.

Both clients are one codec (:class:`Calls`: ids, progress tokens, routing what the daemon
sends, decoding results and errors) over two transports. They import the wire protocol
(:mod:`promptd.daemon.wire`) and the process helpers (:mod:`promptd.daemon.process`), never
the server package.

Errors: a daemon that is not there raises :class:`DaemonNotRunning`; an error answer raises
:class:`~promptd.daemon.errors.RPCError` with the daemon's code and message (and the exit code the
CLI should use).
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec

from . import api, process, wire
from .errors import DaemonError
from .paths import Paths

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
ProgressCallback = Callable[[api.Progress], None]
NotificationCallback = Callable[[str, bytes], None]

_progress_decoder = msgspec.json.Decoder(api.Progress)
_tokens = itertools.count(1)


class DaemonNotRunning(DaemonError):
    def __init__(self, paths: Paths) -> None:
        super().__init__(f"daemon not running (no answer on {paths.socket}); run: promptd start")


def _with_token(params: Any, token: str) -> Any:
    """``params`` with ``progress_token`` set to ``token`` (when it has that field)."""
    if isinstance(params, msgspec.Struct) and "progress_token" in params.__struct_fields__:
        if getattr(params, "progress_token", None) is None:
            return msgspec.structs.replace(params, progress_token=token)
        return params
    if isinstance(params, dict):
        return {"progress_token": token, **params}
    return params


def _token_of(params: Any) -> str | None:
    if isinstance(params, dict):
        value = params.get("progress_token")
    else:
        value = getattr(params, "progress_token", None)
    return value if isinstance(value, str) else None


class Calls:
    """The request/response codec both clients share; it does no I/O.

    :meth:`request` makes a request line (a fresh id, a progress token when the caller
    listens); :meth:`route` reads one line the daemon sent: a ``progress`` notification goes
    to its call's callback, any other notification to ``on_notification``, and a reply is
    returned for the transport to hand to the caller that waits for its id; :meth:`result`
    decodes a reply into the result or raises its error.
    """

    def __init__(self, token_prefix: str) -> None:
        self._ids = itertools.count(1)
        self._prefix = token_prefix
        self._progress: dict[str, ProgressCallback] = {}
        self.on_notification: NotificationCallback | None = None

    def request(
        self, method: str, params: Any, on_progress: ProgressCallback | None
    ) -> tuple[int, str | None, bytes]:
        """(id, progress token, line) of a new request. With ``on_progress``, the request
        gets a token (unless it has one) whose notifications go there until :meth:`end`."""
        token = None
        if on_progress is not None:
            params = _with_token(params, f"{self._prefix}-{next(_tokens)}")
            token = _token_of(params)
            if token is not None:
                self._progress[token] = on_progress
        rid = next(self._ids)
        return rid, token, wire.encode_request(rid, method, params)

    def end(self, token: str | None) -> None:
        """The request with ``token`` is over: drop its progress callback."""
        if token is not None:
            self._progress.pop(token, None)

    def route(self, line: bytes) -> wire.Reply | None:
        """A reply to hand to its caller, or None (a notification, routed here)."""
        reply = wire.decode_reply(line)
        if reply.method is None:
            return reply
        if reply.method == "progress":
            if bytes(reply.params):
                progress = _progress_decoder.decode(bytes(reply.params))
                callback = self._progress.get(progress.token)
                if callback is not None:
                    callback(progress)
        elif self.on_notification is not None:
            self.on_notification(reply.method, bytes(reply.params) or b"null")
        return None

    @staticmethod
    def result(reply: wire.Reply, result_type: type[T] | None) -> Any:
        """The reply's decoded result (``result_type`` when given), or its error raised."""
        if reply.error is not None:
            wire.raise_error(reply.error)
        data = bytes(reply.result) or b"null"
        if result_type is None:
            return msgspec.json.decode(data)
        return msgspec.json.decode(data, type=result_type)


def _connect_socket(paths: Paths, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        with wire.socket_address(paths.socket) as address:
            sock.connect(address)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        sock.close()
        raise DaemonNotRunning(paths) from exc
    except OSError as exc:
        sock.close()
        raise DaemonError(f"cannot reach the daemon at {paths.socket}: {exc}") from exc
    return sock


# --- the blocking client (CLI) -------------------------------------------------------------


class Client:
    """A blocking JSON-RPC connection to the daemon (one call at a time)."""

    def __init__(self, sock: socket.socket, paths: Paths) -> None:
        self._sock = sock
        self._paths = paths
        self._framer = wire.LineFramer()
        self._lines: list[bytes] = []
        self._calls = Calls("cli")

    @classmethod
    def connect(cls, paths: Paths, *, autostart: bool = False, timeout: float = 10.0) -> Client:
        if autostart:
            ensure_daemon(paths, timeout=timeout)
        return cls(_connect_socket(paths, timeout), paths)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def _read_line(self) -> bytes:
        while not self._lines:
            try:
                chunk = self._sock.recv(262144)
            except TimeoutError as exc:
                raise DaemonError(
                    f"the daemon did not answer in time; see {self._paths.log_file}, or retry"
                ) from exc
            except OSError as exc:
                raise DaemonError(f"lost the connection to the daemon: {exc}") from exc
            if not chunk:
                raise DaemonError(
                    "the daemon closed the connection (it may have stopped); run the "
                    "command again, or see run/daemon.log"
                )
            self._lines.extend(line for line in self._framer.feed(chunk) if line is not None)
        return self._lines.pop(0)

    def call(
        self,
        method: str,
        params: Any = None,
        *,
        result_type: type[T] | None = None,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request and return its decoded result (``result_type`` when given)."""
        rid, token, line = self._calls.request(method, params, on_progress)
        self._sock.settimeout(timeout)
        try:
            try:
                self._sock.sendall(line)
            except OSError as exc:
                raise DaemonError(
                    f"lost the connection to the daemon: {exc}; run it again"
                ) from exc
            while True:
                try:
                    reply = self._calls.route(self._read_line())
                except msgspec.DecodeError as exc:
                    raise DaemonError(
                        f"the daemon sent an answer this client cannot read: {exc}; "
                        "are the CLI and the daemon the same version?"
                    ) from exc
                if reply is None:
                    continue
                if reply.id == rid or (reply.id is None and reply.error is not None):
                    return self._calls.result(reply, result_type)
        finally:
            self._calls.end(token)


# --- starting the daemon on demand ---------------------------------------------------------


def answers(paths: Paths, timeout: float = 1.0) -> bool:
    """True when something accepts connections on the daemon's socket."""
    try:
        _connect_socket(paths, timeout).close()
    except DaemonError:
        return False
    return True


def ensure_daemon(paths: Paths, *, timeout: float = 10.0) -> int | None:
    """Make sure a daemon serves ``paths``: start one in the background if needed and wait
    until its socket answers. Returns the daemon's pid."""
    if answers(paths):
        return process.running_pid(paths)
    deadline = time.monotonic() + timeout
    pid = process.running_pid(paths)
    proc = None
    log_from = 0
    if pid is None:  # nobody owns the home: start one (a stale pid/socket is cleaned up)
        from .config import load

        load(paths.config_file)  # a bad config.toml: its ConfigError here, as `start` says it
        log_from = process.log_size(paths)
        proc = process.spawn_detached(paths)
    delay = 0.005
    while time.monotonic() < deadline:
        if answers(paths, timeout=max(0.05, deadline - time.monotonic())):
            if proc is not None:  # reap it when it exits, so no zombie is left behind
                threading.Thread(target=proc.wait, daemon=True).start()
            return process.running_pid(paths)
        if proc is not None and proc.poll() is not None:
            if proc.returncode == 0 and process.running_pid(paths) is not None:
                proc = None  # another start won the race: wait for that daemon
                continue
            reason = (
                process.disk_full_hint(paths)
                or process.last_error(paths, since=log_from)
                or f"exit code {proc.returncode}, and it wrote nothing to its log"
            )
            raise DaemonError(f"the daemon exited while starting: {reason} (see {paths.log_file})")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    raise DaemonError(f"the daemon did not answer within {timeout:g} s; see {paths.log_file}")


# --- the asyncio client (language server, tests, benchmarks) -------------------------------


class DaemonClient:
    """An asyncio JSON-RPC connection: concurrent calls, progress, pushed notifications."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, paths: Paths
    ) -> None:
        import asyncio

        self._reader = reader
        self._writer = writer
        self.paths = paths
        self._calls = Calls(f"c{id(self):x}")
        self._pending: dict[int, asyncio.Future[wire.Reply]] = {}
        self.closed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @property
    def on_notification(self) -> NotificationCallback | None:
        """Called with (method, params JSON) for each notification other than ``progress``;
        an error the daemon sends with no id arrives as method ``error``."""
        return self._calls.on_notification

    @on_notification.setter
    def on_notification(self, callback: NotificationCallback | None) -> None:
        self._calls.on_notification = callback

    @classmethod
    async def connect(
        cls, paths: Paths, *, autostart: bool = False, timeout: float = 10.0
    ) -> DaemonClient:
        """Connect (starting the daemon first when ``autostart``); DaemonNotRunning if none."""
        import asyncio

        if autostart and not answers(paths, timeout=0.5):
            await asyncio.to_thread(ensure_daemon, paths, timeout=timeout)
        try:
            with wire.socket_address(paths.socket) as address:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(address, limit=2**27), timeout
                )
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise DaemonNotRunning(paths) from exc
        except (TimeoutError, OSError) as exc:
            raise DaemonError(f"cannot reach the daemon at {paths.socket}: {exc}") from exc
        return cls(reader, writer, paths)

    async def __aenter__(self) -> DaemonClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _read_loop(self) -> None:
        try:
            while True:
                line = await self._reader.readuntil(b"\n")
                try:
                    reply = self._calls.route(line)
                except msgspec.DecodeError:
                    continue
                if reply is not None:
                    self._answer(reply)
        except Exception:  # EOF, reset, or a line over the limit: the connection is over
            pass
        finally:
            self._fail_pending()

    def _answer(self, reply: wire.Reply) -> None:
        if isinstance(reply.id, int):
            future = self._pending.pop(reply.id, None)
            if future is not None and not future.done():
                future.set_result(reply)
        elif reply.error is not None and self.on_notification is not None:
            self.on_notification("error", msgspec.json.encode(reply.error))

    def _fail_pending(self) -> None:
        self.closed.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(
                    DaemonError("the daemon closed the connection (it may have stopped)")
                )
        self._pending.clear()

    async def call(
        self,
        method: str,
        params: Any = None,
        *,
        result_type: type[T] | None = None,
        on_progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send a request and await its result (``result_type`` when given)."""
        import asyncio

        if self.closed.is_set():
            raise DaemonError("the connection to the daemon is closed; reconnect")
        rid, token, line = self._calls.request(method, params, on_progress)
        future: asyncio.Future[wire.Reply] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            self._writer.write(line)
            await self._writer.drain()
            reply = await asyncio.wait_for(future, timeout)
        except (ConnectionError, OSError) as exc:
            raise DaemonError(f"lost the connection to the daemon: {exc}") from exc
        finally:
            self._pending.pop(rid, None)
            self._calls.end(token)
        return self._calls.result(reply, result_type)

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer)."""
        self._writer.write(wire.encode_request(None, method, params))
        await self._writer.drain()

    async def close(self) -> None:
        import asyncio
        import contextlib

        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._fail_pending()

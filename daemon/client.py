"""Talk to the daemon: the JSON-RPC client the CLI and the language server share.

* :class:`DaemonClient` (asyncio): many calls at once on one connection, ``progress``
  callbacks per call, an ``on_notification`` hook for pushed state (``subscribe``).
* :class:`Client`: the same calls over a blocking socket, for the CLI (no asyncio import:
  ``promptd status`` stays fast).
* :func:`ensure_daemon`: start the daemon in the background when none answers (like
  ``gopls -remote=auto``) and wait for its socket with a deadline.

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

from . import api
from .errors import DaemonError, RPCError
from .paths import Paths
from .server import lifecycle, rpc
from .server.address import socket_address

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


def _raise_error(error: rpc.ErrorBody) -> None:
    exc = RPCError(error.code, error.message, error.data)
    if isinstance(error.data, dict) and isinstance(error.data.get("exit_code"), int):
        exc.exit_code = error.data["exit_code"]
    raise exc


def _decode_result(raw: msgspec.Raw, result_type: type[T] | None) -> Any:
    data = bytes(raw) or b"null"
    if result_type is None:
        return msgspec.json.decode(data)
    return msgspec.json.decode(data, type=result_type)


def _connect_socket(paths: Paths, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        with socket_address(paths.socket) as address:
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
        self._buffer = bytearray()
        self._ids = itertools.count(1)

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
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
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
            self._buffer += chunk

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
        if on_progress is not None:
            params = _with_token(params, f"cli-{next(_tokens)}")
        token = _token_of(params)
        rid = next(self._ids)
        self._sock.settimeout(timeout)
        try:
            self._sock.sendall(rpc.encode_request(rid, method, params))
        except OSError as exc:
            raise DaemonError(f"lost the connection to the daemon: {exc}; run it again") from exc
        while True:
            line = self._read_line()
            try:
                reply = rpc.decode_reply(line)
            except msgspec.DecodeError as exc:
                raise DaemonError(
                    f"the daemon sent an answer this client cannot read: {exc}; "
                    "are the CLI and the daemon the same version?"
                ) from exc
            if reply.method is not None:  # a notification
                if reply.method == "progress" and on_progress is not None and bytes(reply.params):
                    progress = _progress_decoder.decode(bytes(reply.params))
                    if progress.token == token:
                        on_progress(progress)
                continue
            if reply.id != rid:
                if reply.error is not None and reply.id is None:
                    _raise_error(reply.error)
                continue
            if reply.error is not None:
                _raise_error(reply.error)
            return _decode_result(reply.result, result_type)


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
        return lifecycle.running_pid(paths)
    deadline = time.monotonic() + timeout
    pid = lifecycle.running_pid(paths)
    proc = None
    log_from = 0
    if pid is None:  # nobody owns the home: start one (a stale pid/socket is cleaned up)
        from .config import load

        load(paths.config_file)  # a bad config.toml: its ConfigError here, as `start` says it
        log_from = lifecycle.log_size(paths)
        proc = lifecycle.spawn_detached(paths)
    delay = 0.005
    while time.monotonic() < deadline:
        if answers(paths, timeout=max(0.05, deadline - time.monotonic())):
            if proc is not None:  # reap it when it exits, so no zombie is left behind
                threading.Thread(target=proc.wait, daemon=True).start()
            return lifecycle.running_pid(paths)
        if proc is not None and proc.poll() is not None:
            if proc.returncode == 0 and lifecycle.running_pid(paths) is not None:
                proc = None  # another start won the race: wait for that daemon
                continue
            reason = (
                lifecycle.disk_full_hint(paths)
                or lifecycle.last_error(paths, since=log_from)
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
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[rpc.Reply]] = {}
        self._progress: dict[str, ProgressCallback] = {}
        self.on_notification: NotificationCallback | None = None
        self.closed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(
        cls, paths: Paths, *, autostart: bool = False, timeout: float = 10.0
    ) -> DaemonClient:
        """Connect (starting the daemon first when ``autostart``); DaemonNotRunning if none."""
        import asyncio

        if autostart and not answers(paths, timeout=0.5):
            await asyncio.to_thread(ensure_daemon, paths, timeout=timeout)
        try:
            with socket_address(paths.socket) as address:
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
                    reply = rpc.decode_reply(line)
                except msgspec.DecodeError:
                    continue
                self._route(reply)
        except Exception:  # EOF, reset, or a line over the limit: the connection is over
            pass
        finally:
            self._fail_pending()

    def _route(self, reply: rpc.Reply) -> None:
        if reply.method is not None:
            if reply.method == "progress" and bytes(reply.params):
                progress = _progress_decoder.decode(bytes(reply.params))
                callback = self._progress.get(progress.token)
                if callback is not None:
                    callback(progress)
            elif self.on_notification is not None:
                self.on_notification(reply.method, bytes(reply.params) or b"null")
            return
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
        if on_progress is not None:
            params = _with_token(params, f"c{id(self):x}-{next(_tokens)}")
        token = _token_of(params)
        rid = next(self._ids)
        future: asyncio.Future[rpc.Reply] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        if token is not None and on_progress is not None:
            self._progress[token] = on_progress
        try:
            self._writer.write(rpc.encode_request(rid, method, params))
            await self._writer.drain()
            reply = await asyncio.wait_for(future, timeout)
        except (ConnectionError, OSError) as exc:
            raise DaemonError(f"lost the connection to the daemon: {exc}") from exc
        finally:
            self._pending.pop(rid, None)
            if token is not None:
                self._progress.pop(token, None)
        if reply.error is not None:
            _raise_error(reply.error)
        return _decode_result(reply.result, result_type)

    async def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer)."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._writer.write(msgspec.json.encode(message) + b"\n")
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

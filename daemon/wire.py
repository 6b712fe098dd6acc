"""The wire protocol both sides of the Unix socket speak: JSON-RPC 2.0, one object a line.

The daemon (:mod:`promptd.daemon.server`), the clients (:mod:`promptd.daemon.client`: the CLI
and the language server) and the services (backups, inbox) import this module, and nothing of
the server's. It holds:

* **addresses**: :func:`socket_address`, the socket's path even under a long home folder;
* **framing**: :class:`LineFramer` cuts a byte stream into lines, with a size cap;
* **the envelope**: :class:`Request` (what a client sends), :class:`Reply` (what it reads:
  a result, an error or a notification), the ``encode_*`` helpers, :func:`parse_request` and
  :func:`decode_params`, which turn any bad line into a :class:`RequestError` that carries
  the JSON-RPC error to answer with (never an exception that would drop the connection);
* **error codes**: the standard JSON-RPC ones and ours (``INPUT_ERROR``...), and
  :func:`error_for`, which maps our exceptions to them;
* **a method's shape**: :class:`Method` (its params Struct and handler) and :class:`Call`
  (what a handler knows of the request it serves: where to send ``progress``).

The params and result Structs themselves live in :mod:`promptd.daemon.api` (which
re-exports the error codes).

Standard library and msgspec only: ``promptd status`` imports this without asyncio.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from .errors import (
    BackupError,
    BudgetError,
    ConfigError,
    DaemonError,
    EngineError,
    InboxError,
    InputError,
    PromptdError,
    ProviderError,
    RPCError,
)

if TYPE_CHECKING:
    from . import api

# --- error codes: JSON-RPC 2.0's, then ours (in the server-defined range) -------------------

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
MESSAGE_TOO_LARGE: Final = -32001
SHUTTING_DOWN: Final = -32002
INPUT_ERROR: Final = -32010
BUDGET_ERROR: Final = -32011
PROVIDER_ERROR: Final = -32012
NOT_FOUND: Final = -32013
BACKUP_ERROR: Final = -32014
BATCH_ERROR: Final = -32015

# --- addresses -----------------------------------------------------------------------------

MAX_SUN_PATH = 103 if sys.platform == "darwin" else 107


@contextmanager
def socket_address(path: Path) -> Iterator[str]:
    """A path ``bind``/``connect`` accept for ``path``, valid inside the ``with`` block.

    ``sun_path`` holds at most 107 bytes on Linux (103 on macOS). When ``run/promptd.sock``
    is longer, on Linux we reach it through ``/proc/self/fd/N/promptd.sock`` where ``N`` is an
    open descriptor of the ``run/`` folder: a short path to the same file that needs no
    symlink in a shared folder. Elsewhere a long path is a clear error that says what to do.
    """
    text = os.fsencode(path)
    if len(text) <= MAX_SUN_PATH:
        yield str(path)
        return
    if not os.path.isdir("/proc/self/fd"):
        raise DaemonError(
            f"the socket path {path} is {len(text)} bytes, over the {MAX_SUN_PATH}-byte limit "
            "of Unix sockets; use a shorter home (--home or PROMPTD_HOME)"
        )
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)  # FileNotFoundError: no daemon
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


# --- framing -------------------------------------------------------------------------------


class LineFramer:
    """Cuts a byte stream into lines (without their ``\\n``).

    A line longer than ``max_bytes`` is dropped up to its newline and reported once, as
    ``None``, as soon as it passes the cap: one huge line costs no memory and the
    stream goes on with the next line.
    """

    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._skipping = False  # inside an oversized line: drop bytes up to its newline

    def feed(self, chunk: bytes) -> Iterator[bytes | None]:
        cap = self.max_bytes
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if not self._skipping:
                    self._buffer += chunk[start:]
                    if cap is not None and len(self._buffer) > cap:
                        self._buffer.clear()
                        self._skipping = True
                        yield None
                return
            if self._skipping:
                self._skipping = False
            else:
                self._buffer += chunk[start:end]
                if cap is not None and len(self._buffer) > cap:
                    yield None
                else:
                    yield bytes(self._buffer)
                self._buffer.clear()
            start = end + 1


# --- the envelope --------------------------------------------------------------------------

Id = int | str | None


class Request(msgspec.Struct, kw_only=True):
    jsonrpc: str
    method: str
    params: msgspec.Raw = msgspec.Raw(b"")
    id: int | str | msgspec.UnsetType | None = msgspec.UNSET

    @property
    def is_notification(self) -> bool:
        return self.id is msgspec.UNSET


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    code: int
    message: str
    data: Any = None


class _Result(msgspec.Struct, kw_only=True):
    id: Id
    result: Any
    jsonrpc: str = "2.0"


class _Error(msgspec.Struct, kw_only=True):
    id: Id
    error: ErrorBody
    jsonrpc: str = "2.0"


class _Notification(msgspec.Struct, kw_only=True):
    method: str
    params: Any
    jsonrpc: str = "2.0"


class Reply(msgspec.Struct, kw_only=True):
    """Any message a client reads: a result, an error, or a notification (``method`` set)."""

    jsonrpc: str = "2.0"
    id: Id = None
    result: msgspec.Raw = msgspec.Raw(b"")  # empty: absent
    error: ErrorBody | None = None
    method: str | None = None
    params: msgspec.Raw = msgspec.Raw(b"")


_encoder = msgspec.json.Encoder()
_request_decoder = msgspec.json.Decoder(Request)
_reply_decoder = msgspec.json.Decoder(Reply)

_EXAMPLE = '({"jsonrpc": "2.0", "id": 1, "method": "status"})'


class RequestError(Exception):
    """A line that cannot be served, with the JSON-RPC error to send back for it."""

    def __init__(self, code: int, message: str, id: Id = None) -> None:
        super().__init__(message)
        self.code = code
        self.id = id


def _unreadable(exc: Exception) -> str | None:
    """Why msgspec could not read a JSON text at all (None: it could; a schema error)."""
    if isinstance(exc, RecursionError):
        return "nested too deeply; send flatter JSON"
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 (byte {exc.start}); send UTF-8 JSON"
    if isinstance(exc, msgspec.ValidationError):
        return None
    if isinstance(exc, msgspec.DecodeError):
        return f"{exc}; send valid JSON"
    return None


def parse_request(line: bytes) -> Request:
    """Decode one request line, or raise :class:`RequestError` (parse / invalid request)."""
    if not line.isascii():  # JSON is UTF-8, in the keys msgspec would skip too
        try:
            line.decode()
        except UnicodeDecodeError as exc:
            raise RequestError(PARSE_ERROR, f"parse error: {_unreadable(exc)}") from exc
    try:
        request = _request_decoder.decode(line)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        why = _unreadable(exc)
        if why is not None:
            raise RequestError(PARSE_ERROR, f"parse error: {why}") from exc
        raise RequestError(
            INVALID_REQUEST,
            f"invalid request: {exc}; send one JSON-RPC 2.0 object a line {_EXAMPLE}",
            _guess_id(line),
        ) from exc
    if request.jsonrpc != "2.0":
        raise RequestError(
            INVALID_REQUEST,
            'invalid request: "jsonrpc" must be "2.0"',
            None if request.id is msgspec.UNSET else request.id,
        )
    return request


def _guess_id(line: bytes) -> Id:
    try:
        value = msgspec.json.decode(line)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return None
    if isinstance(value, dict):
        found = value.get("id")
        if isinstance(found, int | str) and not isinstance(found, bool):
            return found
    return None


def decode_params(raw: msgspec.Raw, params_type: type[Any]) -> Any:
    """The method's params Struct (absent or null params: all defaults)."""
    data = bytes(raw)
    if data in (b"", b"null"):
        data = b"{}"
    try:
        return msgspec.json.decode(data, type=params_type)
    except msgspec.ValidationError as exc:
        text = str(exc)
        if text.startswith("Expected `object`"):
            text = "params must be an object with named fields"
        raise RequestError(INVALID_PARAMS, f"invalid params: {text}") from exc
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise RequestError(INVALID_PARAMS, f"invalid params: {_unreadable(exc)}") from exc


def encode_result(id: Id, result: Any) -> bytes:
    return _encoder.encode(_Result(id=id, result=result)) + b"\n"


def encode_error(id: Id, code: int, message: str, data: Any = None) -> bytes:
    body = ErrorBody(code=code, message=message, data=data)
    return _encoder.encode(_Error(id=id, error=body)) + b"\n"


def encode_notification(method: str, params: Any) -> bytes:
    return _encoder.encode(_Notification(method=method, params=params)) + b"\n"


def encode_request(id: Id, method: str, params: Any) -> bytes:
    """A request line (the client side); ``id`` None: a notification."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if id is not None:
        message["id"] = id
    if params is not None:
        message["params"] = params
    return _encoder.encode(message) + b"\n"


def decode_reply(line: bytes) -> Reply:
    """One line a client reads (raises ``msgspec.DecodeError`` on garbage)."""
    return _reply_decoder.decode(line)


# (exception class, code) from the most specific: the first match wins
_CODES: tuple[tuple[type[PromptdError], int], ...] = (
    (InputError, INPUT_ERROR),
    (ConfigError, INPUT_ERROR),
    (BudgetError, BUDGET_ERROR),
    (ProviderError, PROVIDER_ERROR),
    (BackupError, BACKUP_ERROR),
    (InboxError, BATCH_ERROR),
    (EngineError, INPUT_ERROR),
    (DaemonError, INTERNAL_ERROR),
)


def error_for(exc: BaseException) -> tuple[int, str, Any]:
    """(code, message, data) for an exception a handler raised.

    ``data`` names our exception class and its exit code, so the CLI exits the same way as
    when the error is raised in-process. Unknown exceptions hide their details (they are in
    the log): a client sees what to do, not a traceback.
    """
    if isinstance(exc, RPCError):
        return exc.code, str(exc), exc.data
    if isinstance(exc, RequestError):
        return exc.code, str(exc), None
    if isinstance(exc, PromptdError):
        code = next((c for cls, c in _CODES if isinstance(exc, cls)), INTERNAL_ERROR)
        return code, str(exc), {"error": type(exc).__name__, "exit_code": exc.exit_code}
    return (
        INTERNAL_ERROR,
        f"internal error ({type(exc).__name__}); details are in run/daemon.log",
        None,
    )


def raise_error(error: ErrorBody) -> None:
    """Raise the :class:`RPCError` an error reply stands for (the client side)."""
    exc = RPCError(error.code, error.message, error.data)
    if isinstance(error.data, dict) and isinstance(error.data.get("exit_code"), int):
        exc.exit_code = error.data["exit_code"]
    raise exc


# --- a method's shape (the server side) ----------------------------------------------------


class Sender(Protocol):
    """Where a call's notifications go (the connection that made the request)."""

    def send(self, data: bytes) -> None: ...


@dataclass
class Call:
    """What a handler knows about the request it serves."""

    conn: Sender
    id: Id
    method: str
    progress_token: str | None = None

    def notify(self, method: str, params: Any) -> None:
        self.conn.send(encode_notification(method, params))

    def progress(self, progress: api.Progress) -> None:
        """Send a ``progress`` notification (only when the request gave a token)."""
        if self.progress_token is not None:
            self.notify("progress", msgspec.structs.replace(progress, token=self.progress_token))


Handler = Callable[[Any, Call], Awaitable[Any]]


@dataclass(frozen=True)
class Method:
    """One control-API method. ``work``: the daemon waits for it at shutdown (bounded)."""

    params: type[Any]
    handler: Handler
    work: bool = False

"""JSON-RPC 2.0 framing and dispatch: one JSON object a line, msgspec all the way.

The pure parts of the control API live here, apart from sockets and asyncio, so they are
easy to test: decoding a request line (:func:`parse_request`), decoding its params into the
method's Struct (:func:`decode_params`), encoding results, errors and notifications, and
turning an exception into the JSON-RPC error a client sees (:func:`error_for`).

A method is a :class:`Method`: the params Struct it takes and an async handler
``handler(params, call) -> result`` where ``call`` (:class:`Call`) lets it send progress
notifications to the connection that asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from .. import api
from ..errors import (
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


class RequestError(Exception):
    """A line that cannot be served, with the JSON-RPC error to send back for it."""

    def __init__(self, code: int, message: str, id: Id = None) -> None:
        super().__init__(message)
        self.code = code
        self.id = id


def parse_request(line: bytes) -> Request:
    """Decode one request line, or raise :class:`RequestError` (parse / invalid request)."""
    try:
        request = _request_decoder.decode(line)
    except msgspec.ValidationError as exc:
        raise RequestError(
            api.INVALID_REQUEST,
            f"invalid request: {exc}; send one JSON-RPC 2.0 object a line "
            '({"jsonrpc": "2.0", "id": 1, "method": "status"})',
            _guess_id(line),
        ) from exc
    except msgspec.DecodeError as exc:
        raise RequestError(api.PARSE_ERROR, f"parse error: {exc}; send valid JSON") from exc
    if request.jsonrpc != "2.0":
        raise RequestError(
            api.INVALID_REQUEST,
            'invalid request: "jsonrpc" must be "2.0"',
            None if request.id is msgspec.UNSET else request.id,
        )
    return request


def _guess_id(line: bytes) -> Id:
    try:
        value = msgspec.json.decode(line)
    except msgspec.DecodeError:
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
        raise RequestError(api.INVALID_PARAMS, f"invalid params: {text}") from exc


def encode_result(id: Id, result: Any) -> bytes:
    return _encoder.encode(_Result(id=id, result=result)) + b"\n"


def encode_error(id: Id, code: int, message: str, data: Any = None) -> bytes:
    body = ErrorBody(code=code, message=message, data=data)
    return _encoder.encode(_Error(id=id, error=body)) + b"\n"


def encode_notification(method: str, params: Any) -> bytes:
    return _encoder.encode(_Notification(method=method, params=params)) + b"\n"


def encode_request(id: Id, method: str, params: Any) -> bytes:
    """A request line (the client side)."""
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        message["params"] = params
    return _encoder.encode(message) + b"\n"


def decode_reply(line: bytes) -> Reply:
    """One line a client reads (raises ``msgspec.DecodeError`` on garbage)."""
    return _reply_decoder.decode(line)


# (exception class, code) from the most specific: the first match wins
_CODES: tuple[tuple[type[PromptdError], int], ...] = (
    (InputError, api.INPUT_ERROR),
    (ConfigError, api.INPUT_ERROR),
    (BudgetError, api.BUDGET_ERROR),
    (ProviderError, api.PROVIDER_ERROR),
    (BackupError, api.BACKUP_ERROR),
    (InboxError, api.BATCH_ERROR),
    (EngineError, api.INPUT_ERROR),
    (DaemonError, api.INTERNAL_ERROR),
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
        code = next((c for cls, c in _CODES if isinstance(exc, cls)), api.INTERNAL_ERROR)
        return code, str(exc), {"error": type(exc).__name__, "exit_code": exc.exit_code}
    return (
        api.INTERNAL_ERROR,
        f"internal error ({type(exc).__name__}); details are in run/daemon.log",
        None,
    )


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

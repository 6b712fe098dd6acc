"""Every use of pygls's private parts, in one place, checked by :func:`missing`.

pygls 2.x has no public API for what the server needs here: writing a message that is
already JSON text (diagnostics of a large file), structuring a client's JSON into an
lsprotocol type, finding the outer future of the request being handled (to follow
``$/cancelRequest`` of ``workspace/executeCommand``), replying to a request pygls could not
structure, and running the stdio loop with a reader that survives malformed frames
(:mod:`promptd.lsp.framing`). When pygls changes, ``tests/lsp/test_pygls_compat.py`` fails with
the name of the attribute that went, and this module is the only one to fix.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import IO, Any, Final, TypeVar

import cattrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
)
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from .framing import NO_MESSAGE, FrameReader

log = logging.getLogger(__name__)

T = TypeVar("T")

# (where, attribute): the private (or undocumented) names this module relies on.
USED: Final[tuple[tuple[str, str], ...]] = (
    ("protocol", "_converter"),
    ("protocol", "_request_futures"),
    ("protocol", "writer"),
    ("protocol", "msg_id"),
    ("protocol", "structure_message"),
    ("protocol", "handle_message"),
    ("protocol", "set_writer"),
    ("server", "_stop_event"),
    ("server", "shutdown"),
)


def missing(server: LanguageServer) -> list[str]:
    """The private pygls attributes this module needs that ``server`` lacks (none: fine)."""
    owners = {"server": server, "protocol": server.protocol}
    return [
        f"pygls {where}.{name}"
        for where, name in USED
        if not hasattr(owners[where], name) and name not in vars(type(owners[where]))
    ]


def structure(server: LanguageServer, value: Any, cls: type[T]) -> T:
    """``value`` (client JSON) as ``cls``; raises :class:`pygls.exceptions.JsonRpcInvalidParams`
    with what is wrong."""
    try:
        result: T = server.protocol._converter.structure(value, cls)
    except Exception as exc:
        raise JsonRpcInvalidParams(f"{cls.__name__}: {explain(exc)}") from exc
    return result


def explain(exc: BaseException) -> str:
    """A short account of a structuring error (cattrs' paths, or the exception's text)."""
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc))[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def request_future(server: LanguageServer) -> Any:
    """The future (asyncio's, or a thread's) pygls keeps for the request being handled;
    None outside a request."""
    protocol = server.protocol
    msg_id = protocol.msg_id
    if msg_id is None:
        return None
    return protocol._request_futures.get(msg_id)


def send_json(server: LanguageServer, body: str) -> None:
    """Write one message that is already JSON text (ASCII) to the client."""
    writer = server.protocol.writer
    if writer is None:
        log.error("no transport to send %d bytes to", len(body))
        return
    data = body.encode()
    writer.write(f"Content-Length: {len(data)}\r\n\r\n".encode() + data)


def reply_error(server: LanguageServer, msg_id: Any, error: JsonRpcException) -> None:
    """Answer request ``msg_id`` with ``error``; an id that is not a number or a string is
    answered as ``null``, as JSON-RPC says for a request whose id cannot be known."""
    valid = isinstance(msg_id, int | str) and not isinstance(msg_id, bool)
    reply = {
        "jsonrpc": "2.0",
        "id": msg_id if valid else None,
        "error": {"code": error.code, "message": error.message},
    }
    send_json(server, json.dumps(reply))


def report(server: LanguageServer, problem: str) -> None:
    """Log a protocol problem on stderr and in the client's log (never as a popup)."""
    log.warning("%s", problem)
    try:
        server.window_log_message(
            types.LogMessageParams(type=types.MessageType.Warning, message=f"promptd: {problem}")
        )
    except Exception:
        log.exception("could not send window/logMessage")


def dispatch(server: LanguageServer, message: Any) -> None:
    """Hand one parsed JSON message to pygls; a request it cannot take gets an error reply."""
    protocol = server.protocol
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        msg_id = message.get("id") if isinstance(message, dict) else None
        reply_error(
            server,
            msg_id,
            JsonRpcInvalidRequest('not a JSON-RPC 2.0 message: an object with "jsonrpc": "2.0"'),
        )
        return
    method = message.get("method")
    is_request = "id" in message and isinstance(method, str)
    try:
        structured = protocol.structure_message(message)
    except JsonRpcException as exc:
        detail = explain(exc.__cause__) if exc.__cause__ is not None else exc.message
        if is_request:
            reply_error(
                server,
                message.get("id"),
                JsonRpcInvalidParams(f"invalid params for {method}: {detail}"),
            )
        else:
            report(server, f"ignored {method or 'a message'} with invalid params: {detail}")
        return
    try:
        protocol.handle_message(structured)
    except (SystemExit, KeyboardInterrupt):
        raise
    except Exception as exc:
        log.exception("handling %s failed", method)
        if is_request:
            reply_error(server, message.get("id"), JsonRpcInternalError(f"{method} failed: {exc}"))


class _StdinPump:
    """A daemon thread reading stdin; the loop awaits its chunks (at most 16 queued)."""

    def __init__(self, stdin: IO[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._fd = stdin.fileno()
        self._loop = loop
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=16)
        threading.Thread(target=self._run, name="promptd-lsp-stdin", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                chunk = os.read(self._fd, 1 << 16)
            except OSError:
                chunk = b""
            try:
                asyncio.run_coroutine_threadsafe(self._queue.put(chunk), self._loop).result()
            except RuntimeError:  # the loop is closed: the server is exiting
                return
            if not chunk:
                return

    async def read(self) -> bytes:
        return await self._queue.get()


async def serve(server: LanguageServer, read: Callable[[], Any], stop: threading.Event) -> None:
    """Read frames until the stream ends or the server stops, dispatching each message."""
    frames = FrameReader(read)
    while not stop.is_set():
        frame = await frames.next()
        if frame is None:
            return
        if frame.problem:
            report(server, frame.problem)
        if frame.message is not NO_MESSAGE:
            dispatch(server, frame.message)
        # One message per turn of the loop, as with pygls's own reader: a burst of messages
        # in one read does not hold back the work the earlier ones started.
        await asyncio.sleep(0)


def start_io(server: LanguageServer, stdin: IO[bytes] | None = None) -> None:
    """pygls's ``start_io`` with the hardened reader: runs until exit or end of input."""
    stop = threading.Event()
    server._stop_event = stop
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))

    async def main() -> None:
        pump = _StdinPump(stdin or sys.stdin.buffer, asyncio.get_running_loop())
        await serve(server, pump.read, stop)

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("the editor closed the connection; stopping")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]

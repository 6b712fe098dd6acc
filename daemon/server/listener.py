"""The Unix socket: a private listener, one :class:`Connection` per client, line framing.

* The socket is created mode 0600 inside ``run/`` (0700), and a peer whose uid is not the
  daemon's is refused (``SO_PEERCRED`` on Linux, ``LOCAL_PEERCRED`` on macOS/BSD): the
  permission bits are the first wall, the uid check the second.
* Framing (:class:`~promptd.daemon.wire.LineFramer`): one JSON object a line. A line longer
  than ``max_message_bytes`` is skipped to its newline and answered with one
  ``MESSAGE_TOO_LARGE`` error: the connection survives, as it does any line that fails.
* A listen backlog of :data:`BACKLOG`: hundreds of clients connecting at once all get in.
* What a line means is the :class:`LineHandler`'s business (the dispatcher).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import sys
from pathlib import Path
from typing import Protocol

from .. import wire
from . import logs

log = logs.get("listener")

_READ_CHUNK = 256 * 1024
_MAX_WRITE_BUFFER = 64 * 1024 * 1024  # a client that never reads is dropped past this
# Connections the kernel queues before the loop accepts them: many clients at once (editors,
# scripts, a batch of `promptd lint`) must wait in the queue, not get EAGAIN.
BACKLOG = 512


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket (None: cannot tell)."""
    if hasattr(socket, "SO_PEERCRED"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        _pid, uid, _gid = struct.unpack("3i", creds)
        return int(uid)
    local_peercred = getattr(socket, "LOCAL_PEERCRED", None)
    if local_peercred is not None:  # struct xucred: u_int version, uid_t uid, ...
        creds = sock.getsockopt(0, local_peercred, struct.calcsize("2I"))
        return int(struct.unpack("2I", creds)[1])
    return None


def peer_allowed(uid: int | None, own_uid: int) -> bool:
    """Only our own uid may talk to the daemon. Unknown (no credentials API): the 0600
    socket in a 0700 folder is the guard, so allow."""
    return uid is None or uid == own_uid


class LineHandler(Protocol):
    def on_line(self, conn: Connection, line: bytes) -> None: ...

    def on_close(self, conn: Connection) -> None: ...


class Connection:
    """One client. ``send`` queues a whole line (writes never interleave)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handler: LineHandler,
        max_bytes: int,
        number: int,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.handler = handler
        self.max_bytes = max_bytes
        self.number = number
        self.closed = False

    def send(self, data: bytes) -> None:
        if self.closed or self.writer.is_closing():
            return
        transport = self.writer.transport
        if transport.get_write_buffer_size() > _MAX_WRITE_BUFFER:
            log.warning("dropping a client that does not read", extra=logs.fields(conn=self.number))
            self.close()
            return
        self.writer.write(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()

    async def serve(self) -> None:
        """Read lines until the client goes away."""
        framer = wire.LineFramer(self.max_bytes)
        try:
            while not self.closed:
                chunk = await self.reader.read(_READ_CHUNK)
                if not chunk:
                    break
                for line in framer.feed(chunk):
                    if line is None:  # over the cap
                        self._too_large()
                    elif line.strip():
                        self._handle(line)
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            self.handler.on_close(self)
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()

    def _handle(self, line: bytes) -> None:
        """One line to the handler; a bug there answers this line, the connection goes on."""
        try:
            self.handler.on_line(self, line)
        except Exception as exc:
            log.exception("a request line failed", extra=logs.fields(conn=self.number))
            self.send(wire.encode_error(None, *wire.error_for(exc)))

    def _too_large(self) -> None:
        self.send(
            wire.encode_error(
                None,
                wire.MESSAGE_TOO_LARGE,
                f"message too large: over {self.max_bytes} bytes (daemon.max_message_bytes); "
                "send a smaller request",
            )
        )


class Listener:
    """The daemon's socket: binds, checks every peer, hands lines to the handler."""

    def __init__(self, path: Path, handler: LineHandler, max_bytes: int) -> None:
        self.path = path
        self.handler = handler
        self.max_bytes = max_bytes
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._count = 0
        self._uid = os.getuid()

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # stale: the pid lock said nobody owns this home
        old_umask = os.umask(0o177)  # the socket is born 0600
        try:
            with wire.socket_address(self.path) as address:
                self._server = await asyncio.start_unix_server(
                    self._accept, path=address, limit=_READ_CHUNK, backlog=BACKLOG
                )
        finally:
            os.umask(old_umask)
        self.path.chmod(0o600)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._count += 1
        sock = writer.get_extra_info("socket")
        uid = peer_uid(sock) if sock is not None else None
        if not peer_allowed(uid, self._uid):
            log.warning("refused a client of another user", extra=logs.fields(uid=uid))
            writer.write(
                wire.encode_error(
                    None,
                    wire.INVALID_REQUEST,
                    f"refused: this daemon belongs to uid {self._uid}, you are uid {uid}",
                )
            )
            with contextlib.suppress(ConnectionError, OSError):
                await writer.drain()
            writer.close()
            return
        conn = Connection(reader, writer, self.handler, self.max_bytes, self._count)
        self.connections.add(conn)
        try:
            await conn.serve()
        finally:
            self.connections.discard(conn)

    def stop_accepting(self) -> None:
        """Close the listening socket (connected clients stay until :meth:`close`)."""
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def close(self) -> None:
        self.stop_accepting()
        for conn in list(self.connections):
            conn.close()
        if self._server is not None:
            if sys.version_info >= (3, 12):  # 3.12+: wait_closed waits for the handlers too
                self._server.close_clients()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

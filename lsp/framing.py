"""LSP base-protocol framing that survives hostile input: header blocks, bodies, resync.

An editor sends ``Content-Length: N\\r\\n\\r\\n`` then N bytes of JSON. A language server that
trusts every header dies on ``Content-Length: 99999999999999999999`` (no such read is
possible) and goes deaf after one wrong length (every later header is glued to the rest of
a body and never recognised). :class:`FrameReader` reads frames from any byte source and
never gives up on the stream:

* a header is found anywhere in a line (so the tail of a mangled body does not hide the next
  message), case-insensitively, and the last Content-Length of a block wins;
* a length that is not a byte count, or over :data:`MAX_BODY`, is reported and skipped, and
  reading resumes at the next header;
* a body that is not JSON is reported; when a header of the next message hides inside it
  (the length was too long) the reader rewinds to that header, and the part before it is
  still taken when it is a whole JSON message;
* bytes outside any frame are skipped, counted and reported once a header is found again.

Each :class:`Frame` carries the parsed message, a problem (what was wrong, for the log), or
both. No I/O here beyond the ``read`` callable it is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

MAX_BODY: Final = 64 * 1024 * 1024  # bytes; a 2 MB source file is a 3 MB didOpen
MAX_LINE: Final = 64 * 1024  # a header line longer than this is garbage: drop all but its tail
_TAIL: Final = 64  # kept from a dropped line, in case a header starts in it
_HEADER: Final = re.compile(rb"content-length[ \t]*:[ \t]*([^\r\n]*)", re.IGNORECASE)
_DIGITS: Final = re.compile(rb"[0-9]+")

Read = Callable[[], Awaitable[bytes]]  # some bytes, or b"" at the end of the stream

NO_MESSAGE: Final[Any] = object()


@dataclass(frozen=True, slots=True)
class Frame:
    """One step of the stream: a message (``NO_MESSAGE`` when none), and what was wrong."""

    message: Any = NO_MESSAGE
    problem: str = ""


class FrameReader:
    """Frames from a byte stream; ``await next()`` until it returns None (end of stream)."""

    def __init__(self, read: Read, *, max_body: int = MAX_BODY) -> None:
        self._read = read
        self._buf = bytearray()
        self._eof = False
        self.max_body = max_body
        self.skipped = 0  # bytes outside any frame since the last report

    async def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = await self._read()
        if not chunk:
            self._eof = True
            return False
        self._buf += chunk
        return True

    async def _line(self) -> bytes:
        """The next line (with its ``\\n``), the last bytes before the end, or b"" at the end."""
        start = 0
        while True:
            i = self._buf.find(b"\n", start)
            if i >= 0:
                line = bytes(self._buf[: i + 1])
                del self._buf[: i + 1]
                return line
            if len(self._buf) > MAX_LINE:
                drop = len(self._buf) - _TAIL
                self.skipped += drop
                del self._buf[:drop]
            start = len(self._buf)
            if not await self._fill():
                line = bytes(self._buf)
                self._buf.clear()
                return line

    async def _body(self, length: int) -> bytes | None:
        while len(self._buf) < length:
            if not await self._fill():
                return None
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return body

    def _skipped_note(self) -> str:
        if not self.skipped:
            return ""
        note = f"skipped {self.skipped} bytes that were not part of any message"
        self.skipped = 0
        return note

    async def next(self) -> Frame | None:
        """The next frame; None once the stream has ended."""
        length: int | None = None
        while True:
            line = await self._line()
            if not line:
                return None
            match = _HEADER.search(line)
            if match is not None:
                self.skipped += match.start()
                value = match.group(1).strip()
                length = None
                if _DIGITS.fullmatch(value) is None:
                    shown = value[:40].decode("ascii", "replace")
                    return Frame(
                        problem=f"ignored a message whose Content-Length {shown!r} is not a "
                        "byte count; waiting for the next header"
                    )
                digits = value.lstrip(b"0") or b"0"
                length = int(digits) if len(digits) <= 16 else None
                if length is None or length > self.max_body:
                    shown = digits[:40].decode("ascii")
                    return Frame(
                        problem=f"ignored a message of {shown} bytes (Content-Length over the "
                        f"limit of {self.max_body} bytes); waiting for the next header"
                    )
            elif line.strip() == b"":
                if length is not None:
                    break
                self.skipped += len(line)
            elif length is None:
                self.skipped += len(line)
            # else: another header of the block (Content-Type): nothing to do
        note = self._skipped_note()
        body = await self._body(length)
        if body is None:
            return None
        return self._parse(body, note)

    def _parse(self, body: bytes, note: str) -> Frame:
        try:
            return Frame(message=_loads(body), problem=note)
        except (ValueError, RecursionError) as exc:
            error = _describe(exc)
        # A header inside the body: the length was too long and the next message began
        # within it. Go back to that header; the part before it may be a whole message.
        match = _HEADER.search(body, 1)
        problems = [note] if note else []
        if match is not None:
            self._buf[:0] = body[match.start() :]
            head = body[: match.start()]
            try:
                message = _loads(head)
            except (ValueError, RecursionError):
                pass
            else:
                problems.append(
                    f"a Content-Length of {len(body)} bytes was longer than its message "
                    f"({len(head)} bytes); the message was read and the next one kept"
                )
                return Frame(message=message, problem="; ".join(problems))
        problems.append(f"ignored a message whose body is not JSON ({error})")
        return Frame(problem="; ".join(problems))


def _loads(body: bytes) -> Any:
    if not body.strip():
        raise ValueError("the body is empty")
    return json.loads(body)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    return str(exc)[:200]

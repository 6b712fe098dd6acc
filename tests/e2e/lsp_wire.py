"""A raw stdio peer of the language server: it writes any bytes (malformed frames included)
and reads the server's framed messages, with deadlines, in a reader thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import IO, Any

from tests.waiting import wait_until

SERVER = [sys.executable, "-m", "promptd.lsp.server"]


def frame(message: dict[str, Any] | bytes) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class Wire:
    """The server process and what it sent: responses by id, notifications in order."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ},
        )
        self.responses: dict[Any, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.stderr: list[bytes] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.ids = 0
        assert self.proc.stdout is not None and self.proc.stderr is not None
        threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()

    def _read(self, out: IO[bytes]) -> None:
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = out.read(1)
                if not byte:
                    return
                header += byte
            length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
            message = json.loads(out.read(length))
            with self._lock:
                if "id" in message and "method" in message:  # a request from the server
                    self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
                elif "id" in message:
                    self.responses[message["id"]] = message
                else:
                    self.notifications.append(message)

    def _drain(self, err: IO[bytes]) -> None:
        for line in iter(err.readline, b""):
            self.stderr.append(line)

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.write(frame(message))

    def request(self, method: str, params: Any = None, **extra: Any) -> int:
        """Send a request (params omitted when None unless given in ``extra``); its id."""
        self.ids += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.ids, "method": method}
        if params is not None:
            message["params"] = params
        message.update(extra)
        self.send(message)
        return self.ids

    def wait(self, condition: Any, timeout: float, what: str) -> Any:
        """``condition()`` (read under the reader's lock) once truthy; fails early, with the
        server's stderr, if the server exits."""

        def ready() -> Any:
            with self._lock:
                value = condition()
            if not value and self.proc.poll() is not None:
                raise AssertionError(
                    f"the server exited ({self.proc.returncode}) before {what}: {self.log()}"
                )
            return value

        return wait_until(ready, timeout, what, interval=0.005, explain=self.log)

    def log(self) -> str:
        """The server's last lines on stderr."""
        return b"".join(self.stderr[-20:]).decode(errors="replace")

    def response(self, msg_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        result: dict[str, Any] = self.wait(
            lambda: self.responses.get(msg_id), timeout, f"answer to request {msg_id}"
        )
        return result

    def call(self, method: str, params: Any = None, timeout: float = 10.0) -> dict[str, Any]:
        return self.response(self.request(method, params), timeout)

    def initialize(self) -> None:
        answer = self.call(
            "initialize", {"processId": None, "rootUri": None, "capabilities": {}}, timeout=30
        )
        assert "result" in answer, answer
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def answers(self, timeout: float = 10.0) -> bool:
        """Whether a well-formed request (hover on a document that is not open) is answered."""
        answer = self.call(
            "textDocument/hover",
            {"textDocument": {"uri": "file:///none.py"}, "position": {"line": 0, "character": 0}},
            timeout,
        )
        return answer.get("result", "missing") is None

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.response(self.request("shutdown"), timeout=5)
                self.send({"jsonrpc": "2.0", "method": "exit"})
                self.proc.wait(timeout=5)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

"""A real chat-completions server on 127.0.0.1 (HTTP/1.1 keep-alive), in its own thread.

It answers ``POST /v1/chat/completions`` like xAI would, after an optional latency, with the
canned agent answers of :mod:`.fakes`; it records every request body. Used by the end-to-end
test and by ``bench/providers.py``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from types import TracebackType
from typing import Any

from .fakes import answer


class LoopbackServer:
    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        status: int = 200,
        api_key: str = "",
        echo: bool = False,
        cost_ticks: int | None = 1000,
        refuse_json_schema: bool = False,
        lookup: str = "",
        lookups: int = 1,
        refuse_tools: bool = False,
    ) -> None:
        self.latency_s = latency_s
        self.lookup = lookup  # the Designer asks search_library for this (see fakes.answer)
        self.lookups = lookups
        self.refuse_tools = refuse_tools  # answer a request with tools 400, as some servers do
        self.cost_ticks = cost_ticks  # reported in usage.cost_in_usd_ticks; None: not reported
        self.echo = echo  # the Designer makes a minimal edit of the prompt it is given
        self.status = status
        # like llama.cpp's server: response_format json_schema gets an HTTP 500
        self.refuse_json_schema = refuse_json_schema
        self.api_key = api_key
        self.bodies: list[dict[str, Any]] = []
        self.connections = 0
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._ready = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._run, name="loopback-llm", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the loopback server did not start within 10 s")
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        loop = self._loop
        if loop is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)

    async def _shutdown(self) -> None:
        """Stop listening, close every kept-alive connection, let the handlers end."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        pending = [t for t in self._handlers if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=256)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, payload = await self._answer(method, path, headers, body)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\nConnection: keep-alive\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except ConnectionError:
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        if method != "POST" or path != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {method} {path}"}}
        if self.api_key and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": {"message": "Incorrect API key provided"}}
        request = json.loads(body)
        self.bodies.append(request)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if self.status != 200:
            return self.status, {"error": {"message": "server says no"}}
        if self.refuse_json_schema and request.get("response_format", {}).get("type") == (
            "json_schema"
        ):
            message = "response_format: Input should be 'text' or 'json_object'"
            return 500, {"error": {"code": 500, "message": message}}
        if self.refuse_tools and "tools" in request:
            return 400, {"error": {"message": "tools are not supported by this server"}}
        return 200, answer(
            request,
            echo=self.echo,
            cost_ticks=self.cost_ticks,
            lookup=self.lookup,
            lookups=self.lookups,
        )

"""Params a person or a script can get wrong: each gets a clear invalid-params answer.

Through a real daemon (core, inbox and backup services) on its socket: what a client sees.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from promptd.daemon import wire
from promptd.daemon.paths import Paths, resolve
from tests.daemon.inbox.harness import running_daemon


class Raw:
    """A client below the codec: sends any bytes, reads the answer to one id."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def ask(
        self, method: str, params: str, id: int = 1, *, answer_id: int | None = -1
    ) -> dict[str, Any]:
        """Send a request; the answer with ``answer_id`` (default: ``id``; None for an error
        about a line whose id could not be read)."""
        answer_id = id if answer_id == -1 else answer_id
        line = f'{{"jsonrpc":"2.0","id":{id},"method":"{method}","params":{params}}}\n'
        self.writer.write(line.encode())
        await self.writer.drain()
        while True:
            answer = msgspec.json.decode(await asyncio.wait_for(self.reader.readline(), 10))
            if answer.get("id") == answer_id:
                assert isinstance(answer, dict)
                return answer


@pytest.fixture
async def raw(promptd_home: Path) -> AsyncIterator[Raw]:
    paths: Paths = resolve(promptd_home)
    async with running_daemon(promptd_home):
        with wire.socket_address(paths.socket) as address:
            reader, writer = await asyncio.open_unix_connection(address)
        try:
            yield Raw(reader, writer)
        finally:
            writer.close()


def _invalid_params(answer: dict[str, Any], field: str) -> str:
    error = answer.get("error")
    assert isinstance(error, dict), answer
    assert error["code"] == wire.INVALID_PARAMS, error
    message = str(error["message"])
    assert f"$.{field}" in message and "internal error" not in message, message
    return message


@pytest.mark.parametrize("method", ["batch.status", "batch.get", "batch.cancel"])
@pytest.mark.parametrize("bad", ['""', '"' + "x" * 600 + '"', '"' + "é" * 200 + '"', '"a/b"'])
async def test_an_invalid_batch_id_is_an_invalid_params_error(
    raw: Raw, method: str, bad: str
) -> None:
    _invalid_params(await raw.ask(method, f'{{"id": {bad}}}'), "id")


async def test_an_unknown_but_valid_batch_id_says_so(raw: Raw) -> None:
    answer = await raw.ask("batch.status", '{"id": "b_0123456789abcdef"}')
    assert answer["error"]["code"] == wire.BATCH_ERROR and "no batch" in answer["error"]["message"]


@pytest.mark.parametrize("field", ["daily_usd", "monthly_usd"])
@pytest.mark.parametrize("amount", ["1e10", "1e300", "1e999", "-1e999", "-1", "-0.01", "NaN"])
async def test_an_impossible_budget_is_refused_and_changes_nothing(
    raw: Raw, field: str, amount: str
) -> None:
    before = await raw.ask("budget.get", "{}", id=1)
    if amount == "NaN":  # not JSON at all: the line is refused before any method runs
        answer = await raw.ask("budget.set", f'{{"{field}": NaN}}', id=2, answer_id=None)
        assert answer["error"]["code"] == wire.PARSE_ERROR, answer
    else:
        answer = await raw.ask("budget.set", f'{{"{field}": {amount}}}', id=2)
        message = _invalid_params(answer, field)
        assert any(s in message for s in ("<= 1000000", ">= 0", "out of range")), message
    assert await raw.ask("budget.get", "{}", id=3) == {**before, "id": 3}
    ok = await raw.ask("budget.set", f'{{"{field}": 2.5}}', id=4)
    assert ok["result"]["daily_budget_usd" if field == "daily_usd" else "monthly_budget_usd"] == 2.5

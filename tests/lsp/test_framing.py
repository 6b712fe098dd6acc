"""The frame reader, in process: well-formed streams come out exactly, whatever the chunking;
garbage, absurd lengths and broken bodies are reported and the stream resynchronises."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from promptd.lsp.framing import MAX_BODY, NO_MESSAGE, Frame, FrameReader


def frame(message: Any) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_all(data: bytes, sizes: list[int] | None = None) -> list[Frame]:
    chunks: list[bytes] = []
    rest = data
    for size in sizes or []:
        chunks.append(rest[:size])
        rest = rest[size:]
    chunks.extend(rest[i : i + 4096] for i in range(0, len(rest), 4096))

    async def run() -> list[Frame]:
        queue = list(chunks)

        async def read() -> bytes:
            return queue.pop(0) if queue else b""

        reader = FrameReader(read)
        out = []
        while (got := await reader.next()) is not None:
            out.append(got)
        return out

    return asyncio.run(run())


def messages(frames: list[Frame]) -> list[Any]:
    return [f.message for f in frames if f.message is not NO_MESSAGE]


def problems(frames: list[Frame]) -> list[str]:
    return [f.problem for f in frames if f.problem]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
MESSAGES = st.lists(st.dictionaries(st.text(max_size=8), JSON, max_size=4), max_size=6)


@settings(max_examples=100, deadline=None)
@given(MESSAGES, st.lists(st.integers(1, 64), max_size=20))
def test_well_formed_messages_come_out_exactly_whatever_the_chunking(
    sent: list[dict[str, Any]], sizes: list[int]
) -> None:
    frames = read_all(b"".join(frame(m) for m in sent), sizes)
    assert messages(frames) == sent
    assert problems(frames) == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(1, 64), max_size=10))
def test_any_bytes_end_the_stream_without_raising(data: bytes, sizes: list[int]) -> None:
    read_all(data, sizes)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=500).filter(lambda b: b"ength" not in b.lower()))
def test_after_garbage_without_a_header_the_next_message_is_read(garbage: bytes) -> None:
    frames = read_all(garbage + b"\r\n" + frame({"id": 1}) + frame({"id": 2}))
    assert messages(frames)[-2:] == [{"id": 1}, {"id": 2}]


def test_an_absurd_length_is_reported_and_skipped() -> None:
    for length in (b"99999999999999999999", b"1099511627776", b"9" * 5000):
        frames = read_all(b"Content-Length: " + length + b"\r\n\r\n{}" + frame({"id": 1}))
        assert messages(frames) == [{"id": 1}]
        assert f"over the limit of {MAX_BODY} bytes" in problems(frames)[0]


def test_a_length_that_is_not_a_number_is_reported() -> None:
    frames = read_all(b"Content-Length: -3\r\n\r\n{}" + frame({"id": 1}))
    assert messages(frames) == [{"id": 1}]
    assert "'-3' is not a byte count" in problems(frames)[0]


def test_a_length_too_long_still_reads_the_message_and_keeps_the_next() -> None:
    body = json.dumps({"id": 1}).encode()
    data = b"Content-Length: %d\r\n\r\n" % (len(body) + 30) + body + frame({"id": 2})
    frames = read_all(data + frame({"id": 3}))
    assert messages(frames) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert "longer than its message" in problems(frames)[0]


def test_a_length_too_short_loses_that_message_only() -> None:
    body = json.dumps({"id": 1}).encode()
    data = b"Content-Length: %d\r\n\r\n" % (len(body) - 3) + body + frame({"id": 2})
    frames = read_all(data)
    assert messages(frames) == [{"id": 2}]
    assert "not JSON" in problems(frames)[0]
    assert any("skipped" in p for p in problems(frames))


def test_headers_are_case_insensitive_and_other_headers_ignored() -> None:
    body = b'{"id": 1}'
    data = (
        b"content-length:%d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n"
        % len(body)
        + body
    )
    assert messages(read_all(data)) == [{"id": 1}]


def test_bodies_that_are_not_json_are_reported() -> None:
    for body in (b"{nope", b"\xff\xfe\x00", b"[" * 50_000 + b"]" * 50_000, b"  "):
        frames = read_all(b"Content-Length: %d\r\n\r\n" % len(body) + body + frame({"id": 9}))
        assert messages(frames) == [{"id": 9}], body[:10]
        assert "not JSON" in problems(frames)[0]


def test_a_line_without_end_is_dropped_but_a_header_at_its_tail_is_found() -> None:
    frames = read_all(b"x" * 500_000 + frame({"id": 1}))
    assert messages(frames) == [{"id": 1}]
    assert "skipped 500000 bytes" in problems(frames)[0]

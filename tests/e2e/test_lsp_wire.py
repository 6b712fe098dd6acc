"""The language server over raw stdio, fed what no well-behaved editor sends: absurd and
malformed headers, bodies that are not JSON, requests with missing or invalid params. It
stays alive, says what was wrong, and answers every later request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from tests.e2e.lsp_wire import Wire, frame
from tests.waiting import wait_until

INVALID_PARAMS = -32602
HOVER = {"textDocument": {"uri": "file:///none.py"}, "position": {"line": 0, "character": 0}}


@pytest.fixture(scope="module")
def wire() -> Iterator[Wire]:
    """One server for the module: each test's damage must leave it answering the next."""
    peer = Wire()
    peer.initialize()
    yield peer
    peer.close()


@pytest.fixture
def fresh() -> Iterator[Wire]:
    peer = Wire()
    peer.initialize()
    yield peer
    peer.close()


def logged(wire: Wire, needle: str) -> bool:
    return any(
        m["method"] == "window/logMessage" and needle in m["params"]["message"]
        for m in wire.notifications
    )


@pytest.mark.parametrize("length", [b"99999999999999999999", b"1099511627776"])
def test_an_absurd_content_length_is_reported_and_the_server_goes_on(
    wire: Wire, length: bytes
) -> None:
    wire.write(b"Content-Length: " + length + b"\r\n\r\n" + b'{"jsonrpc": "2.0"}')
    assert wire.answers()
    wire.wait(lambda: logged(wire, "over the limit"), 5, "a log of the absurd length")
    assert wire.proc.poll() is None


MALFORMED = {
    "not a number": b"Content-Length: abc\r\n\r\n{}",
    "negative": b"Content-Length: -5\r\n\r\n{}",
    "no blank line": b'Content-Length: 2\r\n{"jsonrpc": "2.0", "id": 99, "method": "x"}',
    "too short": frame(b'{"jsonrpc": "2.0", "id": 98, "method": "$/x"}')[:-20],
    "too long": b"Content-Length: 80\r\n\r\n" + b'{"jsonrpc": "2.0", "method": "x"}',
    "zero": b"Content-Length: 0\r\n\r\n",
    "garbage line": b"hello there\r\n\r\n",
    "no header": b'{"jsonrpc": "2.0", "id": 97, "method": "$/x"}\r\n',
    "not JSON": frame(b"{not json at all"),
    "not UTF-8": frame(b'{"jsonrpc": "2.0", "method": "\xff\xfe"}'),
    "nested deep": frame(b"[" * 100_000 + b"]" * 100_000),
    "huge line": b"x" * 300_000 + b"\r\n",
    "NUL bytes": b"\x00" * 1000,
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_after_a_malformed_frame_the_server_resynchronises_and_answers(
    wire: Wire, data: bytes
) -> None:
    wire.write(data)
    # a frame with a wrong length may swallow the start of the next one: the server finds
    # the header after it again, so at most the first request after the damage is lost
    first = wire.request("textDocument/hover", HOVER)
    assert wire.answers()
    wire.wait(lambda: first in wire.responses or len(wire.responses) > 1, 5, "answers")
    assert wire.proc.poll() is None


def test_a_frame_that_is_json_but_not_json_rpc_gets_invalid_request(wire: Wire) -> None:
    wire.write(frame(b'{"id": "no-version", "method": "textDocument/hover"}'))
    answer = wire.response("no-version")
    assert answer["error"]["code"] == -32600
    wire.responses.pop(None, None)
    wire.write(frame(b"[1, 2, 3]"))
    assert wire.response(None)["error"]["code"] == -32600
    assert wire.answers()


BAD_PARAMS: list[Any] = [None, "text", 42, [], {}, {"textDocument": 5}]
REQUESTS = [
    "textDocument/hover",
    "textDocument/codeAction",
    "textDocument/codeLens",
    "codeAction/resolve",
    "workspace/executeCommand",
]


@pytest.mark.parametrize("method", REQUESTS)
def test_every_request_with_bad_params_gets_an_invalid_params_error(
    wire: Wire, method: str
) -> None:
    for params in BAD_PARAMS:
        msg_id = wire.request(method, params) if params is not None else wire.request(method)
        answer = wire.response(msg_id)
        assert "error" in answer, (method, params, answer)
        assert answer["error"]["code"] == INVALID_PARAMS, (method, params, answer)
        assert method in answer["error"]["message"]
    # no popup for any of them: an error reply is the answer
    assert not [m for m in wire.notifications if m["method"] == "window/showMessage"]
    assert wire.answers()


def lsp_requests() -> list[tuple[str, bool]]:
    """Every request method LSP defines (but initialize and shutdown), and whether it takes
    params."""
    out = []
    for method, (request, _, params_type, _) in types.METHOD_TO_TYPES.items():
        if method in ("initialize", "shutdown") or request is None:
            continue
        if "id" in {a.name for a in attrs.fields(request)}:
            out.append((method, params_type is not None))
    return out


def test_every_lsp_request_is_answered_whatever_its_params(wire: Wire) -> None:
    sent: dict[int, tuple[str, Any]] = {}
    for method, takes_params in lsp_requests():
        for params in ("text", 42, [], {}):
            sent[wire.request(method, params)] = (method, params)
        if takes_params:
            sent[wire.request(method)] = (method, "missing")
    for msg_id, (method, params) in sent.items():
        answer = wire.response(msg_id)
        if "error" in answer:
            # bad params, or a method this server does not offer: either way an answer
            assert answer["error"]["code"] in (INVALID_PARAMS, -32601), (method, params, answer)
    assert len(sent) > 200
    assert not [m for m in wire.notifications if m["method"] == "window/showMessage"]
    assert wire.answers()


COMMAND_ARGS: list[list[Any]] = [
    [],
    ["file:///none.py"],
    [5, 6],
    ["file:///none.py", "not a range"],
    ["file:///none.py", {"start": {"line": "a"}}],
]


@pytest.mark.parametrize(
    "command", ["promptd.optimize", "promptd.optimizeSelection", "promptd.showHistory"]
)
def test_commands_with_bad_arguments_get_invalid_params(wire: Wire, command: str) -> None:
    for args in COMMAND_ARGS:
        if command == "promptd.showHistory" and (len(args) < 2 or not isinstance(args[0], str)):
            continue  # no arguments (or no document): the whole history, not an error
        answer = wire.call("workspace/executeCommand", {"command": command, "arguments": args})
        assert answer.get("error", {}).get("code") == INVALID_PARAMS, (command, args, answer)
    assert wire.answers()


def test_resolve_of_our_action_with_a_bad_range_gets_invalid_params(wire: Wire) -> None:
    action = {
        "title": "Optimize prompt",
        "data": {"promptd": "promptd.optimize", "uri": "file:///a.py", "range": "nope"},
    }
    answer = wire.call("codeAction/resolve", action)
    assert answer["error"]["code"] == INVALID_PARAMS


# --- fuzz: random headers and bodies over the real stdio server ------------------------------

HEADER_NAMES = st.sampled_from(
    [b"Content-Length", b"content-length", b"Content-Type", b"Content-Length ", b"X", b""]
)
HEADER_VALUES = st.one_of(
    st.integers(0, 2000).map(lambda n: str(n).encode()),
    st.sampled_from([b"99999999999999999999", b"1099511627776", b"-1", b"abc", b"", b"1e3"]),
    st.binary(max_size=20),
)
LINE_ENDS = st.sampled_from([b"\r\n", b"\n", b"\r", b""])
BODIES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b'{"jsonrpc": "2.0", "id": "x", "method": "textDocument/hover", "params": {}}',
            b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": null}',
            b'{"jsonrpc": "2.0", "id": 1e400, "method": "initialize"}',
            b'{"jsonrpc": "2.0", "id": -1, "result": {}}',
            b"[" * 5000,
        ]
    ),
)
GARBAGE = st.lists(
    st.tuples(HEADER_NAMES, HEADER_VALUES, LINE_ENDS, LINE_ENDS, BODIES).map(
        lambda t: t[0] + b": " + t[1] + t[2] + t[3] + t[4]
    ),
    min_size=1,
    max_size=4,
).map(b"".join)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(garbage=GARBAGE)
def test_fuzzed_frames_never_stop_the_server_answering(wire: Wire, garbage: bytes) -> None:
    wire.write(garbage)
    # A plausible length may still be waiting for its body: keep asking until answered.
    asked: list[int] = []

    def answered() -> bool:
        assert wire.proc.poll() is None, wire.log()
        asked.append(wire.request("textDocument/hover", HOVER))
        return any(i in wire.responses for i in asked)

    wait_until(answered, 20, f"an answer after {garbage[:200]!r}", interval=0.1, explain=wire.log)
    assert wire.proc.poll() is None

"""pygls's private parts that promptd uses are still there, and the loop built on them
answers what pygls alone would drop. If pygls changes, the first test names what went."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from promptd.lsp import pygls_compat
from promptd.lsp.server import create_server
from tests.waiting import until


class Capture:
    """A writer that keeps what the server sends, as parsed messages."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        head, body = data.split(b"\r\n\r\n", 1)
        length = re.search(rb"Content-Length: (\d+)", head)
        assert length is not None and int(length.group(1)) == len(body)
        self.sent.append(json.loads(body))

    def close(self) -> None:
        pass


@pytest.fixture
def server() -> tuple[Any, Capture]:
    srv, _ = create_server()
    out = Capture()
    srv.protocol.set_writer(out)
    return srv, out


def test_pygls_still_has_every_private_attribute_promptd_uses(server: Any) -> None:
    srv, _ = server
    gone = pygls_compat.missing(srv)
    assert not gone, (
        f"pygls changed: promptd.lsp.pygls_compat uses {', '.join(gone)}, which this pygls "
        "lacks; adapt pygls_compat.py (and only it) to the new pygls"
    )


def test_a_missing_attribute_is_named(server: Any) -> None:
    srv, _ = server
    del srv.protocol._request_futures
    assert pygls_compat.missing(srv) == ["pygls protocol._request_futures"]


def test_structure_says_what_is_wrong(server: Any) -> None:
    srv, _ = server
    rng = {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 5}}
    assert pygls_compat.structure(srv, rng, types.Range).end.character == 5
    with pytest.raises(JsonRpcInvalidParams) as info:
        pygls_compat.structure(srv, {"start": {"line": "x"}}, types.Range)
    assert "Range" in info.value.message and "start" in info.value.message


def test_a_request_with_bad_params_is_answered_invalid_params(server: Any) -> None:
    srv, out = server
    pygls_compat.dispatch(
        srv, {"jsonrpc": "2.0", "id": 4, "method": "textDocument/hover", "params": {}}
    )
    (reply,) = out.sent
    assert reply["id"] == 4
    assert reply["error"]["code"] == -32602
    assert "textDocument/hover" in reply["error"]["message"]
    assert "textDocument" in reply["error"]["message"]


def test_a_notification_with_bad_params_is_logged_not_shown(server: Any) -> None:
    srv, out = server
    pygls_compat.dispatch(srv, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": 3})
    (note,) = out.sent
    assert note["method"] == "window/logMessage"
    assert "textDocument/didOpen" in note["params"]["message"]


@pytest.mark.parametrize(
    ("message", "reply_id"),
    [([1, 2], None), ({"id": 3, "method": "x"}, 3), ({"jsonrpc": "1.0", "id": [1]}, None)],
)
def test_what_is_not_json_rpc_2_gets_invalid_request(
    server: Any, message: Any, reply_id: Any
) -> None:
    srv, out = server
    pygls_compat.dispatch(srv, message)
    (reply,) = out.sent
    assert reply["id"] == reply_id
    assert reply["error"]["code"] == -32600


def test_send_json_frames_text_as_is(server: Any) -> None:
    srv, out = server
    pygls_compat.send_json(srv, '{"jsonrpc":"2.0","method":"x","params":[1]}')
    assert out.sent == [{"jsonrpc": "2.0", "method": "x", "params": [1]}]


def test_no_request_future_outside_a_request(server: Any) -> None:
    srv, _ = server
    assert pygls_compat.request_future(srv) is None


async def test_serve_reads_frames_reports_damage_and_answers(server: Any) -> None:
    srv, out = server
    hover = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "textDocument/hover",
        "params": {
            "textDocument": {"uri": "file:///none.py"},
            "position": {"line": 0, "character": 0},
        },
    }
    body = json.dumps(hover).encode()
    chunks = [
        b"Content-Length: 99999999999999999999\r\n\r\n{}",
        b"Content-Length: %d\r\n\r\n" % len(body) + body,
    ]

    async def read() -> bytes:
        return chunks.pop(0) if chunks else b""

    await pygls_compat.serve(srv, read, threading.Event())
    # the hover handler is a task: wait for its answer
    await until(lambda: any(m.get("id") == 1 for m in out.sent), 10, "the hover's answer")
    logs = [m["params"]["message"] for m in out.sent if m.get("method") == "window/logMessage"]
    assert any("over the limit" in m for m in logs)
    assert [m for m in out.sent if m.get("id") == 1] == [
        {"jsonrpc": "2.0", "id": 1, "result": None}
    ]

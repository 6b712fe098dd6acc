"""Fuzz the control socket of a real daemon process (issue 16).

Hypothesis writes lines of every kind onto one connection: random bytes, JSON that is not a
request, JSON nested thousands deep, lines over ``daemon.max_message_bytes``, requests whose
bytes are not UTF-8, and well-framed requests to real and made-up methods with params of
the wrong types. After each batch of lines a probe request must be answered; then we check
that the daemon process is alive, that every well-framed request got exactly one answer
(a result, or an error with a message and never "internal error"), and that every other
line got exactly one error answer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptd.daemon import process, wire
from promptd.daemon.client import answers
from promptd.daemon.paths import Paths, resolve
from tests.waiting import wait_until

MAX_LINE = 65_536
# Methods with no lasting effect (no shutdown, no backup, no import of a file).
METHODS = [
    "status",
    "lint",
    "history",
    "show",
    "costs",
    "budget.get",
    "batch.status",
    "batch.get",
    "batch.cancel",
    "batch.submit",
    "backup.list",
    "subscribe",
    "optimize",
    "analysis.warm",
]
FIELDS = [
    "text",
    "id",
    "limit",
    "path",
    "topics",
    "prompt_type",
    "engine",
    "progress_token",
    "prompts",
    "source",
]
RESERVED = {"id", "method", "jsonrpc"}  # garbage objects leave these out: they stay garbage


@dataclass
class Daemon:
    paths: Paths
    proc: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    home = tmp_path_factory.mktemp("fz")
    paths = resolve(home)
    paths.config_file.write_text(f"[daemon]\nmax_message_bytes = {MAX_LINE}\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "promptd.daemon", "--home", str(home), "start", "--foreground"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**env, "PROMPTD_HOME": str(home)},
    )
    try:
        wait_until(lambda: answers(paths) or proc.poll() is not None, 30, "the daemon")
        assert proc.poll() is None, f"the daemon exited: {process.last_error(paths)}"
        yield Daemon(paths, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# --- what goes on the wire -----------------------------------------------------------------

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def params(draw: st.DrawFn) -> Any:
    """Params of the right shape with values of any type, or anything at all."""
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True))
        return {k: draw(json_value) for k in keys}
    return draw(json_value)


def _not_a_request(value: Any) -> bool:
    return not (isinstance(value, dict) and RESERVED & set(value))


def _deep(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"0" + b"}" * depth


garbage = st.one_of(
    st.binary(min_size=1, max_size=200)
    .map(lambda b: b.replace(b"\n", b"?"))
    .filter(bytes.strip),  # a blank line is no message: it gets no answer
    json_value.filter(_not_a_request).map(msgspec.json.encode),
    st.builds(_deep, st.integers(2_000, 6_000), st.sampled_from(["list", "dict"])),
    st.builds(
        lambda n: (
            b'{"jsonrpc":"2.0","id":"big","method":"lint","params":{"text":"' + b"x" * n + b'"}}'
        ),
        st.integers(MAX_LINE + 1, MAX_LINE * 2),
    ),
    st.builds(
        lambda junk: b'{"jsonrpc":"2.0","id":1,"method":"status","' + junk + b'":1}',
        st.sampled_from([b"\xff", b"\xc3", b"caf\xe9", b"\xed\xa0\x80"]),
    ),
)


@st.composite
def request(draw: st.DrawFn, id: int) -> tuple[bytes, int | None]:
    """A well-framed request (answered with its id), or one whose params are nested too deep
    to read at all (answered like garbage: a parse error with a null id)."""
    method = draw(st.sampled_from(METHODS) | st.text(max_size=12))
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
    if draw(st.integers(0, 5)) == 0:
        depth = draw(st.integers(2_000, 6_000))
        head = msgspec.json.encode(message)[:-1]
        return head + b',"params":' + b"[" * depth + b"]" * depth + b"}", None
    if draw(st.booleans()):
        message["params"] = draw(params())
    return msgspec.json.encode(message), id


@st.composite
def lines(draw: st.DrawFn) -> list[tuple[bytes, int | None]]:
    """(line, id): the id of a well-framed request, None for garbage."""
    out: list[tuple[bytes, int | None]] = []
    for i in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            out.append(draw(request(i + 1)))
        else:
            out.append((draw(garbage), None))
    return out


def _exchange(paths: Paths, batch: list[tuple[bytes, int | None]]) -> list[dict[str, Any]]:
    """Send the lines and a probe; read answers until the probe and one answer a line came
    (requests run concurrently: answers come in any order). A missing one times out."""
    want_ids = {rid for _, rid in batch if rid is not None}
    want_garbage = sum(1 for _, rid in batch if rid is None)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(20)
    with wire.socket_address(paths.socket) as address:
        sock.connect(address)
    framer = wire.LineFramer()
    got: list[dict[str, Any]] = []
    probed = False
    payload = b"".join(line + b"\n" for line, _ in batch)
    try:
        sock.sendall(payload + b'{"jsonrpc":"2.0","id":"probe","method":"budget.get"}\n')
        while not (
            probed
            and want_ids <= {a.get("id") for a in got}
            and sum(1 for a in got if a.get("id") not in want_ids) >= want_garbage
        ):
            try:
                chunk = sock.recv(1 << 16)
            except TimeoutError:
                raise AssertionError(f"no answer to every line in 20 s; got {got}") from None
            assert chunk, "the daemon closed the connection before answering every line"
            for line in framer.feed(chunk):
                assert line is not None
                answer = msgspec.json.decode(line)
                if answer.get("id") == "probe":
                    assert "result" in answer, answer
                    probed = True
                elif "method" not in answer:  # a notification (progress...) is no answer
                    got.append(answer)
    finally:
        sock.close()
    return got


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batch=lines())
def test_every_line_is_answered_and_the_daemon_survives(
    daemon: Daemon, batch: list[tuple[bytes, int | None]]
) -> None:
    got = _exchange(daemon.paths, batch)
    assert daemon.proc.poll() is None, "the daemon died"

    ids = [rid for _, rid in batch if rid is not None]
    by_id: dict[Any, list[dict[str, Any]]] = {}
    for answer in got:
        by_id.setdefault(answer.get("id"), []).append(answer)
    for rid in ids:
        assert len(by_id.get(rid, [])) == 1, (rid, got)
        [answer] = by_id[rid]
        if "error" in answer:
            error = answer["error"]
            assert error["message"] and error["code"] != wire.INTERNAL_ERROR, answer
        else:
            assert "result" in answer, answer
    # every garbage line gets one error; the only id one can carry is the id it wrote
    garbage_answers = [a for a in got if a.get("id") not in ids]
    assert len(garbage_answers) == sum(1 for _, rid in batch if rid is None), got
    assert all("error" in a and a["error"]["message"] for a in garbage_answers), got

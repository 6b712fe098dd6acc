"""JSON-RPC framing: what a client sees for good and bad lines."""

from __future__ import annotations

import msgspec
import pytest

from promptd.daemon import api, wire
from promptd.daemon.errors import BudgetError, InputError, RPCError


def test_parse_request_reads_method_params_and_id() -> None:
    req = wire.parse_request(
        b'{"jsonrpc": "2.0", "id": 7, "method": "lint", "params": {"text": "x"}}'
    )
    assert (req.method, req.id, req.is_notification) == ("lint", 7, False)
    params = wire.decode_params(req.params, api.LintParams)
    assert params == api.LintParams(text="x")


def test_a_request_without_id_is_a_notification() -> None:
    assert wire.parse_request(b'{"jsonrpc": "2.0", "method": "status"}').is_notification


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{not json", wire.PARSE_ERROR),
        (b'[{"jsonrpc": "2.0", "method": "status"}]', wire.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 3}', wire.INVALID_REQUEST),
        (b'{"jsonrpc": "1.0", "id": 3, "method": "status"}', wire.INVALID_REQUEST),
    ],
)
def test_bad_lines_give_the_json_rpc_error(line: bytes, code: int) -> None:
    with pytest.raises(wire.RequestError) as info:
        wire.parse_request(line)
    assert info.value.code == code


def test_invalid_request_keeps_the_id_when_it_can() -> None:
    with pytest.raises(wire.RequestError) as info:
        wire.parse_request(b'{"jsonrpc": "2.0", "id": 42}')
    assert info.value.id == 42


def test_unknown_params_field_is_named() -> None:
    req = wire.parse_request(b'{"jsonrpc":"2.0","id":1,"method":"lint","params":{"txt":"x"}}')
    with pytest.raises(wire.RequestError) as info:
        wire.decode_params(req.params, api.LintParams)
    assert info.value.code == wire.INVALID_PARAMS
    assert "txt" in str(info.value)


def test_positional_params_are_refused_with_a_hint() -> None:
    req = wire.parse_request(b'{"jsonrpc":"2.0","id":1,"method":"lint","params":["x"]}')
    with pytest.raises(wire.RequestError, match="named fields"):
        wire.decode_params(req.params, api.LintParams)


def test_missing_params_mean_defaults() -> None:
    req = wire.parse_request(b'{"jsonrpc":"2.0","id":1,"method":"history"}')
    assert wire.decode_params(req.params, api.HistoryParams) == api.HistoryParams()


def test_errors_map_to_codes_and_keep_the_exit_code() -> None:
    code, message, data = wire.error_for(InputError("the prompt is empty; type one"))
    assert code == wire.INPUT_ERROR and message == "the prompt is empty; type one"
    assert data == {"error": "InputError", "exit_code": 2}
    assert wire.error_for(BudgetError("over"))[0] == wire.BUDGET_ERROR
    assert wire.error_for(RPCError(wire.NOT_FOUND, "no such id"))[:2] == (
        wire.NOT_FOUND,
        "no such id",
    )


def test_unexpected_exceptions_hide_their_details() -> None:
    code, message, _ = wire.error_for(KeyError("secret internals"))
    assert code == wire.INTERNAL_ERROR
    assert "secret" not in message and "daemon.log" in message


def test_encoded_messages_are_one_line_each() -> None:
    lines = [
        wire.encode_result(1, api.LintResult(prompt_type="general", findings=[], score=50)),
        wire.encode_error(2, wire.INVALID_PARAMS, "bad\nthing"),
        wire.encode_notification("progress", api.Progress(token="t", kind="optimize", message="m")),
    ]
    for line in lines:
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        reply = wire.decode_reply(line)
        assert reply.jsonrpc == "2.0"
    ok = wire.decode_reply(lines[0])
    assert msgspec.json.decode(bytes(ok.result))["score"] == 50
    err = wire.decode_reply(lines[1])
    assert err.error is not None and err.error.code == wire.INVALID_PARAMS

"""JSON-RPC framing: what a client sees for good and bad lines."""

from __future__ import annotations

import msgspec
import pytest

from promptd.daemon import api
from promptd.daemon.errors import BudgetError, InputError, RPCError
from promptd.daemon.server import rpc


def test_parse_request_reads_method_params_and_id() -> None:
    req = rpc.parse_request(
        b'{"jsonrpc": "2.0", "id": 7, "method": "lint", "params": {"text": "x"}}'
    )
    assert (req.method, req.id, req.is_notification) == ("lint", 7, False)
    params = rpc.decode_params(req.params, api.LintParams)
    assert params == api.LintParams(text="x")


def test_a_request_without_id_is_a_notification() -> None:
    assert rpc.parse_request(b'{"jsonrpc": "2.0", "method": "status"}').is_notification


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"{not json", api.PARSE_ERROR),
        (b'[{"jsonrpc": "2.0", "method": "status"}]', api.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 3}', api.INVALID_REQUEST),
        (b'{"jsonrpc": "1.0", "id": 3, "method": "status"}', api.INVALID_REQUEST),
    ],
)
def test_bad_lines_give_the_json_rpc_error(line: bytes, code: int) -> None:
    with pytest.raises(rpc.RequestError) as info:
        rpc.parse_request(line)
    assert info.value.code == code


def test_invalid_request_keeps_the_id_when_it_can() -> None:
    with pytest.raises(rpc.RequestError) as info:
        rpc.parse_request(b'{"jsonrpc": "2.0", "id": 42}')
    assert info.value.id == 42


def test_unknown_params_field_is_named() -> None:
    req = rpc.parse_request(b'{"jsonrpc":"2.0","id":1,"method":"lint","params":{"txt":"x"}}')
    with pytest.raises(rpc.RequestError) as info:
        rpc.decode_params(req.params, api.LintParams)
    assert info.value.code == api.INVALID_PARAMS
    assert "txt" in str(info.value)


def test_positional_params_are_refused_with_a_hint() -> None:
    req = rpc.parse_request(b'{"jsonrpc":"2.0","id":1,"method":"lint","params":["x"]}')
    with pytest.raises(rpc.RequestError, match="named fields"):
        rpc.decode_params(req.params, api.LintParams)


def test_missing_params_mean_defaults() -> None:
    req = rpc.parse_request(b'{"jsonrpc":"2.0","id":1,"method":"history"}')
    assert rpc.decode_params(req.params, api.HistoryParams) == api.HistoryParams()


def test_errors_map_to_codes_and_keep_the_exit_code() -> None:
    code, message, data = rpc.error_for(InputError("the prompt is empty; type one"))
    assert code == api.INPUT_ERROR and message == "the prompt is empty; type one"
    assert data == {"error": "InputError", "exit_code": 2}
    assert rpc.error_for(BudgetError("over"))[0] == api.BUDGET_ERROR
    assert rpc.error_for(RPCError(api.NOT_FOUND, "no such id"))[:2] == (api.NOT_FOUND, "no such id")


def test_unexpected_exceptions_hide_their_details() -> None:
    code, message, _ = rpc.error_for(KeyError("secret internals"))
    assert code == api.INTERNAL_ERROR
    assert "secret" not in message and "daemon.log" in message


def test_encoded_messages_are_one_line_each() -> None:
    lines = [
        rpc.encode_result(1, api.LintResult(prompt_type="general", findings=[], score=50)),
        rpc.encode_error(2, api.INVALID_PARAMS, "bad\nthing"),
        rpc.encode_notification("progress", api.Progress(token="t", kind="optimize", message="m")),
    ]
    for line in lines:
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        reply = rpc.decode_reply(line)
        assert reply.jsonrpc == "2.0"
    ok = rpc.decode_reply(lines[0])
    assert msgspec.json.decode(bytes(ok.result))["score"] == 50
    err = rpc.decode_reply(lines[1])
    assert err.error is not None and err.error.code == api.INVALID_PARAMS

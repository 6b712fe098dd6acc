"""OpenAI-compatible tools on the wire: the request, the model's tool calls, a refusal."""

from __future__ import annotations

import hashlib
import json

import pytest
import respx

from promptd.daemon.providers import ChatRequest, Message
from promptd.daemon.providers.base import ProviderCallError, ToolCall, ToolsUnsupportedError
from promptd.daemon.providers.calls import request_key, request_tokens
from promptd.daemon.providers.library_tool import SEARCH_TOOL, query_of

from .conftest import XAI_URL, completion
from .test_http import xai

ASKED = Message(
    role="assistant",
    content="",
    tool_calls=[ToolCall(id="call_1", name="search_library", arguments='{"query": "style"}')],
)
REQ = ChatRequest(
    model="grok-4.3",
    messages=[
        Message(role="user", content="rewrite this"),
        ASKED,
        Message(role="tool", content="No results.", tool_call_id="call_1"),
    ],
    max_tokens=50,
    tools=[SEARCH_TOOL],
    tool_choice="auto",
)


@respx.mock
async def test_tools_and_tool_messages_go_out_and_tool_calls_come_back(client, env, sleeps) -> None:
    answer = completion("ignored")
    answer["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "search_library", "arguments": {"query": "tone"}},
            }
        ],
    }
    answer["choices"][0]["finish_reason"] = "tool_calls"
    route = respx.post(XAI_URL).respond(200, json=answer)
    result = await xai(client, env, sleeps).complete(REQ)
    sent = json.loads(route.calls[0].request.content)
    assert sent["tools"] == [SEARCH_TOOL] and sent["tool_choice"] == "auto"
    assert sent["messages"][1]["tool_calls"][0]["function"]["name"] == "search_library"
    assert sent["messages"][2] == {
        "role": "tool",
        "content": "No results.",
        "tool_call_id": "call_1",
    }
    assert result.content == "" and result.finish_reason == "tool_calls"
    assert [(c.id, c.name) for c in result.tool_calls] == [("call_2", "search_library")]
    assert query_of(result.tool_calls[0]) == "tone"  # arguments sent as an object


@pytest.mark.parametrize("status", [400, 500])
@respx.mock
async def test_a_refusal_naming_tools_is_its_own_error(client, env, sleeps, status: int) -> None:
    route = respx.post(XAI_URL).respond(
        status, json={"error": {"message": "this server does not support tools"}}
    )
    with pytest.raises(ToolsUnsupportedError):
        await xai(client, env, sleeps).complete(REQ)
    assert route.call_count == 1  # not retried


@respx.mock
async def test_without_tools_the_same_words_are_an_ordinary_error(client, env, sleeps) -> None:
    respx.post(XAI_URL).respond(400, json={"error": {"message": "bad tool_call_id"}})
    plain = ChatRequest(model="grok-4.3", messages=[Message(role="user", content="hi")])
    with pytest.raises(ProviderCallError) as info:
        await xai(client, env, sleeps).complete(plain)
    assert not isinstance(info.value, ToolsUnsupportedError)


def test_requests_without_tools_keep_their_cache_keys_and_tools_count_in_the_hold() -> None:
    plain = ChatRequest(model="m", messages=[Message(role="user", content="x")])
    # the canonical form before tools existed: no tools, no tool fields on messages
    legacy = (
        b'{"base_url":"b","provider":"p","request":{"max_tokens":4096,"messages":'
        b'[{"content":"x","role":"user"}],"model":"m","response_format":null,"temperature":0.2}}'
    )
    assert request_key("p", "b", plain) == hashlib.sha256(legacy).hexdigest()
    assert request_key("p", "b", REQ) != request_key(
        "p", "b", ChatRequest(model=REQ.model, messages=REQ.messages, max_tokens=50)
    )
    assert request_tokens(REQ) > request_tokens(
        ChatRequest(model=REQ.model, messages=REQ.messages, max_tokens=50)
    )


def test_a_call_that_is_not_a_search_has_no_query() -> None:
    assert query_of(ToolCall(id="1", name="other", arguments='{"query": "x"}')) == ""
    assert query_of(ToolCall(id="1", name="search_library", arguments="not json")) == ""
    assert query_of(ToolCall(id="1", name="search_library", arguments='{"query": 3}')) == ""
    assert (
        len(
            query_of(
                ToolCall(id="1", name="search_library", arguments=json.dumps({"query": "q" * 1000}))
            )
        )
        == 300
    )

"""Canned agent answers for a chat-completions server (respx handler or loopback server)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

ANALYSIS: dict[str, Any] = {
    "deconstruction": {
        "role": "",
        "tasks": ["write some stuff about dogs"],
        "audience": "",
        "context": "",
        "constraints": [],
        "output_format": "",
        "examples": [],
        "input_data": [],
        "placeholders": [],
    },
    "findings": [
        {
            "code": "PD003",
            "severity": "warning",
            "message": "Say which aspects of dogs.",
            "quote": "stuff",
            "needs_input": True,
        }
    ],
}
DESIGN: dict[str, Any] = {
    "prompt": "Write a short article about dogs for a general audience.",
    "changes": [{"description": "Named the audience and length", "findings": ["PD003"]}],
}
# system prompt opening -> the answer (the first that matches wins)
ANSWERS: dict[str, dict[str, Any]] = {
    "Deconstructor and the Diagnoser": ANALYSIS,
    "Designer": DESIGN,
    "Evaluator": {},  # made from the pair: see judge()
}
_TAG = re.compile(r"<(?P<name>prompt_a|prompt_b|prompt)>\n(?P<body>.*?)\n</(?P=name)>", re.DOTALL)


def agent_of(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    for name in ANSWERS:
        if system.startswith(f"You are the {name}"):
            return name
    raise AssertionError("request without a known meta-prompt")


def tagged(body: dict[str, Any], name: str) -> str:
    """The text inside <name> of the request's first user message."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    for match in _TAG.finditer(user):
        if match.group("name") == name:
            return match.group("body")
    raise AssertionError(f"no <{name}> in the request")


def judge(body: dict[str, Any]) -> dict[str, Any]:
    """A judge that prefers the longer of the two prompts, whichever order they come in."""
    a, b = tagged(body, "prompt_a"), tagged(body, "prompt_b")
    better = "A" if len(a) > len(b) else "B" if len(b) > len(a) else "same"
    return {
        "better": better,
        "score_a": 70 if better == "A" else 50,
        "score_b": 70 if better == "B" else 50,
        "reasons": ["the longer one says more"],
        "lost_or_invented": [],
    }


def content_for(body: dict[str, Any], *, echo: bool = False) -> dict[str, Any]:
    """The canned answer to a request; ``echo``: the Designer edits the prompt minimally."""
    agent = agent_of(body)
    if agent == "Evaluator":
        return judge(body)
    if agent == "Designer" and echo:
        head, _, rest = tagged(body, "prompt").partition("\n\n")
        rewrite = f"## Task\n{head}" + (
            f"\n\n## Input\n<data>\n{rest.strip()}\n</data>" * bool(rest)
        )
        return {
            "prompt": rewrite,
            "changes": [{"description": "Delimited the input data", "findings": ["PD012"]}],
        }
    return ANSWERS[agent]


def wants_lookup(body: dict[str, Any], lookup: str, lookups: int) -> bool:
    """Whether a Designer with the search_library tool should look ``lookup`` up now: it
    may (tool_choice auto) and has looked up fewer than ``lookups`` times."""
    if not lookup or not body.get("tools") or body.get("tool_choice") == "none":
        return False
    done = sum(1 for m in body["messages"] if m["role"] == "tool")
    return agent_of(body) == "Designer" and done < lookups


def answer(
    body: dict[str, Any],
    *,
    cost_ticks: int | None = 1000,
    echo: bool = False,
    lookup: str = "",
    lookups: int = 1,
) -> dict[str, Any]:
    """A chat completion for ``body``; with ``lookup``, a Designer that has the
    search_library tool asks for it (up to ``lookups`` times) before it answers."""
    if wants_lookup(body, lookup, lookups):
        n = sum(1 for m in body["messages"] if m["role"] == "tool")
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{n}",
                    "type": "function",
                    "function": {"name": "search_library", "arguments": f'{{"query": "{lookup}"}}'},
                }
            ],
        }
        return _completion(body, message, "tool_calls", cost_ticks)
    content = msgspec.json.encode(content_for(body, echo=echo)).decode()
    return _completion(body, {"role": "assistant", "content": content}, "stop", cost_ticks)


def _completion(
    body: dict[str, Any], message: dict[str, Any], finish: str, cost_ticks: int | None
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": 900,
        "completion_tokens": 150,
        "prompt_tokens_details": {"cached_tokens": 600},
        "completion_tokens_details": {"reasoning_tokens": 50},
    }
    if cost_ticks is not None:
        usage["cost_in_usd_ticks"] = cost_ticks
    return {
        "id": "c",
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }

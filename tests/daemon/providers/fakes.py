"""Canned agent answers for a chat-completions server (respx handler or loopback server)."""

from __future__ import annotations

from typing import Any

import msgspec

ANSWERS: dict[str, dict[str, Any]] = {
    "Deconstructor": {"role": "", "tasks": ["write about dogs"], "placeholders": []},
    "Diagnoser": {
        "findings": [
            {
                "code": "PD003",
                "severity": "warning",
                "message": "Say which aspects of dogs.",
                "span": {"start": 16, "end": 20, "line": 1, "col": 17},
                "needs_input": True,
            }
        ]
    },
    "Designer": {
        "prompt": "Write a short article about dogs for a general audience.",
        "changes": [{"description": "Named the audience and length", "findings": ["PD003"]}],
    },
    "Evaluator": {
        "before": {
            "clarity": 40,
            "specificity": 30,
            "structure": 40,
            "completeness": 30,
            "total": 35,
        },
        "after": {
            "clarity": 70,
            "specificity": 60,
            "structure": 60,
            "completeness": 60,
            "total": 63,
        },
        "accepted": True,
        "reasons": ["clearer"],
    },
}


def agent_of(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    for name in ANSWERS:
        if system.startswith(f"You are the {name}"):
            return name
    raise AssertionError("request without a known meta-prompt")


def answer(body: dict[str, Any], *, cost_ticks: int | None = 1000) -> dict[str, Any]:
    content = msgspec.json.encode(ANSWERS[agent_of(body)]).decode()
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
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }

"""A fake chat model for ``promptd eval`` tests: the target, the judge, the input drafter.

* **target** (a request without a system message): answers ``"answer to: " + prompt``, so
  a longer (more detailed) prompt gets a longer answer;
* **judge**: prefers the longer output (``bias="A"``: always picks whatever is shown first,
  as a position-biased judge would);
* **drafter**: one input per requested count, a value for every placeholder named.

Other requests (the optimization agents) get the canned answers of the providers' fakes.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from ..providers.fakes import answer as agent_answer
from ..providers.loopback import LoopbackServer

_TAG = re.compile(r"<(?P<name>[a-z_]+)>\n(?P<body>.*?)\n</(?P=name)>", re.DOTALL)


def tags(text: str) -> dict[str, str]:
    return {m.group("name"): m.group("body") for m in _TAG.finditer(text)}


def kind_of(body: dict[str, Any]) -> str:
    first = body["messages"][0]
    if first["role"] != "system":
        return "target"
    if first["content"].startswith("You are the judge of an A/B test"):
        return "judge"
    if first["content"].startswith("You write test inputs"):
        return "draft"
    return "agent"


def content_for(body: dict[str, Any], *, bias: str = "") -> str:
    kind = kind_of(body)
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    if kind == "target":
        return "answer to: " + user
    if kind == "judge":
        t = tags(user)
        a, b = t["output_a"], t["output_b"]
        better = bias or ("A" if len(a) > len(b) else "B" if len(b) > len(a) else "same")
        reason = "it is shown first" if bias else f"{better} answers in more detail"
        return json.dumps({"better": better, "reasons": [reason]})
    if kind == "draft":
        names = tags(user)["placeholders"].split("\n")
        count = int(re.search(r"Write (\d+) inputs", user).group(1))  # type: ignore[union-attr]
        inputs = [
            {"values": [{"name": n, "value": f"{n} case {i}"} for n in names], "note": f"case {i}"}
            for i in range(count)
        ]
        return json.dumps({"inputs": inputs})
    raise AssertionError("an agent request: use the providers' fakes")


def completion(
    body: dict[str, Any], *, bias: str = "", cost_ticks: int | None = 1000, echo: bool = False
) -> dict[str, Any]:
    """The chat-completions response to ``body`` (eval requests; agents: the providers' fakes).

    ``cost_ticks=None``: no reported cost, and usage as a model that uses all of its
    ``max_tokens`` would report (the price table then bills about the call's worst case).
    """
    if kind_of(body) == "agent":
        return agent_answer(body, cost_ticks=cost_ticks, echo=echo)
    usage: dict[str, Any] = {"prompt_tokens": 100, "completion_tokens": 20}
    if cost_ticks is None:
        text = "".join(m["content"] for m in body["messages"])
        usage = {"prompt_tokens": len(text) // 4, "completion_tokens": body["max_tokens"]}
    else:
        usage["cost_in_usd_ticks"] = cost_ticks
    return {
        "id": "c",
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content_for(body, bias=bias)},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }


class EvalLoopback(LoopbackServer):
    """The loopback chat-completions server, answering eval requests too."""

    def __init__(self, *, bias: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bias = bias

    async def _answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        if method != "POST" or path != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {method} {path}"}}
        request = json.loads(body)
        self.bodies.append(request)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if self.status != 200:
            return self.status, {"error": {"message": "server says no"}}
        return 200, completion(request, bias=self.bias, cost_ticks=self.cost_ticks, echo=self.echo)

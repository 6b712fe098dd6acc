"""--instruct and --for on the LLM engine: the Designer is told, the result is measured.

The Designer's request carries the instruction (``<instruction>``) as the author's explicit
wish and the target family's convention with its source (``<target_model>``); a rewrite that
misses what can be measured (a word limit) is sent back once with that as feedback, and what
is still missed comes back in ``instruct_unmet``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import respx

from promptd.daemon.config import EngineConfig
from promptd.daemon.engine import OfflineAgents, OptimizationRequest, RunMeta, run_pipeline
from promptd.daemon.events import Event, OptimizationCompleted
from promptd.daemon.providers import LLMEngine

from .conftest import XAI_URL, xai_config
from .fakes import answer, tagged
from .memlog import MemLog

PROMPT = "write an article about dogs for {audience}"
LONG = (
    "Write an article about dogs for {audience}. Cover their history, the main breeds, "
    "what they need every day and how they behave with people and children."
)
SHORT = "Write an article about dogs for {audience}, in plain words."


def _designer(body: dict[str, Any]) -> bool:
    return bool(body["messages"][0]["content"].startswith("You are the Designer"))


def _handler(rewrites: list[str], seen: list[dict[str, Any]]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.read())
        if not _designer(body):
            return httpx.Response(200, json=answer(body))
        seen.append(body)
        out = answer(body)
        text = rewrites[min(len(seen), len(rewrites)) - 1]
        design = {
            "prompt": text,
            "changes": [{"description": "Followed the instruction", "findings": ["PD003"]}],
        }
        out["choices"][0]["message"]["content"] = json.dumps(design)
        return httpx.Response(200, json=out)

    return handle


async def _run(
    client: httpx.AsyncClient, log: MemLog, instruct: str = "", target: str = ""
) -> OptimizationCompleted:
    engine = LLMEngine(xai_config(), log, client, environ={"XAI_API_KEY": "k"})

    async def emit(events: Sequence[Event]) -> object:
        return await log.append(events)

    choice = engine.choose(PROMPT)
    meta = RunMeta(model=choice.model, model_reason=choice.reason)
    agents = engine.agents_for("o1", PROMPT, choice=choice, meta=meta)
    outcome = await run_pipeline(
        OptimizationRequest(text=PROMPT, opt_id="o1", instruct=instruct, target=target),
        agents,
        emit=emit,
        fallback=OfflineAgents(EngineConfig()),
        meta=meta,
    )
    return outcome.completed


@respx.mock
async def test_the_designer_is_told_the_instruction_and_the_target(client, log) -> None:
    seen: list[dict[str, Any]] = []
    respx.post(XAI_URL).mock(side_effect=_handler([SHORT], seen))
    done = await _run(client, log, instruct="under 12 words", target="claude")
    assert tagged(seen[0], "prompt") == PROMPT
    user = seen[0]["messages"][1]["content"]
    assert "<instruction>\nunder 12 words\n</instruction>" in user
    assert "<target_model>" in user and "Claude" in user and "XML tags" in user
    assert "docs.anthropic.com" in user  # the convention's source
    assert "<instruction>" in seen[0]["messages"][0]["content"]  # the meta-prompt explains it
    assert done.optimized == SHORT and done.instruct_unmet == []
    assert (done.instruct, done.target) == ("under 12 words", "claude")


@respx.mock
async def test_a_missed_word_limit_is_sent_back_once_with_the_count(client, log) -> None:
    seen: list[dict[str, Any]] = []
    respx.post(XAI_URL).mock(side_effect=_handler([LONG, SHORT], seen))
    done = await _run(client, log, instruct="under 20 words")
    assert len(seen) == 2
    feedback = tagged_feedback(seen[1])
    n = len(LONG.split())
    assert f"under 20 words: {n} words, over the limit" in feedback
    assert done.optimized == SHORT and done.instruct_unmet == []


@respx.mock
async def test_a_limit_still_missed_after_the_retry_is_reported_unmet(client, log) -> None:
    seen: list[dict[str, Any]] = []
    respx.post(XAI_URL).mock(side_effect=_handler([LONG, LONG], seen))
    done = await _run(client, log, instruct="under 20 words")
    assert len(seen) == 2
    n = len(LONG.split())
    assert done.changed and done.optimized == LONG
    assert [u.split(",")[0] for u in done.instruct_unmet] == [f"under 20 words: {n} words"]


def tagged_feedback(body: dict[str, Any]) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    start = user.index("<feedback>\n") + len("<feedback>\n")
    return str(user[start : user.index("\n</feedback>")])

"""Optimizing a prompt from the editor: what to optimize, and the edit that applies it.

The daemon does the work (``optimize`` with ``source="lsp"``); this module picks the
target (a detected prompt or a selection), turns the answer into a WorkspaceEdit that
keeps the literal valid, and checks the document did not change under it meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgspec
from lsprotocol import types

from promptd.daemon.api import OptimizeParams, OptimizeResult, Progress
from promptd.daemon.values import PROMPT_TYPES

from . import literals
from .detect import Prompt, find_at
from .documents import Document
from .settings import Settings


class TargetError(ValueError):
    """Nothing to optimize here (the message says why and what to do)."""


@dataclass(frozen=True, slots=True)
class Target:
    uri: str
    version: int
    start: int
    end: int
    text: str
    prompt: Prompt | None  # None: a plain selection, replaced as-is


def check_type(prompt_type: str | None) -> str:
    if prompt_type in (None, "", "auto"):
        return "auto"
    if prompt_type not in PROMPT_TYPES:
        raise TargetError(
            f"unknown prompt type {prompt_type!r}: use auto, " + ", ".join(PROMPT_TYPES)
        )
    return prompt_type


def find_target(
    doc: Document, prompts: list[Prompt], start: int, end: int, *, selection: bool
) -> Target:
    """The prompt at [start, end], or (``selection``) the selected text itself."""
    if not selection:
        prompt = find_at(prompts, start, end)
        if prompt is None:
            raise TargetError("no prompt here: put the cursor in a prompt string, or select text")
        if not prompt.editable:
            raise TargetError(prompt.why_not)
        return Target(doc.uri, doc.version, prompt.start, prompt.end, prompt.content, prompt)
    text = doc.text[start:end]
    if not text.strip():
        raise TargetError("the selection is empty: select the text to optimize")
    return Target(doc.uri, doc.version, start, end, text, None)


def params_for(target: Target, prompt_type: str, settings: Settings) -> OptimizeParams:
    return OptimizeParams(
        text=target.text,
        prompt_type=prompt_type,
        engine=settings.engine or None,
        model=settings.model or None,
        source="lsp",
    )


def revalidate(doc: Document, prompts: list[Prompt], target: Target) -> Target:
    """The target in the document as it is now; TargetError if its text changed."""
    if doc.version == target.version:
        return target
    if target.prompt is None:
        if doc.text[target.start : target.end] == target.text:
            return target
        raise TargetError("the selected text changed while it was optimized; nothing applied")
    same = [p for p in prompts if p.content == target.text and p.editable]
    if not same:
        raise TargetError("the prompt changed while it was optimized; nothing applied")
    best = min(same, key=lambda p: abs(p.start - target.start))
    return Target(doc.uri, doc.version, best.start, best.end, best.content, best)


def replacement(target: Target, new_text: str) -> str:
    """The text that replaces the target's range (raises literals.RenderError)."""
    if target.prompt is None:
        return new_text
    return literals.render(target.prompt, new_text)


def workspace_edit(
    doc: Document, target: Target, text: str, encoding: str, *, document_changes: bool
) -> types.WorkspaceEdit:
    rng = doc.index.range(target.start, target.end, encoding)
    edit = types.TextEdit(range=rng, new_text=text)
    if document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=doc.uri, version=doc.version
                    ),
                    edits=[edit],
                )
            ]
        )
    return types.WorkspaceEdit(changes={doc.uri: [edit]})


def progress_report(progress: Progress) -> types.WorkDoneProgressReport:
    message = progress.message
    if progress.agent and progress.agent not in message:
        message = f"{progress.agent}: {message}"
    percentage = None
    if progress.total > 0:
        percentage = max(0, min(100, progress.done * 100 // progress.total))
    return types.WorkDoneProgressReport(message=message, percentage=percentage)


# --- instruction and target model (issue 19) ---------------------------------------------

MAX_INSTRUCTION: Final = 2000


def instruction(options: Any) -> str | None:
    """The instruction in a command's options (``{"instruct": TEXT}``); TargetError if bad."""
    if options is None:
        return None
    if not isinstance(options, dict):
        raise TargetError(
            f'the options argument must be an object like {{"instruct": "..."}}, got {options!r}'
        )
    unknown = sorted(set(options) - {"instruct"})
    if unknown:
        raise TargetError(f"unknown option(s) {', '.join(unknown)}: the only option is instruct")
    value = options.get("instruct")
    if value is None:
        return None
    if not isinstance(value, str):
        raise TargetError(f"instruct must be text, got {value!r}")
    value = value.strip()
    if len(value) > MAX_INSTRUCTION:
        raise TargetError(
            f"the instruction is {len(value)} characters; keep it under {MAX_INSTRUCTION}"
        )
    return value or None


def with_extras(
    params: OptimizeParams, *, instruct: str | None, target: str
) -> OptimizeParams | dict[str, Any]:
    """``params`` plus ``instruct`` and ``target``, sent only when set (a daemon that does
    not know them refuses unknown params, and then says which)."""
    extras: dict[str, Any] = {}
    if instruct:
        extras["instruct"] = instruct
    if target:
        extras["target"] = target
    if not extras:
        return params
    plain: dict[str, Any] = msgspec.to_builtins(params)
    # None is every optional field's default; left out so the progress token can be set.
    return {**{k: v for k, v in plain.items() if v is not None}, **extras}


def decode_result(raw: Any) -> tuple[OptimizeResult, list[str]]:
    """The daemon's optimize answer and its ``instruct_unmet`` (empty when absent)."""
    result = msgspec.convert(raw, OptimizeResult)
    unmet = raw.get("instruct_unmet") if isinstance(raw, dict) else None
    if not isinstance(unmet, list):
        return result, []
    return result, [str(item) for item in unmet]


def unmet_note(unmet: list[str]) -> str:
    return "promptd: instructions not applied: " + "; ".join(unmet)

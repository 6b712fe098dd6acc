"""Diagnostics: the Diagnoser's findings on every prompt of a document, offline.

Severity follows the settings: by default a finding's own severity is mapped down
(error/warning -> Information, info/hint -> Hint), because a prompt that could be better
is not a broken program. Each diagnostic has the rule code and a link to the rule's entry in
docs/rules.md.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any, Final

from lsprotocol import types

from promptd.daemon.values import Finding

from .. import protocol
from .analysis import Checked
from .detect import Prompt
from .documents import LineIndex
from .settings import Settings

SOURCE: Final = "promptd"
# Per document: past this an editor slows down and a person has stopped reading.
MAX_DIAGNOSTICS: Final = 1000
_DEFAULT_SEVERITY: Final = {
    "error": types.DiagnosticSeverity.Information,
    "warning": types.DiagnosticSeverity.Information,
    "info": types.DiagnosticSeverity.Hint,
    "hint": types.DiagnosticSeverity.Hint,
}


@cache
def rules_doc_uri(code: str) -> str:
    """The rule's entry in docs/rules.md of this promptd checkout (a file URI)."""
    doc = Path(__file__).resolve().parents[2] / protocol.RULES_DOC_PATH
    return f"{doc.as_uri()}#{code.lower()}"


def finding_range(prompt: Prompt, finding: Finding, index: LineIndex, encoding: str) -> types.Range:
    """Where a finding is in the document: its span, or the literal's first line."""
    if finding.span is not None:
        start, end = prompt.span(finding.span.start, finding.span.end)
    else:
        start = prompt.start
        line = index.line_of(start)
        line_end = index.starts[line] + len(index.line_text(line))
        end = min(prompt.end, max(line_end, start + 1))
    return index.range(start, end, encoding)


# (literal source, start column, encoding, settings, links) -> the literal's diagnostics as
# JSON text pieces (start line, start character, end line, the rest) whose lines are
# relative to the literal's first line: an edit elsewhere in the document (even one that
# moves the prompt down) reuses them, and publishing a thousand diagnostics is one f-string
# each, with no dicts for the garbage collector to walk.
_CACHE: OrderedDict[tuple[Any, ...], list[tuple[int, int, int, str]]] = OrderedDict()
_CACHE_SIZE: Final = 8192
_dumps: Final = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def _pieces(
    item: Checked, index: LineIndex, settings: Settings, encoding: str, code_links: bool
) -> list[tuple[int, int, int, str]]:
    prompt = item.prompt
    assert item.report is not None
    base = index.line_of(prompt.start)
    out: list[tuple[int, int, int, str]] = []
    for finding in item.report.findings:
        severity = settings.diagnostics_severity or _DEFAULT_SEVERITY.get(
            finding.severity, types.DiagnosticSeverity.Hint
        )
        rng = finding_range(prompt, finding, index, encoding)
        rest: dict[str, Any] = {
            "message": finding.message,
            "severity": int(severity),
            "code": finding.code,
            "source": SOURCE,
        }
        if code_links:
            rest["codeDescription"] = {"href": rules_doc_uri(finding.code)}
        head = (rng.start.line - base, rng.start.character, rng.end.line - base)
        out.append((*head, f"{rng.end.character}}}}},{_dumps(rest)[1:]}"))
    return out


def limit_note(prompts_total: int, prompts_checked: int, shown: int, found: int) -> str:
    """What a capped document's summary diagnostic says ("" when nothing was capped)."""
    parts: list[str] = []
    if prompts_checked < prompts_total:
        parts.append(
            f"this file has {prompts_total} prompts; diagnostics and code lenses cover the "
            f"first {prompts_checked} (the limit per file)"
        )
    if shown < found:
        parts.append(f"{found} findings, the first {shown} shown (the limit per file)")
    if not parts:
        return ""
    return (
        "promptd: "
        + "; ".join(parts)
        + ". Hover and the code actions still work on every prompt; a smaller file is checked "
        "in full."
    )


def prepare(
    item: Checked, index: LineIndex, settings: Settings, encoding: str, code_links: bool = True
) -> list[tuple[int, int, int, str]]:
    """The JSON pieces of one prompt's diagnostics, from the cache or made and cached: a
    caller with many prompts can prepare them a few at a time, and ``encode`` then only
    assembles."""
    prompt = item.prompt
    column = index.position(prompt.start, encoding).character
    key = (index.text[prompt.start : prompt.end], column, encoding, settings, code_links)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _pieces(item, index, settings, encoding, code_links)
        _CACHE[key] = cached
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return cached


def encode(
    checked: list[Checked],
    index: LineIndex,
    settings: Settings,
    encoding: str,
    *,
    code_links: bool = True,
    prompts_total: int | None = None,
    max_diagnostics: int = MAX_DIAGNOSTICS,
    prepared: list[list[tuple[int, int, int, str]]] | None = None,
) -> str:
    """The document's diagnostics as the JSON array text publishDiagnostics carries.

    Each diagnostic has range, severity, code, codeDescription (when the client supports
    it), source and message: what the editor shows, nothing more, written compactly, since
    a large file has a thousand of them and the whole array crosses the pipe on each edit.
    At most ``max_diagnostics`` are sent; when they, or the prompts checked (``checked`` out
    of ``prompts_total``), were capped, a first diagnostic on line 1 says so. ``prepared``:
    what :func:`prepare` gave for each item of ``checked`` (with a report), when the caller
    already has it.
    """
    if not settings.diagnostics_enabled:
        return "[]"
    out: list[str] = []
    found = 0
    reported = [item for item in checked if item.report is not None]
    if prepared is None:
        prepared = [prepare(item, index, settings, encoding, code_links) for item in reported]
    for item, cached in zip(reported, prepared, strict=True):
        line = index.line_of(item.prompt.start)
        found += len(cached)
        room = max_diagnostics - len(out)
        out.extend(
            f'{{"range":{{"start":{{"line":{line + a},"character":{character}}},'
            f'"end":{{"line":{line + b},"character":{rest}'
            for a, character, b, rest in cached[:room]
        )
    total = len(checked) if prompts_total is None else prompts_total
    note = limit_note(total, len(checked), len(out), found)
    if note:
        summary = {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "message": note,
            "severity": int(types.DiagnosticSeverity.Information),
            "source": SOURCE,
        }
        out.insert(0, _dumps(summary))
    return "[" + ",".join(out) + "]"

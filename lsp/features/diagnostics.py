"""Diagnostics: the Diagnoser's findings on every prompt of a document, offline.

Severity follows the settings: by default a finding's own severity is mapped down
(error/warning -> Information, info/hint -> Hint), because a prompt that could be better
is not a broken program. Each diagnostic has the rule code, a link to the rule's entry in
docs/rules.md, and ``data`` that lets a code action find its quick fix.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any, Final

from lsprotocol import types

from daemon.values import Finding

from .. import protocol
from .analysis import Checked
from .detect import Prompt
from .documents import LineIndex
from .settings import Settings

SOURCE: Final = "promptd"
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


# (literal source, start column, encoding, settings, links) -> diagnostics as JSON objects
# whose lines are relative to the literal's first line: an edit elsewhere in the document
# (even one that moves the prompt down) reuses them.
_CACHE: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()
_CACHE_SIZE: Final = 8192


def _relative(
    item: Checked, index: LineIndex, settings: Settings, encoding: str, code_links: bool
) -> list[dict[str, Any]]:
    prompt = item.prompt
    assert item.report is not None
    base = index.line_of(prompt.start)
    out: list[dict[str, Any]] = []
    for number, finding in enumerate(item.report.findings):
        severity = settings.diagnostics_severity or _DEFAULT_SEVERITY.get(
            finding.severity, types.DiagnosticSeverity.Hint
        )
        rng = finding_range(prompt, finding, index, encoding)
        diag: dict[str, Any] = {
            "range": {
                "start": {"line": rng.start.line - base, "character": rng.start.character},
                "end": {"line": rng.end.line - base, "character": rng.end.character},
            },
            "message": finding.message,
            "severity": int(severity),
            "code": finding.code,
            "source": SOURCE,
            "data": {"finding": number},
        }
        if code_links:
            diag["codeDescription"] = {"href": rules_doc_uri(finding.code)}
        out.append(diag)
    return out


def to_json(
    checked: list[Checked],
    index: LineIndex,
    settings: Settings,
    encoding: str,
    *,
    code_links: bool = True,
) -> list[dict[str, Any]]:
    """The document's diagnostics as LSP JSON objects (what publishDiagnostics carries)."""
    if not settings.diagnostics_enabled:
        return []
    out: list[dict[str, Any]] = []
    text = index.text
    for item in checked:
        if item.report is None:
            continue
        prompt = item.prompt
        line = index.line_of(prompt.start)
        column = index.position(prompt.start, encoding).character
        key = (text[prompt.start : prompt.end], column, encoding, settings, code_links)
        cached = _CACHE.get(key)
        if cached is None:
            cached = _relative(item, index, settings, encoding, code_links)
            _CACHE[key] = cached
            if len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        for diag in cached:
            rng = diag["range"]
            out.append(
                {
                    **diag,
                    "range": {
                        "start": {
                            "line": rng["start"]["line"] + line,
                            "character": rng["start"]["character"],
                        },
                        "end": {
                            "line": rng["end"]["line"] + line,
                            "character": rng["end"]["character"],
                        },
                    },
                }
            )
    return out

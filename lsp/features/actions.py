"""Code actions: cheap to list; the optimization itself runs later.

"Optimize prompt" (``refactor.rewrite``) and "Optimize prompt as <type>" carry ``data``
only: the edit is computed in ``codeAction/resolve`` (clients that resolve edits), or the
action carries the ``promptd.optimize`` command (clients that do not). Quick fixes for
findings with a local fix carry their edit at once: it is a pure text change.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from promptd.daemon.values import PROMPT_TYPES

from .. import protocol
from . import literals
from .analysis import Analyzer
from .detect import Prompt, find_at
from .documents import Document, range_json
from .fixes import quick_fix
from .optimize import Target, workspace_edit

REWRITE = types.CodeActionKind.RefactorRewrite
QUICKFIX = types.CodeActionKind.QuickFix


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def _optimize_action(
    title: str,
    uri: str,
    rng: types.Range,
    prompt_type: str,
    selection: bool,
    version: int,
    use_resolve: bool,
    *,
    preferred: bool = False,
) -> types.CodeAction:
    data = {
        "promptd": protocol.ACTION_DATA_KIND,
        "uri": uri,
        "range": range_json(rng),
        "prompt_type": prompt_type,
        "selection": selection,
        "version": version,
    }
    command = None
    if not use_resolve:
        name = protocol.CMD_OPTIMIZE_SELECTION if selection else protocol.CMD_OPTIMIZE
        command = types.Command(
            title=title, command=name, arguments=[uri, range_json(rng), prompt_type]
        )
    return types.CodeAction(
        title=title, kind=REWRITE, data=data, command=command, is_preferred=preferred or None
    )


def list_actions(
    doc: Document,
    prompts: list[Prompt],
    analyzer: Analyzer,
    start: int,
    end: int,
    encoding: str,
    *,
    only: list[str] | None,
    use_resolve: bool,
    document_changes: bool,
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    prompt = find_at(prompts, start, end)
    if prompt is None:
        if end > start and doc.text[start:end].strip() and _wanted(REWRITE, only):
            rng = doc.index.range(start, end, encoding)
            actions.append(
                _optimize_action(
                    "Optimize selection as a prompt",
                    doc.uri,
                    rng,
                    "auto",
                    True,
                    doc.version,
                    use_resolve,
                )
            )
        return actions
    if not prompt.editable:
        return actions
    report, _ = analyzer.lint(prompt.content)
    rng = doc.index.range(prompt.start, prompt.end, encoding)
    if _wanted(REWRITE, only):
        actions.append(
            # Preferred: what Ctrl+. should offer first, before the local quick fixes.
            _optimize_action(
                "Optimize prompt",
                doc.uri,
                rng,
                "auto",
                False,
                doc.version,
                use_resolve,
                preferred=True,
            )
        )
        detected = report.prompt_type if report is not None else ""
        for ptype in PROMPT_TYPES:
            if ptype != detected:
                actions.append(
                    _optimize_action(
                        f"Optimize prompt as {ptype}",
                        doc.uri,
                        rng,
                        ptype,
                        False,
                        doc.version,
                        use_resolve,
                    )
                )
    if report is not None and _wanted(QUICKFIX, only):
        target = Target(doc.uri, doc.version, prompt.start, prompt.end, prompt.content, prompt)
        for finding in report.findings:
            if finding.span is None:
                continue
            f_start, f_end = prompt.span(finding.span.start, finding.span.end)
            if f_end < start or f_start > end:
                continue
            fix = quick_fix(prompt.content, finding)
            if fix is None:
                continue
            title, new_content = fix
            try:
                text = literals.render(prompt, new_content)
            except literals.RenderError:
                continue
            actions.append(
                types.CodeAction(
                    title=f"{title} ({finding.code})",
                    kind=QUICKFIX,
                    edit=workspace_edit(
                        doc, target, text, encoding, document_changes=document_changes
                    ),
                )
            )
    return actions


def parse_data(data: Any) -> dict[str, Any] | None:
    """Our action's data, or None for anyone else's (resolve returns those unchanged)."""
    if isinstance(data, dict) and data.get("promptd") == protocol.ACTION_DATA_KIND:
        return data
    return None

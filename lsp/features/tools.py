"""The prompt tools' code actions: "Extract variables", "Trim prompt" and
"Optimize prompt with instruction…"; cheap to list, the daemon is asked only on resolve.

* "Extract variables" (``refactor.extract``) and "Trim prompt" (``refactor.rewrite.trim``) carry
  ``data`` (``{"promptd": "promptd.tool", "tool": ...}``) and get their edit in
  ``codeAction/resolve``; clients that do not resolve edits get the ``promptd.extractVariables``
  / ``promptd.trim`` command instead.
* "Extract variables" is not offered on a literal that interpolates code (a Python f-string
  with ``{fields}``, a JS template literal with ``${fields}``): a new placeholder there would
  either run as code that names an undefined variable or be escaped into plain text that no
  longer works as a template. Convert the literal to a plain string first.
* "Optimize prompt with instruction…" carries the client-side command
  ``promptd.optimizeWithInstruction``; it is offered only to editors that said (in the
  ``clientCommands`` initialization option) that they implement it.
"""

from __future__ import annotations

from typing import Any, Final

from lsprotocol import types

from promptd.daemon.tools.types import TemplatizeResult, TrimResult

from .. import protocol
from .detect import Prompt
from .documents import range_json

EXTRACT = types.CodeActionKind.RefactorExtract
# Sub-kinds of refactor.rewrite (an ``only: ["refactor.rewrite"]`` request still gets them),
# so "Optimize prompt" and its per-type variants stay the plain refactor.rewrite actions.
TRIM: Final = "refactor.rewrite.trim"
INSTRUCT: Final = "refactor.rewrite.instruct"
TOOLS: Final = ("templatize", "trim")
TITLES: Final = {"templatize": "Extract variables", "trim": "Trim prompt"}
KINDS: Final[dict[str, str]] = {"templatize": EXTRACT, "trim": TRIM}
COMMANDS: Final = {"templatize": protocol.CMD_EXTRACT_VARIABLES, "trim": protocol.CMD_TRIM}
INSTRUCTION_TITLE: Final = "Optimize prompt with instruction…"
# The trim budget sent for trimMaxTokens = 0: below any prompt, so every safe cut is made.
CUT_ALL: Final = 1


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def extract_refusal(prompt: Prompt) -> str:
    """Why "Extract variables" is not safe on this literal ("" when it is)."""
    if prompt.style.fields:
        return (
            "this literal interpolates code ("
            + ", ".join(prompt.style.fields[:3])
            + "): a new placeholder would not be a template variable here; make it a plain"
            " string first"
        )
    return ""


def tool_data(tool: str, uri: str, rng: types.Range, version: int) -> dict[str, Any]:
    return {
        "promptd": protocol.ACTION_DATA_TOOL,
        "tool": tool,
        "uri": uri,
        "range": range_json(rng),
        "version": version,
    }


def list_actions(
    uri: str,
    version: int,
    prompt: Prompt | None,
    rng: types.Range | None,
    *,
    only: list[str] | None,
    use_resolve: bool,
    client_commands: frozenset[str],
) -> list[types.CodeAction]:
    """The tool actions for the prompt at the cursor (none outside an editable prompt)."""
    if prompt is None or rng is None or not prompt.editable:
        return []
    actions: list[types.CodeAction] = []
    for tool in TOOLS:
        if not _wanted(KINDS[tool], only):
            continue
        if tool == "templatize" and extract_refusal(prompt):
            continue
        command = None
        if not use_resolve:
            command = types.Command(
                title=TITLES[tool], command=COMMANDS[tool], arguments=[uri, range_json(rng)]
            )
        actions.append(
            types.CodeAction(
                title=TITLES[tool],
                kind=KINDS[tool],
                data=tool_data(tool, uri, rng, version),
                command=command,
            )
        )
    instruct = protocol.CLIENT_CMD_OPTIMIZE_WITH_INSTRUCTION
    if instruct in client_commands and _wanted(INSTRUCT, only):
        actions.append(
            types.CodeAction(
                title=INSTRUCTION_TITLE,
                kind=INSTRUCT,
                command=types.Command(
                    title=INSTRUCTION_TITLE,
                    command=instruct,
                    arguments=[uri, range_json(rng), "auto"],
                ),
            )
        )
    return actions


def parse_data(data: Any) -> dict[str, Any] | None:
    """A tool action's data, or None for anyone else's."""
    if (
        isinstance(data, dict)
        and data.get("promptd") == protocol.ACTION_DATA_TOOL
        and data.get("tool") in TOOLS
    ):
        return data
    return None


def variables_table(result: TemplatizeResult) -> str:
    """The extracted values, one a line, for a message: ``{placeholder} = value``."""
    if not result.variables:
        return "promptd: no values to extract (nothing that changes between uses was found)"
    lines = [f"promptd: extracted {len(result.variables)} variable(s) ({result.style} syntax):"]
    for var in result.variables:
        value = var.value if len(var.value) <= 80 else var.value[:77] + "…"
        times = f" ×{var.occurrences}" if var.occurrences > 1 else ""
        lines.append(f"  {var.placeholder} = {value!r} ({var.kind}{times})")
    return "\n".join(lines)


def trim_note(result: TrimResult) -> str:
    """Tokens before → after, and what went, for the progress end or a message."""
    note = f"promptd: trimmed {result.tokens_before} → {result.tokens_after} tokens"
    note += f" ({result.encoding}{', ' + result.estimate if result.estimate else ''})"
    if result.removals:
        kinds = sorted({r.kind for r in result.removals})
        note += "; removed " + ", ".join(kinds)
    if not result.fits and result.reason and result.max_tokens > CUT_ALL:
        note += f"; {result.reason}"
    return note


def trim_budget(max_tokens: int) -> int:
    """The ``max_tokens`` sent to the daemon for the trimMaxTokens setting."""
    return max_tokens if max_tokens > 0 else CUT_ALL

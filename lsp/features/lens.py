"""Code lens above each prompt: "Optimize · score 54", running promptd.optimize."""

from __future__ import annotations

from lsprotocol import types

from .. import protocol
from .analysis import Checked
from .documents import LineIndex, range_json
from .settings import Settings


def lenses(
    uri: str, checked: list[Checked], index: LineIndex, settings: Settings, encoding: str
) -> list[types.CodeLens]:
    if not settings.code_lens:
        return []
    out: list[types.CodeLens] = []
    for item in checked:
        prompt = item.prompt
        if not prompt.editable:
            continue
        rng = index.range(prompt.start, prompt.end, encoding)
        title = "Optimize" if item.report is None else f"Optimize · score {item.report.score}"
        out.append(
            types.CodeLens(
                range=types.Range(start=rng.start, end=rng.start),
                command=types.Command(
                    title=title,
                    command=protocol.CMD_OPTIMIZE,
                    arguments=[uri, range_json(rng)],
                ),
            )
        )
    return out
